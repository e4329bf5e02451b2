"""Incremental marks live in the database, in the changing transaction: a change is never lost to
the rollup because Redis or the broker was down, and the job deletes only the marks it rolled up."""

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from grid import rollup
from grid.models import DirtyCell, MetricValue

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.fixture
def marking(settings):
    settings.METRICS_ROLLUP_ON_COMMIT = True
    DirtyCell.objects.all().delete()


def _received(node) -> int | None:
    today = timezone.localdate()
    cell = MetricValue.objects.filter(
        node=node, metric="tickets_received", period_kind="day", period_start=today, dimension=""
    ).first()
    return cell and cell.value


def test_a_change_made_while_redis_is_down_succeeds_and_is_rolled_up_later(
    marking, loop, django_capture_on_commit_callbacks, caplog
):
    with override_settings(CACHES=UNREACHABLE_REDIS), django_capture_on_commit_callbacks(execute=True):
        ticket = loop.ticket()  # the on-commit scheduling fails: logged, not raised
    assert "periodic sweep" in caplog.text
    assert ticket.pk and set(DirtyCell.objects.values_list("metric", flat=True)) >= {"tickets_received"}
    assert _received(loop.demo.beihai) is None

    rollup.rollup_dirty_cells()  # the sweep, once a worker runs again
    assert _received(loop.demo.beihai) == 1
    assert not DirtyCell.objects.exists()


def test_a_rolled_back_change_leaves_no_mark(marking, loop):
    with pytest.raises(RuntimeError), transaction.atomic():
        loop.ticket()
        raise RuntimeError("the request failed after the ticket was written")
    assert not DirtyCell.objects.exists()


def test_a_mark_committed_while_the_job_runs_is_kept_for_the_next_run(marking, loop, monkeypatch):
    loop.ticket()
    original = rollup.rollup_metric
    late = []

    def rollup_while_another_change_commits(metric, start, end, **kwargs):
        if not late:  # a change that commits after the job read the marks
            late.append(loop.ticket())
        return original(metric, start, end, **kwargs)

    monkeypatch.setattr(rollup, "rollup_metric", rollup_while_another_change_commits)
    rollup.rollup_dirty_cells()
    remaining = set(DirtyCell.objects.values_list("metric", flat=True))
    assert "tickets_received" in remaining  # the late change's marks survive the first run
    monkeypatch.setattr(rollup, "rollup_metric", original)
    rollup.rollup_dirty_cells()
    assert _received(loop.demo.beihai) == 2 and not DirtyCell.objects.exists()
