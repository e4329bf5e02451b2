"""Visit coverage: households visited ÷ households due by their colour's cadence (DOMAIN §10),
checked against a day-by-day count over the raw visits, colour marks and households."""

import datetime

import pytest
from django.utils import timezone

from grid import rollup
from grid.models import DirtyCell, GridNode, MetricValue
from residents.models import ColourMark, Household
from services import services
from services.models import Visit, VisitCadence

pytestmark = pytest.mark.django_db

COVERAGE = ("visit_coverage", "key_visit_coverage")


def _local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def direct(node: GridNode, kind: str, start: datetime.date, key_only: bool = False) -> tuple[int, int]:
    """(due and visited, due) for the subtree, walking every day of the period for every household:
    due on a day when the last visit before it is at least the cadence of that day's colour old
    (never visited: from registration); the colour is the latest mark on or before the day."""
    end = rollup.period_end(kind, start)
    cadence = services.cadence_days()
    due = visited = 0
    for household in Household.objects.filter(node__path__startswith=node.path):
        visits = sorted(_local_day(v) for v in household.visits.values_list("visited_at", flat=True))
        marks = sorted(
            (_local_day(mark.set_at), mark.pk, mark.colour, mark.previous)
            for mark in ColourMark.objects.filter(household=household, resident__isnull=True)
        )
        registered = _local_day(household.created_at)

        def colour_on(day, marks=marks, household=household):
            earlier = [mark for mark in marks if mark[0] <= day]
            if earlier:
                return earlier[-1][2]
            return marks[0][3] if marks else household.colour

        is_due = False
        day = start
        while day < end and not is_due:
            colour = colour_on(day)
            if not key_only or colour in ("red", "yellow"):
                before = [visit for visit in visits if visit < day]
                if before:
                    is_due = day >= before[-1] + datetime.timedelta(days=cadence[colour or "blue"])
                else:
                    is_due = day >= registered
            day += datetime.timedelta(days=1)
        if is_due:
            due += 1
            visited += any(start <= visit < end for visit in visits)
    return visited, due


def stored(node: GridNode, code: str, kind: str, start: datetime.date) -> tuple[int, int]:
    cell = MetricValue.objects.filter(
        node=node, metric=code, period_kind=kind, period_start=start, dimension=""
    ).first()
    return (int(cell.value), int(cell.denominator)) if cell else (0, 0)


def _ago(days: int, hour: int = 10) -> datetime.datetime:
    day = timezone.localdate() - datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def marking(settings):
    settings.METRICS_ROLLUP_ON_COMMIT = True


@pytest.fixture
def history(register):
    """The demo's households and visits, plus a few households with a known past: registered
    months ago, visited at known days, their colour changed on the way."""
    worker = register.demo.user("bhxc_g1_a")
    Household.objects.filter(pk__in=[register.home_a.pk, register.home_a2.pk, register.home_b.pk]).update(
        created_at=_ago(200)
    )
    # home_a: blue, visited 150 and 60 days ago, marked red 40 days ago, then visited 20 and 3 days ago.
    for days in (150, 60, 20, 3):
        Visit.objects.create(household=register.home_a, visitor=worker, findings="x", visited_at=_ago(days))
    mark = services.resident_services.colour_set(
        household=register.home_a, colour="red", reason="独居老人", actor=worker
    )
    ColourMark.objects.filter(pk=mark.pk).update(set_at=_ago(40, hour=9))
    # home_a2: yellow from the start (the mark says blue before), visited twice on one day long ago.
    mark = services.resident_services.colour_set(
        household=register.home_a2, colour="yellow", reason="残疾", actor=worker
    )
    ColourMark.objects.filter(pk=mark.pk).update(set_at=_ago(190))
    for hour in (9, 15):
        Visit.objects.create(
            household=register.home_a2, visitor=worker, findings="x", visited_at=_ago(100, hour)
        )
    # home_b: never visited, registered 200 days ago: due all along.
    return register


def _rebuild():
    rollup.rebuild([rollup.REGISTRY[code] for code in COVERAGE])


