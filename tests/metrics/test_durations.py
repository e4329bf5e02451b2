"""Response and resolution times (mean, median, 90th percentile), rating coverage and the visit
coverage of red and yellow households, each checked against the raw records."""

import datetime
import math
from collections import Counter

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from demands.models import Ticket
from grid import histogram, rollup
from grid.models import GridNode, MetricValue

pytestmark = pytest.mark.django_db

# Minutes from report to acceptance, from a few minutes to over a month.
RESPONSES = [3, 25, 47, 95, 130, 200, 400, 800, 1500, 3000, 5000, 9000, 20000, 50000]


@pytest.fixture
def timed(loop):
    """Tickets in grids of different sizes, accepted and closed after known durations."""
    demo = loop.demo
    buildings = list(GridNode.objects.filter(path__startswith=demo.beihai.path, level="building")[:9])
    buildings += list(
        GridNode.objects.filter(path__startswith=demo.other_community.path, level="building")[:2]
    )
    now = timezone.now()
    for index in range(70):
        ticket = loop.ticket(node=buildings[(index * 5) % len(buildings)])
        respond = datetime.timedelta(minutes=RESPONSES[index % len(RESPONSES)] + index)
        resolve = datetime.timedelta(minutes=30 * (index % 9) + 7 * index)
        created = now - respond - resolve - datetime.timedelta(days=index % 50, minutes=index)
        closed = index % 4 != 0
        resolved = created + respond + resolve
        rated = closed and index % 3
        # Rated tickets close at the rating, a few hours after resolution; the others a week later.
        wait = datetime.timedelta(hours=index % 5) if rated else datetime.timedelta(days=7)
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=created,
            accepted_at=created + respond,
            status="closed" if closed else "accepted",
            resolved_at=resolved if closed else None,
            closed_at=min(resolved + wait, now) if closed else None,
            rating=(index % 5) + 1 if rated else None,
            rated_at=min(resolved + wait, now) if rated else None,
        )
    return loop


def _width(bucket: int) -> int:
    return next((width for limit, width in histogram.BUCKETS if bucket < limit), 0)


