"""What the leaders' dashboards show, read from the metric store only (never the raw tables), in a
fixed number of queries whatever the size of the subtree."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grid import rollup
from grid.models import GridNode, MetricValue


@dataclass(frozen=True)
class Figure:
    code: str
    label: object
    numerator: str
    denominator: str | None = None  # another metric, or "" for the metric's own denominator
    percent: bool = False
    decimals: int = 0


FIGURES = [
    Figure("received", _("Tickets received"), "tickets_received"),
    Figure("closed", _("Tickets closed"), "tickets_closed"),
    Figure("closure_rate", _("Closure rate"), "tickets_closed", "tickets_received", percent=True),
    Figure("on_time_rate", _("Closed on time"), "tickets_on_time", "", percent=True),
    Figure("satisfaction", _("Satisfaction"), "satisfaction", "", percent=True),
    Figure("mean_rating", _("Mean rating"), "rating_sum", "", decimals=2),
    Figure("fulfilment", _("Demands fulfilled"), "demands_fulfilled", "demands_collected", percent=True),
    Figure("events", _("Service events"), "events_held"),
    Figure("person_times", _("Person-times served"), "person_times"),
    Figure("volunteer_hours", _("Volunteer hours"), "volunteer_hours", decimals=1),
    Figure("visits", _("Home visits"), "visits_done"),
    Figure("visit_coverage", _("Households visited"), "households_visited", "households", percent=True),
]
CONTEXT = ["households", "residents", "elderly", "key_households"]
FIGURE_BY_CODE = {figure.code: figure for figure in FIGURES}


def _value(cells: dict, figure: Figure):
    numerator = cells.get(figure.numerator)
    if figure.denominator is None:
        amount = float(numerator[0]) if numerator else 0.0
        return round(amount, figure.decimals) if figure.decimals else int(amount)
    if figure.denominator == "":
        if not numerator or not numerator[1]:
            return None
        ratio = float(numerator[0]) / float(numerator[1])
    else:
        denominator = cells.get(figure.denominator)
        if not denominator or not denominator[0]:
            return None
        ratio = float(numerator[0] if numerator else 0) / float(denominator[0])
    return round(ratio * 100, 1) if figure.percent else round(ratio, figure.decimals or 2)


def _metrics_needed() -> set[str]:
    needed = set(CONTEXT)
    for figure in FIGURES:
        needed.add(figure.numerator)
        if figure.denominator:
            needed.add(figure.denominator)
    return needed


def _snapshot_month(kind: str, start: datetime.date) -> datetime.date:
    """Population figures are snapshots kept per month: the period's last month, or this month."""
    last = rollup.period_end(kind, start) - datetime.timedelta(days=1)
    return rollup.period_start("month", min(last, timezone.localdate()))


def build(node: GridNode, kind: str, start: datetime.date, periods: int = 12) -> dict:
    previous = rollup.period_start(kind, start - datetime.timedelta(days=1))
    trend_starts = [start]
    for _step in range(periods - 1):
        trend_starts.insert(0, rollup.period_start(kind, trend_starts[0] - datetime.timedelta(days=1)))
    needed = _metrics_needed()
    flows = needed - set(CONTEXT)
    # 1: the node's own cells for the trend (which includes this and the previous period).
    own = MetricValue.objects.filter(
        node=node, metric__in=flows, period_kind=kind, period_start__in=trend_starts, dimension=""
    ).values_list("period_start", "metric", "value", "denominator")
    by_period: dict[datetime.date, dict] = {}
    for period, metric, value, denominator in own:
        by_period.setdefault(period, {})[metric] = (value, denominator)
    # 2: the children.
    children = list(
        GridNode.objects.filter(parent=node, archived_at__isnull=True)
        .only("id", "name", "code", "level", "geometry", "path")
        .order_by("path")
    )
    # 3: the children's cells for this period.
    # Plain tuples, not model instances: a street's 500 communities bring 7,000 cells.
    child_cells: dict[int, dict] = {child.pk: {} for child in children}
    for node_id, metric, value, denominator in MetricValue.objects.filter(
        node__in=children, metric__in=flows, period_kind=kind, period_start=start, dimension=""
    ).values_list("node_id", "metric", "value", "denominator"):
        child_cells[node_id][metric] = (value, denominator)
    # 4: population snapshots of the node and its children.
    snapshots = MetricValue.objects.filter(
        Q(node=node) | Q(node__in=children),
        metric__in=CONTEXT,
        period_kind="month",
        period_start=_snapshot_month(kind, start),
        dimension="",
    ).values_list("node_id", "metric", "value", "denominator")
    for node_id, metric, value, denominator in snapshots:
        target = by_period.setdefault(start, {}) if node_id == node.pk else child_cells.get(node_id)
        if target is not None:
            target[metric] = (value, denominator)
            if node_id == node.pk:
                by_period.setdefault(previous, {})[metric] = (value, denominator)
    current, before = by_period.get(start, {}), by_period.get(previous, {})
    headline = []
    for figure in FIGURES:
        value, last = _value(current, figure), _value(before, figure)
        change = None if value is None or last is None else round(value - last, 1)
        headline.append(
            {
                "code": figure.code,
                "label": str(figure.label),
                "value": value,
                "change": change,
                "percent": figure.percent,
                "metric": figure.numerator,
            }
        )
    trend = {
        "periods": [s.isoformat() for s in trend_starts],
        "series": {
            figure.code: [_value(by_period.get(s, {}), figure) for s in trend_starts]
            for figure in [*FIGURES[:3], FIGURE_BY_CODE["satisfaction"], FIGURE_BY_CODE["person_times"]]
        },
    }
    ranking = [
        {
            "id": child.pk,
            "name": child.name,
            "code": child.code,
            "level": child.level,
            "geometry": child.geometry,
            "figures": {figure.code: _value(child_cells[child.pk], figure) for figure in FIGURES},
        }
        for child in children
    ]
    context = {metric: float(current[metric][0]) if metric in current else 0 for metric in CONTEXT}
    return {
        "node": node,
        "kind": kind,
        "start": start,
        "previous": previous,
        "end": rollup.period_end(kind, start),
        "headline": headline,
        "trend": trend,
        "ranking": ranking,
        "context": context,
    }
