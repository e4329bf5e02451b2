import datetime

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from demands.models import Ticket
from grid import rollup
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