def _periods():
    today = timezone.localdate()
    last_month = rollup.period_start("month", today - datetime.timedelta(days=today.day))
    yield "week", rollup.period_start("week", today)
    yield "week", rollup.period_start("week", today - datetime.timedelta(days=45))
    yield "month", rollup.period_start("month", today)
    yield "month", last_month
    yield "month", rollup.period_start("month", today - datetime.timedelta(days=100))
    yield "quarter", rollup.period_start("quarter", today)
    yield "year", rollup.period_start("year", today)


def test_coverage_equals_a_day_by_day_count_for_nodes_of_different_sizes(history):
    _rebuild()
    demo = history.demo
    unit = history.unit_a
    nodes = [demo.street, demo.beihai, demo.other_community, demo.grid_a, demo.grid_b, unit]
    checked = 0
    for node in nodes:
        for kind, start in _periods():
            for code, key_only in (("visit_coverage", False), ("key_visit_coverage", True)):
                expected = direct(node, kind, start, key_only)
                assert stored(node, code, kind, start) == expected, (node.name, code, kind, start)
                checked += expected[1] > 0
    assert checked > 40  # most cells hold households due, not only zeros


def test_the_known_households_fall_due_by_their_colour_of_the_day(history):
    _rebuild()
    unit = history.unit_a
    others = Household.objects.filter(node=unit).exclude(pk__in=[history.home_a.pk, history.home_a2.pk])
    assert not others.exists()  # the unit holds the two known households only
    today = timezone.localdate()
    month_100 = rollup.period_start("month", today - datetime.timedelta(days=100))
    # The month of 100 days ago: home_a2 (yellow, never visited before) was due since registration
    # and visited then; home_a (blue, visited 150 days ago) falls due only 60 days ago.
    assert stored(unit, "visit_coverage", "month", month_100) == (1, 1)
    # This week, red and yellow only: home_a2 (yellow, last visited 100 days ago) is overdue and
    # not visited; home_a (red since 40 days ago, visited 20 days ago) was overdue until its
    # visit 3 days ago, or, if the week began since, falls due again 4 days from now.
    week = rollup.period_start("week", today)
    visited = 1 if week <= today - datetime.timedelta(days=3) else 0
    assert stored(unit, "key_visit_coverage", "week", week) == (visited, 2)
    # Blue, home_a would not be due this week: its visit 3 days ago holds for 90 days.
    assert stored(unit, "visit_coverage", "week", week) == (visited, 2)
    # No day cells: a day's share says nothing.
    assert not MetricValue.objects.filter(metric__in=COVERAGE, period_kind="day").exists()


def test_coverage_is_never_above_one_hundred_percent_and_rerunning_changes_nothing(history):
    _rebuild()
    rows = list(
        MetricValue.objects.filter(metric__in=COVERAGE).values_list(
            "id", "value", "denominator", "computed_at"
        )
    )
    assert rows and all(value <= denominator for _id, value, denominator, _at in rows)
    _rebuild()
    again = list(
        MetricValue.objects.filter(metric__in=COVERAGE).values_list(
            "id", "value", "denominator", "computed_at"
        )
    )
    assert sorted(again) == sorted(rows)


def test_a_late_visit_moves_every_later_period_after_the_incremental_job(history, marking):
    _rebuild()
    DirtyCell.objects.all().delete()
    unit = history.unit_a
    last_month = rollup.period_start(
        "month", timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    )
    before = stored(unit, "visit_coverage", "month", last_month)
    # home_a2 visited on the first day of last month, recorded today (synced from a phone).
    visited_at = timezone.make_aware(datetime.datetime.combine(last_month, datetime.time(11)))
    services.visit_record(
        household=history.home_a2,
        visitor=history.demo.user("bhxc_g1_a"),
        findings="补录",
        visited_at=visited_at,
    )
    marked = set(DirtyCell.objects.filter(metric="visit_coverage").values_list("day", flat=True))
    assert min(marked) == last_month and max(marked) == timezone.localdate()
    rollup.rollup_dirty_cells()
    after = stored(unit, "visit_coverage", "month", last_month)
    assert after == direct(unit, "month", last_month) and after != before
    for kind, start in _periods():
        assert stored(unit, "visit_coverage", kind, start) == direct(unit, kind, start), (kind, start)


