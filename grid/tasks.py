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
