"""The one Celery app. Configuration comes from Django settings under the CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def periodic(task: str, seconds: float, *, expires: float | None = None, **options) -> dict:
    """A beat entry whose run expires before the next one is due, so a backlog never runs stale work."""
    return {
        "task": task,
        "schedule": seconds,
        "options": {"expires": expires if expires is not None else seconds * 0.9, **options},
    }


# The whole beat schedule, in one reviewed place.
app.conf.beat_schedule = {
    "worker-heartbeat": periodic("grid.tasks.record_heartbeat", 60),
    "tickets-escalate-overdue": periodic("demands.tasks.escalate_overdue", 5 * 60),
    "tickets-hand-over-orphaned": periodic("demands.tasks.hand_over_orphaned", 5 * 60),
    "tickets-auto-close": periodic("demands.tasks.auto_close_resolved", 60 * 60),
    "metrics-recent": periodic("grid.tasks.rollup_recent", 15 * 60),
    # Marks left by changes whose job was never scheduled (Redis or broker down) or never finished.
    "metrics-dirty-sweep": periodic("grid.tasks.rollup_dirty", 60),
}
