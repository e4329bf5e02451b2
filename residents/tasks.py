from celery import shared_task

from residents import importer
from residents.models import ImportJob


@shared_task(name="residents.tasks.run_import")
def run_import(job_id: int) -> str:
    """Run a ledger import. Safe to run twice: a finished job is left as it is, and the import
    itself matches existing residents by ID number."""
    job = ImportJob.objects.select_related("created_by", "scope_node").get(pk=job_id)
    if job.finished_at is not None:
        return job.status
    return importer.run(job).status
