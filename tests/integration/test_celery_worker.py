"""A real Celery worker process, talking to the real Redis and PostgreSQL."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery_app import app
from grid.models import WorkerHeartbeat

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    """Start `celery worker` on a private queue against the test database; stop it afterwards."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output[-4000:])


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
