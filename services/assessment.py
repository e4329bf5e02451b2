"""The grid competition (网格擂台比武): twelve indicators computed from the records, per grid per
month, each with one grouped query over every grid of the street; scores are weighted shares of
the best grid's figure; a published round is frozen."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from demands.choices import TicketSource, TicketStatus
from demands.models import Demand, Ticket
from grid.choices import NodeLevel
from grid.errors import ConflictError
from grid.models import GridNode
from residents.choices import Colour
from residents.models import Household
from services.choices import AssessmentStatus, ParticipantRole
from services.models import Assessment, AssessmentRound, Indicator, Participation, ServiceEvent, Visit


@dataclass(frozen=True)
class Definition:
    code: str
    name: object
    weight: int


DEFINITIONS = [
    Definition("patrol_hours", _("Hours on patrol in the grid"), 10),
    Definition("hazards_found", _("Safety hazards found"), 10),
    Definition("appeals_collected", _("Appeals collected"), 8),
    Definition("on_time_closure", _("Tickets closed on time (%)"), 10),
    Definition("satisfaction", _("Satisfaction (%)"), 10),
    Definition("visits_done", _("Home visits done"), 8),
    Definition("visit_coverage", _("Households visited (%)"), 8),
    Definition("key_visit_coverage", _("Red and yellow households visited (%)"), 10),
    Definition("events_held", _("Service events held"), 6),
    Definition("volunteer_hours", _("Volunteer hours"), 6),
    Definition("demands_collected", _("Demands collected"), 6),
    Definition("demands_fulfilled", _("Demands fulfilled"), 8),
]


def ensure_indicators() -> list[Indicator]:
    for order, definition in enumerate(DEFINITIONS):
        Indicator.objects.get_or_create(
            code=definition.code,
            defaults={"name": str(definition.name), "weight": definition.weight, "order": order},
        )
    return list(Indicator.objects.filter(is_active=True))


def _group(queryset, lookup: str, length: int, **aggregates) -> dict[str, dict]:
    rows = queryset.annotate(grid=Substr(lookup, 1, length)).order_by().values("grid").annotate(**aggregates)
    return {row["grid"]: row for row in rows}


def _percent(part, whole) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def figures(
    street: GridNode, start: datetime.datetime, end: datetime.datetime
) -> dict[str, dict[str, float]]:
    """{grid path: {indicator code: value}} for every grid of the street, one query per measure."""
    # Grids archived before the month began no longer compete; one archived during it still does.
    grids = list(
        GridNode.objects.filter(path__startswith=street.path, level=NodeLevel.GRID)
        .filter(Q(archived_at__isnull=True) | Q(archived_at__gte=start))
        .only("path")
    )
    result: dict[str, dict[str, float]] = {g.path: {} for g in grids}
    for length in sorted({len(g.path) for g in grids}):

        def put(code, rows, value):
            for path, row in rows.items():
                if path in result:
                    result[path][code] = value(row)

        tickets = Ticket.objects.filter(node__path__startswith=street.path)
        put(
            "patrol_hours",
            _group(
                Participation.objects.filter(
                    event__starts_at__gte=start,
                    event__starts_at__lt=end,
                    event__kind__code="patrol",
                    event__cancelled_at__isnull=True,
                    role=ParticipantRole.GRID_WORKER,
                    event__node__path__startswith=street.path,
                ),
                "event__node__path",
                length,
                v=Sum("hours"),
            ),
            lambda r: float(r["v"] or 0),
        )
        put(
            "hazards_found",
            _group(
                tickets.filter(
                    created_at__gte=start,
                    created_at__lt=end,
                    source=TicketSource.PATROL,
                    category__code="safety",
                ),
                "node__path",
                length,
                v=Count("id"),
            ),
            lambda r: r["v"],
        )
        put(
            "appeals_collected",
            _group(
                tickets.filter(created_at__gte=start, created_at__lt=end), "node__path", length, v=Count("id")
            ),
            lambda r: r["v"],
        )
        put(
            "on_time_closure",
            _group(
                tickets.filter(closed_at__gte=start, closed_at__lt=end, status=TicketStatus.CLOSED),
                "node__path",
                length,
                closed=Count("id"),
                on_time=Count("id", filter=Q(is_overdue=False)),
            ),
            lambda r: _percent(r["on_time"], r["closed"]),
        )
        put(
            "satisfaction",
            _group(
                tickets.filter(rated_at__gte=start, rated_at__lt=end),
                "node__path",
                length,
                rated=Count("id"),
                good=Count("id", filter=Q(rating__gte=4)),
            ),
            lambda r: _percent(r["good"], r["rated"]),
        )
        visits = Visit.objects.filter(
            visited_at__gte=start, visited_at__lt=end, household__node__path__startswith=street.path
        )
        put("visits_done", _group(visits, "household__node__path", length, v=Count("id")), lambda r: r["v"])
        households = _group(
            Household.objects.filter(node__path__startswith=street.path),
            "node__path",
            length,
            all=Count("id"),
            key=Count("id", filter=Q(colour__in=[Colour.RED, Colour.YELLOW])),
        )
        visited = _group(
            visits,
            "household__node__path",
            length,
            all=Count("household", distinct=True),
            key=Count(
                "household", distinct=True, filter=Q(household__colour__in=[Colour.RED, Colour.YELLOW])
            ),
        )
        put(
            "visit_coverage",
            households,
            lambda r, seen=visited: _percent(seen.get(r["grid"], {}).get("all", 0), r["all"]),
        )
        put(
            "key_visit_coverage",
            households,
            lambda r, seen=visited: _percent(seen.get(r["grid"], {}).get("key", 0), r["key"]),
        )
        events = ServiceEvent.objects.filter(
            starts_at__gte=start,
            starts_at__lt=end,
            cancelled_at__isnull=True,
            node__path__startswith=street.path,
        )
        put("events_held", _group(events, "node__path", length, v=Count("id")), lambda r: r["v"])
        put(
            "volunteer_hours",
            _group(
                Participation.objects.filter(event__in=events), "event__node__path", length, v=Sum("hours")
            ),
            lambda r: float(r["v"] or 0),
        )
        # Cancelled demands (withdrawn, duplicates) were never needs: as on the dashboards.
        demands = Demand.objects.filter(node__path__startswith=street.path).exclude(status="cancelled")
        put(
            "demands_collected",
            _group(
                demands.filter(created_at__gte=start, created_at__lt=end), "node__path", length, v=Count("id")
            ),
            lambda r: r["v"],
        )
        put(
            "demands_fulfilled",
            _group(
                demands.filter(fulfilled_at__gte=start, fulfilled_at__lt=end),
                "node__path",
                length,
                v=Count("id"),
            ),
            lambda r: r["v"],
        )
    for values in result.values():
        for definition in DEFINITIONS:
            values.setdefault(definition.code, 0)
    return result


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return (
        datetime.datetime.combine(first, datetime.time(), tzinfo=tz),
        datetime.datetime.combine(following, datetime.time(), tzinfo=tz),
    )


def _ranks(ordered: list[str], scores: dict) -> dict[str, int]:
    """Competition ranks of paths already in order of score: a tie shares the better rank."""
    ranks: dict[str, int] = {}
    for index, path in enumerate(ordered):
        tied = index and scores[path] == scores[ordered[index - 1]]
        ranks[path] = ranks[ordered[index - 1]] if tied else index + 1
    return ranks


@transaction.atomic
def assessment_compute(*, street: GridNode, month: datetime.date) -> AssessmentRound:
    """(Re)compute a month's scores for every grid of a street; refused once published."""
    month = month.replace(day=1)
    if month > timezone.localdate().replace(day=1):
        raise ValidationError({"month": _("That month has not begun; choose this month or an earlier one.")})
    if street.level != NodeLevel.STREET:
        raise ValidationError({"street": _("The grid competition is held by a street.")})
    round_, _created = AssessmentRound.objects.get_or_create(street=street, month=month)
    round_ = AssessmentRound.objects.select_for_update().get(pk=round_.pk)
    if round_.status == AssessmentStatus.PUBLISHED:
        raise ConflictError(_("This round is published and frozen."), code="frozen")
    indicators = ensure_indicators()
    weights = {i.code: i.weight for i in indicators}
    values = figures(street, *month_bounds(month))
    best = {code: max((v[code] for v in values.values()), default=0) for code in weights}
    grids = {
        g.path: g for g in GridNode.objects.filter(path__in=list(values)).only("id", "path", "parent_id")
    }
    # Ranked by the score as shown (two decimals); equal scores share a rank (1, 2, 2, 4).
    scores = {
        path: round(
            sum(
                Decimal(str(v[code] / best[code] * weight)) if best[code] else Decimal(0)
                for code, weight in weights.items()
            ),
            2,
        )
        for path, v in values.items()
    }
    ranked = sorted(scores, key=lambda p: (-scores[p], p))
    street_rank = _ranks(ranked, scores)
    by_community = defaultdict(list)
    for path in ranked:
        by_community[grids[path].parent_id].append(path)
    community_rank = {
        path: rank for paths in by_community.values() for path, rank in _ranks(paths, scores).items()
    }
    Assessment.objects.filter(round=round_).delete()
    Assessment.objects.bulk_create(
        [
            Assessment(
                round=round_,
                grid=grids[path],
                values=values[path],
                score=scores[path],
                rank_in_street=street_rank[path],
                rank_in_community=community_rank[path],
            )
            for path in ranked
        ]
    )
    AssessmentRound.objects.filter(pk=round_.pk).update(weights=weights, computed_at=timezone.now())
    round_.refresh_from_db()
    return round_


@transaction.atomic
def assessment_publish(*, round_: AssessmentRound) -> AssessmentRound:
    published = AssessmentRound.objects.filter(
        pk=round_.pk, status=AssessmentStatus.DRAFT, computed_at__isnull=False
    )
    if not published.update(status=AssessmentStatus.PUBLISHED, published_at=timezone.now()):
        raise ConflictError(
            _("Compute the round before publishing; a published round stays as it is."), code="frozen"
        )
    round_.refresh_from_db()
    return round_
