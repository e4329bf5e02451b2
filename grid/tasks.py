import socket

from celery import shared_task
from django.utils import timezone

from grid.models import WorkerHeartbeat


@shared_task(name="grid.tasks.record_heartbeat", ignore_result=False)
def record_heartbeat() -> dict:
    """Record that a worker is alive and reaches the database. Safe to run any number of times:
    it upserts one row per worker host."""
    hostname = socket.gethostname()
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": now})
    return {"hostname": hostname, "seen_at": now.isoformat()}


@shared_task(name="grid.tasks.rollup_dirty")
def rollup_dirty() -> int:
    """Roll up the metric cells touched by recent changes (debounced). Safe to run twice: cells are
    recomputed from the facts, never incremented."""
    from grid.rollup import rollup_dirty_cells

    return rollup_dirty_cells()


@shared_task(name="grid.tasks.rollup_recent")
def rollup_recent() -> int:
    """Recompute the recent periods of every metric (the beat job)."""
    from grid.rollup import rollup_recent as recent

    return recent()
