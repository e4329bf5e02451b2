"""Service, visit and volunteer metrics, registered with grid's rollup engine."""

import datetime

from django.db import connection
from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grid.rollup import LONG_PERIODS, Metric, period_end, records_of, register

SERVICE_METRICS = ("events_held", "person_times", "volunteer_hours", "party_person_times")
# Visit coverage: of the households due a visit in a period (by their colour's cadence), those
# visited in it. A visit, a colour change or a new household changes the periods from its day on.
COVERAGE_METRICS = ("visit_coverage", "key_visit_coverage")
VISIT_METRICS = ("visits_done", "households_visited", "key_households_visited")


def _plus_days(day: str, days: str) -> str:
    if connection.vendor == "postgresql":
        return f"({day} + {days})"
    return f"date({day}, '+' || ({days}) || ' days')"


def due_stage(key_only: bool):
    """The stage of a coverage metric: per period kind, leaf node and period of the spans, the
    households due a visit at some day of the period (value: those of them visited in the period;
    denominator: all of them), in one statement for every kind.

    A household is due on a day when its last visit before that day is at least its colour's
    cadence old (the same rule as the visitors' due list), or, never visited, from the day it was
    registered; a visit on the day counts. The colour is the one in force that day, read from the
    colour marks: a household marked red in March is due weekly from March, not in January.
    `key_only` keeps to the days a household was red or yellow.
    """

    def stage(spans: list[tuple[str, datetime.date, datetime.date]]) -> tuple[str, list]:
        from residents.models import ColourMark, Household
        from services.models import Visit
        from services.services import cadence_days

        tz = timezone.get_current_timezone()
        pg = connection.vendor == "postgresql"
        cast = "::date" if pg else ""

        def day(value: datetime.date):
            return value if pg else value.isoformat()

        visits = Visit.objects.order_by().values(hh=F("household_id"), day=TruncDate("visited_at", tzinfo=tz))
        marks = (
            ColourMark.objects.filter(resident__isnull=True)
            .order_by()
            .values(
                hh=F("household_id"),
                day=TruncDate("set_at", tzinfo=tz),
                tint=F("colour"),
                was=F("previous"),
                mid=F("id"),
            )
        )
        homes = Household.objects.order_by().values(
            hh=F("id"), leaf=F("node_id"), made=TruncDate("created_at", tzinfo=tz), tint=F("colour")
        )
        queries = [query.query.sql_with_params() for query in (visits, marks, homes)]
        cadence = cadence_days()
        days = (
            f"CASE s.tint WHEN 'red' THEN {int(cadence['red'])} WHEN 'yellow' THEN {int(cadence['yellow'])} "
            f"ELSE {int(cadence['blue'])} END"
        )
        periods, today = [], timezone.localdate()
        for kind, lo, hi in spans:
            start = lo
            while start < hi and start <= today:  # no figure for a period yet to begin
                periods.append((kind, day(start), day(period_end(kind, start))))
                start = period_end(kind, start)
        lo, hi = min(span[1] for span in spans), max(span[2] for span in spans)
        if not periods:
            periods.append(("", day(lo), day(lo)))  # an empty period: no rows
        values = ", ".join(f"(%s, %s{cast}, %s{cast})" for _ in periods)
        key = "AND i.tint IN ('red', 'yellow')" if key_only else ""
        select = (
            f"WITH v AS ({queries[0][0]}), m AS ({queries[1][0]}), h AS ({queries[2][0]}), "  # noqa: S608 # nosec B608
            # Colour segments [s_from, s_to): from each mark to the next; before a household's first
            # mark, the colour that mark replaced; a household never marked keeps its colour.
            "seg AS (SELECT hh, day AS s_from, LEAD(day) OVER (PARTITION BY hh ORDER BY day, mid) AS s_to, "
            "tint FROM m UNION ALL SELECT hh, NULL, day, was FROM (SELECT hh, day, was, "
            "ROW_NUMBER() OVER (PARTITION BY hh ORDER BY day, mid) AS n FROM m) f WHERE n = 1 "
            "UNION ALL SELECT hh, NULL, NULL, tint FROM h "
            "WHERE NOT EXISTS (SELECT 1 FROM m WHERE m.hh = h.hh)), "
            # The days after each visit up to and including the next (due from the visit plus the
            # cadence), and before the first visit (due from registration).
            "gap AS (SELECT hh, day AS after_visit, LEAD(day) OVER (PARTITION BY hh ORDER BY day) AS until "
            "FROM v UNION ALL SELECT h.hh, NULL, f.day FROM h LEFT JOIN "
            "(SELECT hh, MIN(day) AS day FROM v GROUP BY hh) f ON f.hh = h.hh), "
            # Due intervals: a gap within one colour segment, from its due day on.
            "base AS (SELECT g.hh, s.tint, s.s_from, s.s_to, g.until, CASE WHEN g.after_visit IS NULL "
            f"THEN h.made ELSE {_plus_days('g.after_visit', days)} END AS due_from "
            "FROM gap g JOIN seg s ON s.hh = g.hh JOIN h ON h.hh = g.hh), "
            "iv AS (SELECT * FROM (SELECT hh, tint, s_to, until, CASE WHEN s_from IS NOT NULL "
            "AND s_from > due_from THEN s_from ELSE due_from END AS opens FROM base) b "
            "WHERE (until IS NULL OR opens <= until) AND (s_to IS NULL OR opens < s_to) "
            f"AND opens < %s{cast} AND (until IS NULL OR until >= %s{cast}) "
            f"AND (s_to IS NULL OR s_to > %s{cast})), "
            f"p (kind, start, stop) AS (VALUES {values}), "
            "due AS (SELECT DISTINCT i.hh, p.kind, p.start FROM iv i JOIN p ON i.opens < p.stop "
            f"AND (i.until IS NULL OR i.until >= p.start) AND (i.s_to IS NULL OR i.s_to > p.start) {key}), "
            "seen AS (SELECT DISTINCT v.hh, p.kind, p.start FROM v JOIN p ON v.day >= p.start "
            "AND v.day < p.stop) "
            "SELECT d.kind, h.leaf, d.start, SUM(CASE WHEN seen.hh IS NULL THEN 0 ELSE 1 END) AS v, "
            "COUNT(*) AS d FROM due d JOIN h ON h.hh = d.hh LEFT JOIN seen ON seen.hh = d.hh "
            "AND seen.kind = d.kind AND seen.start = d.start GROUP BY d.kind, h.leaf, d.start"
        )
        params = [
            *queries[0][1],
            *queries[1][1],
            *queries[2][1],
            day(hi),
            day(lo),
            day(lo),
            *(value for period in periods for value in period),
        ]
        return select, params

    return stage


