"""A real Celery worker process, talking to the real Redis and PostgreSQL."""

import time

import pytest
from django.conf import settings

from config.celery_app import app
from grid.models import WorkerHeartbeat

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_task_sent_through_redis_is_run_by_a_real_worker_and_writes_its_result(worker):
    app.conf.task_always_eager = False
    try:
        started = time.monotonic()
        result = app.send_task("grid.tasks.record_heartbeat", queue=worker)
        payload = result.get(timeout=60)  # the result comes back through the Redis result backend
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    row = WorkerHeartbeat.objects.get(hostname=payload["hostname"])
    assert row.seen_at.isoformat() == payload["seen_at"]
    assert time.monotonic() - started < 60
    # Running it again is safe: one row per worker, moved forward.
    app.conf.task_always_eager = False
    try:
        second = app.send_task("grid.tasks.record_heartbeat", queue=worker).get(timeout=60)
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    assert WorkerHeartbeat.objects.filter(hostname=payload["hostname"]).count() == 1
    assert WorkerHeartbeat.objects.get(hostname=payload["hostname"]).seen_at.isoformat() == second["seen_at"]


def test_a_large_ledger_import_runs_in_the_worker(worker, demo):
    """Large ledgers go to a worker; the job row shows the outcome when it is done."""
    from django.core.files.base import ContentFile

    from grid.models import GridNode
    from residents.choices import ImportStatus
    from residents.models import ImportJob, Resident
    from tests.residents.factories import make_id
    from tests.residents.test_import import _row, _xlsx

    unit = GridNode.objects.filter(path__startswith=demo.grid_a.path, level="unit").order_by("path").first()
    rows = [
        _row(unit.code, f"{n // 3 + 1}01", f"居民{n}", "户主" if n % 3 == 0 else "子女", make_id())
        for n in range(60)
    ]
    job = ImportJob.objects.create(
        file=ContentFile(_xlsx(rows), name="ledger.xlsx"),
        original_name="ledger.xlsx",
        mode="all_or_nothing",
        scope_node=demo.beihai,
        created_by=demo.user("bhxc_secretary"),
    )
    app.conf.task_always_eager = False
    try:
        status = app.send_task("residents.tasks.run_import", args=[job.pk], queue=worker).get(timeout=120)
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    job.refresh_from_db()
    assert status == job.status == ImportStatus.DONE, job.errors
    assert (job.created_count, job.processed_rows, job.progress_percent) == (60, 60, 100)
    assert Resident.objects.filter(name__startswith="居民", household__node=unit).count() == 60


def test_the_periodic_ticket_jobs_run_in_a_real_worker(worker, demo):
    import datetime

    from django.utils import timezone

    from demands import services as ticket_services
    from demands.choices import Level, TicketStatus
    from demands.models import Ticket
    from tests.demands.conftest import Loop

    loop = Loop(demo)
    late = loop.ticket()
    Ticket.objects.filter(pk=late.pk).update(response_due=timezone.now() - datetime.timedelta(minutes=5))
    resolved = ticket_services.ticket_resolve(
        ticket=ticket_services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a),
        actor=loop.worker_a,
        note="ok",
    )
    Ticket.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now() - datetime.timedelta(days=8))
    app.conf.task_always_eager = False
    try:
        escalated = app.send_task("demands.tasks.escalate_overdue", queue=worker).get(timeout=120)
        closed = app.send_task("demands.tasks.auto_close_resolved", queue=worker).get(timeout=120)
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    assert (escalated, closed) == (1, 1)
    late.refresh_from_db()
    assert (late.level, late.is_overdue) == (Level.COMMUNITY, True)
    assert Ticket.objects.get(pk=resolved.pk).status == TicketStatus.CLOSED


def test_a_change_is_rolled_up_by_the_incremental_job_in_a_real_worker(worker, demo, settings):

    from django.core.cache import cache
    from django.utils import timezone

    from grid import rollup
    from grid.models import DirtyCell, MetricValue
    from tests.demands.conftest import Loop

    settings.METRICS_ROLLUP_ON_COMMIT = True
    DirtyCell.objects.all().delete()
    cache.delete(rollup.SCHEDULED_KEY)
    loop = Loop(demo)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = worker
    try:
        for _ in range(3):  # a burst of changes: rolled up once, after the debounce
            loop.ticket()
        today = timezone.localdate()
        deadline = time.monotonic() + 60
        cell = None
        while time.monotonic() < deadline:
            cell = MetricValue.objects.filter(
                node=demo.beihai,
                metric="tickets_received",
                period_kind="day",
                period_start=today,
                dimension="",
            ).first()
            if cell is not None and cell.value == 3:
                break
            time.sleep(0.5)
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
        app.conf.task_default_queue = "celery"
    assert cell is not None and cell.value == 3
    month = MetricValue.objects.get(
        node=demo.street,
        metric="tickets_received",
        period_kind="month",
        period_start=today.replace(day=1),
        dimension="",
    )
    assert month.value == 3
