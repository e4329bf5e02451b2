import datetime
import threading

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from demands.models import Ticket
from grid import rollup, rollup_sql
from grid.models import GridNode, MetricValue
from tests.demands.test_concurrency import _race

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(loop):
    """Tickets spread over the last 40 days in grids of different sizes, some closed and rated."""
    from demands import services

    now = timezone.now()
    buildings = list(GridNode.objects.filter(path__startswith=loop.demo.beihai.path, level="building")[:12])
    buildings += list(
        GridNode.objects.filter(path__startswith=loop.demo.other_community.path, level="building")[:2]
    )
    for index in range(60):
        ticket = loop.ticket(node=buildings[(index * 7) % len(buildings)])
        when = now - datetime.timedelta(days=index % 40, hours=index % 5)
        if index % 3 == 0:
            ticket = services.ticket_resolve(
                ticket=services.ticket_accept(ticket=ticket, actor=ticket.assignee),
                actor=ticket.assignee,
                note="ok",
            )
            services.ticket_rate(ticket=ticket, rating=(index % 5) + 1 if index % 2 else 5)
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=when,
            closed_at=when + datetime.timedelta(hours=3) if index % 3 == 0 else None,
            rated_at=when + datetime.timedelta(hours=3) if index % 3 == 0 else None,
            is_overdue=index % 4 == 0,
        )
    return loop


def _cell(node, metric, kind, start, dimension=""):
    row = MetricValue.objects.filter(
        node=node, metric=metric, period_kind=kind, period_start=start, dimension=dimension
    ).first()
    return (row.value, row.denominator) if row else (0, None)


def _direct(node, start, end, **filters):
    low, high = rollup._bounds(start, end)
    return Ticket.objects.filter(
        node__path__startswith=node.path, created_at__gte=low, created_at__lt=high, **filters
    ).count()


def test_rolled_up_figures_equal_direct_counts_for_several_nodes_and_periods(history):
    rollup.rebuild()
    today = timezone.localdate()
    demo = history.demo
    nodes = [demo.street, demo.beihai, demo.other_community, demo.grid_a, demo.grid_b]
    for node in nodes:
        for kind in ("day", "week", "month", "quarter", "year"):
            for back in (0, 9, 33):
                start = rollup.period_start(kind, today - datetime.timedelta(days=back))
                end = rollup.period_end(kind, start)
                value, _den = _cell(node, "tickets_received", kind, start)
                assert value == _direct(node, start, end), (node.name, kind, start)
    # a category breakdown, and a rate kept as numerator and denominator
    month = today.replace(day=1)
    low, high = rollup._bounds(month, rollup.period_end("month", month))
    value, _den = _cell(demo.beihai, "tickets_received", "month", month, "category=environment")
    assert value == _direct(
        demo.beihai, month, rollup.period_end("month", month), category__code="environment"
    )
    closed = Ticket.objects.filter(
        node__path__startswith=demo.street.path, status="closed", closed_at__gte=low, closed_at__lt=high
    )
    expected = closed.aggregate(on_time=Count("id", filter=Q(is_overdue=False)), all=Count("id"))
    assert _cell(demo.street, "tickets_on_time", "month", month) == (expected["on_time"], expected["all"])


def test_a_parents_rate_comes_from_its_own_sums_not_the_mean_of_its_childrens(history):
    rollup.rebuild()
    year = timezone.localdate().replace(month=1, day=1)
    street = _cell(history.demo.street, "satisfaction", "year", year)
    children = [_cell(child, "satisfaction", "year", year) for child in history.demo.street.child_nodes.all()]
    assert street[0] == sum(c[0] for c in children) and street[1] == sum(c[1] or 0 for c in children)


def test_running_the_rollup_again_changes_nothing(history):
    rollup.rebuild()
    before = sorted(
        MetricValue.objects.values_list(
            "node", "metric", "period_kind", "period_start", "dimension", "value", "denominator"
        )
    )
    rollup.rebuild()
    rollup.rollup_recent()
    after = sorted(
        MetricValue.objects.values_list(
            "node", "metric", "period_kind", "period_start", "dimension", "value", "denominator"
        )
    )
    assert after == before


@pytest.mark.django_db(transaction=True)
def test_two_rollups_at_once_never_double_count(history):
    metric = rollup.REGISTRY["tickets_received"]
    today = timezone.localdate()
    start = today - datetime.timedelta(days=45)
    outcomes = _race(
        lambda: rollup.rollup_metric(metric, start, today + datetime.timedelta(days=1)),
        lambda: rollup.rollup_metric(metric, start, today + datetime.timedelta(days=1)),
    )
    assert [kind for kind, _value in outcomes] == ["ok", "ok"], outcomes
    year = today.replace(month=1, day=1)
    value, _den = _cell(history.demo.street, "tickets_received", "year", year)
    assert value == _direct(history.demo.street, year, rollup.period_end("year", year))