def coverage_first_day() -> datetime.date | None:
    """Households are due from their registration, which may come before any visit."""
    from residents.models import Household
    from services.models import Visit

    tz = timezone.get_current_timezone()
    firsts = [
        model.objects.aggregate(first=Min(TruncDate(field, tzinfo=tz)))["first"]
        for model, field in ((Visit, "visited_at"), (Household, "created_at"))
    ]
    firsts = [first for first in firsts if first is not None]
    return min(firsts) if firsts else None


def coverage(code: str, label, records, *, key_only: bool) -> Metric:
    """A visit coverage metric: due households visited (value) of due households (denominator)."""
    from services.models import Visit

    return Metric(
        code,
        label,
        Visit.objects.all,
        "household__node__path",
        "visited_at",
        lambda: Count("household", distinct=True),
        denominator=lambda: Count("household", distinct=True),
        additive=False,
        records=records,
        stage=due_stage(key_only=key_only),
        kinds=LONG_PERIODS,
        first_day=coverage_first_day,
    )


def register_metrics() -> None:
    from services.models import Participation, ServiceEvent, Visit

    # The events behind a figure: held (not cancelled) in the subtree, starting in the period.
    events = records_of("services_serviceevent", "starts_at", cancelled_at__isnull="True")

    def served():
        """Who served at events that took place: a cancelled event's sign-ins count nowhere."""
        return Participation.objects.filter(event__cancelled_at__isnull=True)

    visits = records_of("services_visit", "visited_at")

    register(
        Metric(
            "events_held",
            _("Service events"),
            lambda: ServiceEvent.objects.filter(cancelled_at__isnull=True),
            "node__path",
            "starts_at",
            lambda: Count("id"),
            dimensions=("kind__code",),
            records=events,
        ),
        Metric(
            "person_times",
            _("Person-times served"),
            served,
            "event__node__path",
            "event__starts_at",
            lambda: Count("id"),
            records=events,
        ),
        Metric(
            "volunteer_hours",
            _("Volunteer hours"),
            served,
            "event__node__path",
            "event__starts_at",
            lambda: Sum("hours"),
            records=events,
        ),
        Metric(
            "party_person_times",
            _("Party-member person-times"),
            served,
            "event__node__path",
            "event__starts_at",
            lambda: Count("id", filter=Q(role="in_service_member")),
            records=events,
        ),
        Metric(
            "visits_done",
            _("Home visits"),
            Visit.objects.all,
            "household__node__path",
            "visited_at",
            lambda: Count("id"),
            records=visits,
        ),
        # Distinct households: a week's figure is not the sum of its days'.
        Metric(
            "households_visited",
            _("Households visited"),
            Visit.objects.all,
            "household__node__path",
            "visited_at",
            lambda: Count("household", distinct=True),
            additive=False,
            records=visits,
        ),
        # Red and yellow households (by their colour now, as the population figure counts them).
        Metric(
            "key_households_visited",
            _("Red and yellow households visited"),
            lambda: Visit.objects.filter(household__colour__in=["red", "yellow"]),
            "household__node__path",
            "visited_at",
            lambda: Count("household", distinct=True),
            additive=False,
            records=records_of("services_visit", "visited_at", key="1"),
        ),
        # Households visited ÷ households due (DOMAIN: visit coverage), kept per week and longer:
        # a day's share of households due that were visited that very day says nothing.
        coverage("visit_coverage", _("Households due a visit, and visited"), visits, key_only=False),
        coverage(
            "key_visit_coverage",
            _("Red and yellow households due a visit, and visited"),
            records_of("services_visit", "visited_at", key="1"),
            key_only=True,
        ),
    )