def test_a_colour_change_and_a_cadence_change_are_rolled_up(history, marking):
    _rebuild()
    DirtyCell.objects.all().delete()
    unit, worker = history.unit_a, history.demo.user("bhxc_g1_a")
    week = rollup.period_start("week", timezone.localdate())
    services.resident_services.colour_set(
        household=history.home_a2, colour="blue", reason="好转", actor=worker
    )
    assert DirtyCell.objects.filter(metric="key_visit_coverage", day=timezone.localdate()).exists()
    rollup.rollup_dirty_cells()
    assert stored(unit, "key_visit_coverage", "week", week) == direct(unit, "week", week, key_only=True)
    # Blue households every 400 days: earlier periods change, back to the first household.
    VisitCadence.objects.update_or_create(colour="blue", defaults={"days": 400})
    first = min(DirtyCell.objects.filter(metric="visit_coverage").values_list("day", flat=True))
    assert first <= _local_day(Household.objects.order_by("created_at").first().created_at)
    rollup.rollup_dirty_cells()
    for kind, start in _periods():
        assert stored(unit, "visit_coverage", kind, start) == direct(unit, kind, start), (kind, start)
        assert stored(history.demo.beihai, "visit_coverage", kind, start) == direct(
            history.demo.beihai, kind, start
        ), (kind, start)


def test_a_household_moved_to_another_grid_takes_its_history_along(history, marking):
    _rebuild()
    DirtyCell.objects.all().delete()
    services.resident_services.household_update(household=history.home_a, node=history.unit_b)
    assert DirtyCell.objects.filter(metric="visit_coverage").count() > 2
    rollup.rollup_dirty_cells()
    for node in (history.demo.grid_a, history.demo.grid_b):
        for kind, start in _periods():
            assert stored(node, "visit_coverage", kind, start) == direct(node, kind, start), (
                node,
                kind,
                start,
            )


def test_the_dashboard_shows_coverage_of_the_households_due(history, client):
    _rebuild()
    rollup.rebuild([rollup.REGISTRY["households"]])
    client.force_login(history.demo.user("wys_leader"))
    month = rollup.period_start("month", timezone.localdate())
    response = client.get(f"/dashboard/{history.demo.beihai.pk}/?period=month&start={month}")
    assert response.status_code == 200
    visited, due = direct(history.demo.beihai, "month", month)
    headline = {row["code"]: row for row in response.context["data"]["headline"]}
    assert headline["visit_coverage"]["value"] == round(visited / due * 100, 1)


def test_the_portable_engine_writes_the_same_cells(history):
    """`make run` on SQLite rolls coverage up through the portable engine: the same stage, summed
    into the ancestors by path prefix in one statement. Run here on the same records."""
    _rebuild()
    fields = ("node_id", "metric", "period_kind", "period_start", "value", "denominator")
    fast = sorted(MetricValue.objects.filter(metric__in=COVERAGE).values_list(*fields))
    MetricValue.objects.filter(metric__in=COVERAGE).delete()
    end = timezone.localdate() + datetime.timedelta(days=1)
    for code in COVERAGE:
        metric = rollup.REGISTRY[code]
        rollup._rollup_portable(metric, rollup.first_fact_day(metric), end)
    portable = sorted(MetricValue.objects.filter(metric__in=COVERAGE).values_list(*fields))
    assert portable == fast and len(fast) > 100


def test_a_rollup_in_another_connection_does_not_confuse_this_one(history):
    """Temporary tables are per connection: another connection's rollup tables, of the same names,
    are not this connection's (metrics roll up side by side, one connection each)."""
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    )
    try:
        other.execute("CREATE TEMP TABLE rollup_ancestors (leaf bigint, anc bigint)")
        _rebuild()
    finally:
        other.close()
    month = rollup.period_start("month", timezone.localdate())
    assert stored(history.demo.beihai, "visit_coverage", "month", month) == direct(
        history.demo.beihai, "month", month
    )