def test_distinct_households_are_not_summed_over_days(register):
    from services.models import Visit

    worker = register.demo.user("bhxc_g1_a")
    now = timezone.localtime()
    # Three days running within one year, whatever day the test runs on.
    last = now if now.timetuple().tm_yday >= 3 else now.replace(year=now.year - 1, month=12, day=29)
    for days_ago in (0, 1, 2):  # the same household three days running
        Visit.objects.create(
            household=register.home_a,
            visitor=worker,
            findings="x",
            visited_at=last - datetime.timedelta(days=days_ago),
        )
    rollup.rebuild([rollup.REGISTRY["households_visited"], rollup.REGISTRY["visits_done"]])
    year = last.date().replace(month=1, day=1)
    assert _cell(register.demo.grid_a, "households_visited", "year", year)[0] == 1
    assert _cell(register.demo.grid_a, "visits_done", "year", year)[0] == 3


def test_the_portable_path_gives_the_same_cells_as_the_postgresql_path(history, monkeypatch):
    """`make run` on SQLite uses the portable path; both must agree cell for cell."""

    def cells():
        return sorted(
            MetricValue.objects.values_list(
                "node", "metric", "period_kind", "period_start", "dimension", "value", "denominator"
            )
        )

    rollup.rebuild()
    fast = cells()
    MetricValue.objects.all().delete()
    monkeypatch.setattr(rollup, "_fast", lambda: False)
    rollup.rebuild()
    assert cells() == fast


def test_ancestors_found_by_lookups_or_by_a_hashed_join_give_the_same_cells(history, register, monkeypatch):
    """Few staged leaves: an index lookup per leaf and depth; many: one join with the tree."""
    from services.models import Visit

    Visit.objects.create(
        household=register.home_b,
        visitor=register.demo.user("bhxc_g1_a"),
        findings="x",
        visited_at=timezone.now(),
    )
    rollup.rebuild()
    by_lookups = _cells()
    assert {row[1] for row in by_lookups} >= {"tickets_received", "households", "visit_coverage"}
    MetricValue.objects.all().delete()
    monkeypatch.setattr(rollup_sql, "MANY_LEAVES", 0)
    rollup.rebuild()
    assert _cells() == by_lookups


def _cells(metric=None):
    rows = MetricValue.objects.all()
    if metric:
        rows = rows.filter(metric=metric)
    return sorted(
        rows.values_list("node", "metric", "period_kind", "period_start", "dimension", "value", "denominator")
    )


# Few touched nodes: their stored cells are read node by node; many (here: any): as one range
# of the period index. Both reads must give the same cells.
@pytest.mark.parametrize("many_touched", [rollup_sql.MANY_TOUCHED, 0])
def test_an_incremental_run_gives_the_cells_a_rebuild_gives_and_drops_vanished_ones(
    history, many_touched, monkeypatch
):
    """New, moved and deleted facts on two days (one in an earlier month); only those days re-run."""
    monkeypatch.setattr(rollup_sql, "MANY_TOUCHED", many_touched)
    metric = rollup.REGISTRY["tickets_received"]
    rollup.rebuild([metric])
    today = timezone.localdate()
    earlier = today.replace(day=1) - datetime.timedelta(days=3)  # always in the previous month
    demo = history.demo
    for _ in range(3):
        history.ticket(node=demo.grid_b)
    moved = Ticket.objects.filter(node__path__startswith=demo.beihai.path).order_by("pk").first()
    # the only ticket of its grid that day (and so that month): its cells must vanish
    lonely = GridNode.objects.filter(level="grid", path__startswith=demo.other_community.path).last()
    assert not Ticket.objects.filter(node__path__startswith=lonely.path).exists()
    gone = history.ticket(node=lonely)
    Ticket.objects.filter(pk=gone.pk).update(created_at=gone.created_at - datetime.timedelta(days=40))
    gone.refresh_from_db()
    rollup.rebuild([metric])
    low, _high = rollup._bounds(earlier, earlier)
    Ticket.objects.filter(pk=moved.pk).update(node=demo.grid_b, created_at=low + datetime.timedelta(hours=9))
    gone_day = timezone.localtime(gone.created_at).date()
    gone.events.all().delete()
    Ticket.objects.filter(pk=gone.pk).delete()
    moved_from = timezone.localtime(moved.created_at).date()

    for day in sorted({today, earlier, moved_from, gone_day}):
        rollup.rollup_metric(metric, day, day + datetime.timedelta(days=1))
    incremental = _cells("tickets_received")
    assert not MetricValue.objects.filter(node=lonely, metric="tickets_received").exists()
    MetricValue.objects.all().delete()
    rollup.rebuild([metric])
    assert incremental == _cells("tickets_received")
    # and the counts are the raw counts
    month = rollup.period_start("month", earlier)
    value, _den = _cell(demo.grid_b, "tickets_received", "month", month)
    assert value == _direct(demo.grid_b, month, rollup.period_end("month", month))


