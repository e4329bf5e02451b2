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


def _posted(page) -> dict:
    """The admin change form as the browser would send it back unchanged."""
    data = {}
    form = page.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif hasattr(value, "isoformat"):
            value = timezone.localtime(value) if hasattr(value, "tzinfo") and value.tzinfo else value
            data[name] = value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "hour") else value.isoformat()
        else:
            data[name] = "on" if value is True else str(value)
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    return data


def test_moving_an_event_in_the_admin_moves_its_figures(marking, loop, client):
    import datetime

    from services import services as service_services
    from services.demo import ensure_kinds
    from services.models import ServiceEvent

    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0) - datetime.timedelta(
        days=40
    )
    event = service_services.event_create(
        node=loop.demo.beihai,
        kind=ensure_kinds()["volunteer"],
        title="义诊",
        organizer_kind="community",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
    )
    rollup.rebuild()
    DirtyCell.objects.all().delete()
    client.force_login(loop.secretary)
    url = f"/admin/services/serviceevent/{event.pk}/change/"
    data = _posted(client.get(url))
    moved = start - datetime.timedelta(days=35)
    data.update(
        {
            "starts_at_0": moved.strftime("%Y-%m-%d"),
            "starts_at_1": moved.strftime("%H:%M:%S"),
            "ends_at_0": moved.strftime("%Y-%m-%d"),
            "ends_at_1": (moved + datetime.timedelta(hours=2)).strftime("%H:%M:%S"),
        }
    )
    answer = client.post(url, data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    assert ServiceEvent.objects.get(pk=event.pk).starts_at == moved
    rollup.rollup_dirty_cells()

    def held(day):
        cell = MetricValue.objects.filter(
            node=loop.demo.beihai, metric="events_held", period_kind="day", period_start=day, dimension=""
        ).first()
        return cell.value if cell else 0

    assert held(start.date()) == 0 and held(moved.date()) == 1


def test_nearby_dirty_days_roll_up_as_one_span():
    import datetime

    day = datetime.date(2026, 3, 1)
    days = [day + datetime.timedelta(days=n) for n in (0, 1, 2, 9, 30, 31)]
    assert rollup.dirty_spans(days) == [
        (day, day + datetime.timedelta(days=10)),  # 3 March to 10 March: six clean days between
        (day + datetime.timedelta(days=30), day + datetime.timedelta(days=32)),
    ]
    assert rollup.dirty_spans(days[::-1]) == rollup.dirty_spans(days) and rollup.dirty_spans([]) == []