def _durations(node, kind, start, field, to=None, **filters) -> list[int]:
    """Minutes from report to `to` (by default `field`) of the tickets dated by `field` in the period."""
    low, high = rollup._bounds(start, rollup.period_end(kind, start))
    rows = Ticket.objects.filter(
        node__path__startswith=node.path, **{f"{field}__gte": low, f"{field}__lt": high}, **filters
    ).values_list("created_at", to or field)
    return [max(int((end - begin).total_seconds() // 60), 0) for begin, end in rows]


def _interpolated(minutes: list[int], q: int) -> float:
    """The percentile as the histogram gives it, worked out here from the raw durations."""
    counts = Counter(histogram.bucket_of(m) for m in minutes)
    target, before = len(minutes) * q / 100, 0
    for bucket in sorted(counts):
        if before < target <= before + counts[bucket]:
            return bucket + _width(bucket) * (target - before) / counts[bucket]
        before += counts[bucket]
    raise AssertionError("no bucket holds the percentile")


def _stored(node, metric, kind, start, dimension=""):
    return (
        MetricValue.objects.filter(
            node=node, metric=metric, period_kind=kind, period_start=start, dimension=dimension
        )
        .values_list("value", "denominator")
        .first()
    )


def test_the_database_puts_every_duration_in_the_bucket_the_rule_gives(loop):
    """Whole minutes and buckets as the database computes them, at and just around every bucket
    bound (a microsecond short of a minute stays in the minute before), equal the Python rule."""
    ticket = loop.ticket(node=loop.demo.grid_a)
    created = timezone.now().replace(microsecond=0)
    minutes = sorted(
        {0, 1, 59, *histogram.LOWER_BOUNDS, *(b - 1 for b in histogram.LOWER_BOUNDS[1:]), 99_999}
    )
    durations = [datetime.timedelta(minutes=m) for m in minutes]
    durations += [datetime.timedelta(minutes=m) - datetime.timedelta(microseconds=1) for m in minutes if m]
    durations.append(-datetime.timedelta(minutes=5))  # accepted before it was created: 0
    for duration in durations:
        Ticket.objects.filter(pk=ticket.pk).update(created_at=created, accepted_at=created + duration)
        row = Ticket.objects.filter(pk=ticket.pk).annotate(
            m=histogram.MinutesBetween("created_at", "accepted_at"),
            b=histogram.MinuteBucket("created_at", "accepted_at"),
        )
        whole = max(int(duration.total_seconds() // 60), 0)
        assert row.values_list("m", "b").get() == (whole, histogram.bucket_of(whole)), duration


@pytest.mark.parametrize(
    ("metric", "field", "filters"),
    [
        ("response_minutes", "accepted_at", {}),
        # Counted when closed, measured to the resolution (not to the wait for a rating).
        ("resolution_minutes", "closed_at", {"status": "closed", "to": "resolved_at"}),
    ],
)
def test_percentiles_and_means_match_the_raw_durations_for_several_nodes_and_periods(
    timed, metric, field, filters
):
    rollup.rebuild([rollup.REGISTRY[metric]])
    demo = timed.demo
    today = timezone.localdate()
    periods = [
        ("month", today.replace(day=1)),
        ("month", (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)),
        ("quarter", rollup.period_start("quarter", today)),
        ("year", today.replace(month=1, day=1)),
    ]
    checked = 0
    for node in (demo.street, demo.beihai, demo.other_community, demo.grid_a, demo.grid_b):
        for kind, start in periods:
            minutes = _durations(node, kind, start, field, **filters)
            if not minutes:
                assert _stored(node, metric, kind, start, "p=50") is None
                continue
            # the mean, from total minutes over the count
            total, count = _stored(node, metric, kind, start)
            assert count == len(minutes)
            assert total == sum(minutes)
            for q in (50, 90):
                value, of = _stored(node, metric, kind, start, f"p={q}")
                assert of == len(minutes)
                assert float(value) == pytest.approx(_interpolated(minutes, q), abs=0.006), (node, kind, q)
                # and within one bucket of the exact (nearest-rank) percentile; past 30 days the
                # last, open bucket says "30 days or more"
                exact = sorted(minutes)[math.ceil(len(minutes) * q / 100) - 1]
                if exact >= histogram.OPEN_FROM:
                    assert value == histogram.OPEN_FROM
                else:
                    assert abs(float(value) - exact) <= _width(histogram.bucket_of(exact)) + 1
            checked += 1
    assert checked >= 12
    # percentiles are kept from the month up; days and weeks keep the mean only
    kinds = set(
        MetricValue.objects.filter(metric=metric, dimension__startswith="p=").values_list(
            "period_kind", flat=True
        )
    )
    assert kinds == {"month", "quarter", "year"}


def test_the_portable_engine_writes_the_same_percentiles(timed, monkeypatch):
    metrics = [rollup.REGISTRY["response_minutes"], rollup.REGISTRY["resolution_minutes"]]
    rollup.rebuild(metrics)
    fast = sorted(
        MetricValue.objects.values_list(
            "node", "metric", "period_kind", "period_start", "dimension", "value", "denominator"
        )
    )
    MetricValue.objects.all().delete()
    monkeypatch.setattr(rollup, "_fast", lambda: False)
    rollup.rebuild(metrics)
    portable = sorted(
        MetricValue.objects.values_list(
            "node", "metric", "period_kind", "period_start", "dimension", "value", "denominator"
        )
    )
    assert [row for row in fast if row[4].startswith("p=")]
    assert portable == fast


def test_clearing_an_old_acceptance_takes_it_out_of_that_days_response_times(
    timed, settings, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from demands import services
    from grid.models import DirtyCell

    settings.METRICS_ROLLUP_ON_COMMIT = True
    cache.delete(rollup.SCHEDULED_KEY)
    DirtyCell.objects.all().delete()
    rollup.rebuild([rollup.REGISTRY["response_minutes"]])
    today = timezone.localdate()
    ticket = next(
        t
        for t in Ticket.objects.filter(status="closed").order_by("accepted_at")
        if timezone.localtime(t.accepted_at).date() < today - datetime.timedelta(days=3)
    )
    day = timezone.localtime(ticket.accepted_at).date()
    month = day.replace(day=1)
    street = timed.demo.street
    count = _stored(street, "response_minutes", "day", day)[1]
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reopen(ticket=ticket, actor=timed.staff, note="还是漏水")
    assert (_stored(street, "response_minutes", "day", day) or (0, 0))[1] == count - 1
    minutes = _durations(street, "month", month, "accepted_at")
    assert _stored(street, "response_minutes", "month", month, "p=50")[1] == len(minutes)
    assert float(_stored(street, "response_minutes", "month", month, "p=50")[0]) == pytest.approx(
        _interpolated(minutes, 50), abs=0.006
    )


def test_rating_coverage_counts_the_closed_tickets_that_were_rated(timed):
    rollup.rebuild([rollup.REGISTRY["rating_coverage"]])
    today = timezone.localdate()
    for node in (timed.demo.street, timed.demo.beihai, timed.demo.grid_a):
        for kind in ("week", "month", "year"):
            start = rollup.period_start(kind, today)
            low, high = rollup._bounds(start, rollup.period_end(kind, start))
            expected = Ticket.objects.filter(
                node__path__startswith=node.path, status="closed", closed_at__gte=low, closed_at__lt=high
            ).aggregate(rated=Count("id", filter=Q(rating__isnull=False)), closed=Count("id"))
            stored = _stored(node, "rating_coverage", kind, start) or (0, None)
            assert (stored[0], stored[1] or 0) == (expected["rated"], expected["closed"])
    assert _stored(timed.demo.street, "rating_coverage", "year", today.replace(month=1, day=1))[0] > 0


def test_red_and_yellow_households_visited_are_counted_once_each(register):
    from residents.models import Household
    from services.models import Visit

    worker = register.demo.user("bhxc_g1_a")
    now = timezone.localtime()
    month = now.date().replace(day=1)
    register.home_a.colour = "red"
    register.home_a.save()
    register.home_a2.colour = ""
    register.home_a2.save()
    for when in (now, now - datetime.timedelta(minutes=5)):  # twice: counted once
        Visit.objects.create(household=register.home_a, visitor=worker, findings="x", visited_at=when)
    Visit.objects.create(household=register.home_a2, visitor=worker, findings="x", visited_at=now)
    rollup.rebuild(
        [rollup.REGISTRY[code] for code in ("key_households_visited", "households_visited", "key_households")]
    )
    grid = register.demo.grid_a
    assert _stored(grid, "key_households_visited", "month", month)[0] == 1
    assert _stored(grid, "households_visited", "month", month)[0] == 2
    key = Household.objects.filter(node__path__startswith=grid.path, colour__in=["red", "yellow"]).count()
    assert key >= 1 and _stored(grid, "key_households", "month", month)[0] == key


def test_the_upgrade_marks_every_day_with_closed_tickets_for_the_new_resolution_time(timed):
    import importlib

    from django.apps import apps

    from grid.models import DirtyCell

    DirtyCell.objects.all().delete()
    upgrade = importlib.import_module("demands.migrations.0006_resolution_time_to_resolved")
    upgrade.mark_days(apps, None)
    closed_days = {timezone.localtime(t.closed_at).date() for t in Ticket.objects.filter(status="closed")}
    marks = DirtyCell.objects.filter(metric="resolution_minutes")
    assert set(marks.values_list("day", flat=True)) == closed_days and marks.count() == len(closed_days)