def test_a_second_run_writes_no_cell(history):
    metric = rollup.REGISTRY["tickets_received"]
    today = timezone.localdate()
    assert rollup.rebuild([metric]) > 0
    stamps = dict(MetricValue.objects.values_list("pk", "computed_at"))
    assert rollup.rebuild([metric]) == 0
    assert rollup.rollup_metric(metric, today, today + datetime.timedelta(days=1)) == 0
    assert dict(MetricValue.objects.values_list("pk", "computed_at")) == stamps


def test_day_cells_hold_totals_and_breakdowns_start_at_the_month(history):
    rollup.rebuild([rollup.REGISTRY["tickets_received"]])
    kinds = set(
        MetricValue.objects.filter(metric="tickets_received")
        .exclude(dimension="")
        .values_list("period_kind", flat=True)
        .distinct()
    )
    assert kinds == {"month", "quarter", "year"}


def test_each_ticket_change_marks_the_cells_it_alters(history, settings, django_capture_on_commit_callbacks):
    """Reopening a ticket closed days ago uncounts that day; rating a closed ticket counts today."""
    from django.core.cache import cache

    from demands import services
    from demands.metrics import TICKET_METRICS
    from grid.models import DirtyCell

    settings.METRICS_ROLLUP_ON_COMMIT = True
    cache.delete(rollup.SCHEDULED_KEY)
    DirtyCell.objects.all().delete()
    metrics = [rollup.REGISTRY[code] for code in TICKET_METRICS]
    rollup.rebuild(metrics)
    today = timezone.localdate()
    old = next(
        ticket
        for ticket in Ticket.objects.filter(status="closed").order_by("closed_at")
        if timezone.localtime(ticket.closed_at).date() < today - datetime.timedelta(days=3)
    )
    closed_day = timezone.localtime(old.closed_at).date()
    street = history.demo.street
    before = _cell(street, "tickets_closed", "day", closed_day)[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reopen(ticket=old, actor=history.staff, note="还是漏水")
    assert _cell(street, "tickets_closed", "day", closed_day)[0] == before - 1
    with django_capture_on_commit_callbacks(execute=True):
        fresh = history.ticket()
        fresh = services.ticket_resolve(
            ticket=services.ticket_accept(ticket=fresh, actor=fresh.assignee), actor=fresh.assignee, note="ok"
        )
        fresh = services.ticket_close(ticket=fresh, actor=history.staff)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_rate(ticket=fresh, rating=5)  # already closed: no transition, still counted
    incremental = sorted(row for code in TICKET_METRICS for row in _cells(code))
    MetricValue.objects.all().delete()
    rollup.rebuild(metrics)
    assert incremental == sorted(row for code in TICKET_METRICS for row in _cells(code))


@pytest.mark.django_db(transaction=True)
def test_the_job_rolls_metrics_up_side_by_side_and_gives_the_cells_a_rebuild_gives(
    history, settings, monkeypatch
):
    """Outside a transaction, each marked metric runs in its own thread and connection."""
    from demands.metrics import TICKET_METRICS
    from grid.models import DirtyCell

    settings.METRICS_ROLLUP_WORKERS = 2
    metrics = [rollup.REGISTRY[code] for code in TICKET_METRICS]
    rollup.rebuild(metrics)
    today = timezone.localdate()
    for _ in range(4):
        history.ticket(node=history.demo.grid_b)
    closed = Ticket.objects.filter(status="closed").order_by("pk").first()
    Ticket.objects.filter(pk=closed.pk).update(rating=1, rated_at=timezone.now(), closed_at=timezone.now())
    days = {today, timezone.localtime(closed.closed_at).date()}
    DirtyCell.objects.bulk_create(
        [DirtyCell(metric=code, day=day) for code in TICKET_METRICS for day in days]
    )
    threads = set()
    original = rollup.rollup_metric

    def watched(*args, **kwargs):
        threads.add(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(rollup, "rollup_metric", watched)
    assert rollup.rollup_dirty_cells() > 0
    assert len(threads) == 2 and threading.get_ident() not in threads
    assert not DirtyCell.objects.exists()
    incremental = _cells()
    monkeypatch.setattr(rollup, "rollup_metric", original)
    MetricValue.objects.all().delete()
    rollup.rebuild(metrics)
    assert incremental == _cells()
    value, _den = _cell(history.demo.grid_b, "tickets_received", "day", today)
    assert value == _direct(history.demo.grid_b, today, today + datetime.timedelta(days=1))
