"""What the leaders' dashboards show, read from the metric store only (never the raw tables), in a
fixed number of queries whatever the size of the subtree."""

import datetime
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Q, Sum
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
    dimension: str = ""  # a cell other than the total: a percentile (`p=50`) of a duration
    lower_is_better: bool = False  # ranked from the smallest up (durations)
    neutral: bool = False  # a change is neither better nor worse (more reports received)
    scale: float = 1  # shown as the stored value times this (minutes shown as hours)
    # Grows with the length of the period (a count, a sum, the share of households visited at
    # least once): a period under way is compared only with the same days of the previous one.
    cumulative: bool = False

    @property
    def key(self) -> str:
        return _key(self.numerator, self.dimension)


def _key(metric: str, dimension: str) -> str:
    return f"{metric}@{dimension}" if dimension else metric


FIGURES = [
    Figure("received", _("Tickets received"), "tickets_received", cumulative=True, neutral=True),
    Figure("closed", _("Tickets closed"), "tickets_closed", cumulative=True),
    # Rates of a period's intake: of the tickets received (demands collected) in the period, the
    # share closed (met) by now. Never above 100 %, unlike closings in the period ÷ intake.
    Figure("closure_rate", _("Closure rate"), "tickets_received_closed", "tickets_received", percent=True),
    Figure("on_time_rate", _("Closed on time"), "tickets_on_time", "", percent=True),
    Figure("satisfaction", _("Satisfaction"), "satisfaction", "", percent=True),
    Figure("mean_rating", _("Mean rating"), "rating_sum", "", decimals=2),
    Figure("rating_coverage", _("Rating coverage"), "rating_coverage", "", percent=True),
    # Percentiles are kept per month, quarter and year (a day or a week shows none).
    Figure(
        "response_median",
        _("Median response (h)"),
        "response_minutes",
        decimals=1,
        scale=1 / 60,
        dimension="p=50",
        lower_is_better=True,
    ),
    Figure(
        "response_p90",
        _("Response, 90th percentile (h)"),
        "response_minutes",
        decimals=1,
        scale=1 / 60,
        dimension="p=90",
        lower_is_better=True,
    ),
    Figure(
        "resolution_median",
        _("Median resolution (h)"),
        "resolution_minutes",
        decimals=1,
        scale=1 / 60,
        dimension="p=50",
        lower_is_better=True,
    ),
    Figure(
        "resolution_p90",
        _("Resolution, 90th percentile (h)"),
        "resolution_minutes",
        decimals=1,
        scale=1 / 60,
        dimension="p=90",
        lower_is_better=True,
    ),
    Figure(
        "fulfilment",
        _("Demand fulfilment rate"),
        "demands_collected_fulfilled",
        "demands_collected",
        percent=True,
    ),
    Figure("events", _("Service events"), "events_held", cumulative=True),
    Figure("person_times", _("Person-times served"), "person_times", cumulative=True),
    Figure("volunteer_hours", _("Volunteer hours"), "volunteer_hours", decimals=1, cumulative=True),
    Figure("visits", _("Home visits"), "visits_done", cumulative=True),
    # Of the households due a visit in the period by their colour's cadence, those visited; kept
    # per week and longer (a day shows none).
    Figure(
        "visit_coverage", _("Household visit coverage"), "visit_coverage", "", percent=True, cumulative=True
    ),
    Figure(
        "key_visit_coverage",
        _("Red and yellow visit coverage"),
        "key_visit_coverage",
        "",
        percent=True,
        cumulative=True,
    ),
]
DIMENSIONS = sorted({"", *(figure.dimension for figure in FIGURES)})
CONTEXT = ["households", "residents", "elderly", "key_households"]
FIGURE_BY_CODE = {figure.code: figure for figure in FIGURES}
TREND = [*FIGURES[:3], FIGURE_BY_CODE["satisfaction"], FIGURE_BY_CODE["person_times"]]


def _value(cells: dict, figure: Figure):
    numerator = cells.get(figure.key)
    if figure.dimension:
        return round(float(numerator[0]) * figure.scale, figure.decimals) if numerator else None
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


def _metrics_of(figures) -> set[str]:
    needed = set()
    for figure in figures:
        needed.add(figure.key)
        if figure.denominator:
            needed.add(figure.denominator)
    return needed


def _snapshot_month(kind: str, start: datetime.date) -> datetime.date:
    """Population figures are snapshots kept per month: the period's last month, or this month."""
    last = rollup.period_end(kind, start) - datetime.timedelta(days=1)
    return rollup.period_start("month", min(last, timezone.localdate()))


def _cells(node_ids, metrics: set[str], kind: str, start: datetime.date) -> dict[int, dict]:
    """{node id: {metric: (value, denominator)}} for one period: flows from the period's cells,
    population snapshots from its month. One query per sort that is asked for."""
    cells: dict[int, dict] = {node_id: {} for node_id in node_ids}
    if not cells:
        return cells
    flows, snapshots = metrics - set(CONTEXT), metrics & set(CONTEXT)  # keys: metric[@dimension]
    queries = []
    if flows:
        queries.append((flows, kind, start))
    if snapshots:
        queries.append((snapshots, "month", _snapshot_month(kind, start)))
    fields = ("node_id", "metric", "dimension", "value", "denominator")
    for wanted, period_kind, period_start in queries:
        period = MetricValue.objects.filter(
            node__in=list(cells), period_kind=period_kind, period_start=period_start
        )
        # Totals and percentiles as two ranges of the cell index, in one statement: asked for
        # together (`dimension IN (...)`), PostgreSQL reads every breakdown cell of the period
        # (category, source, histogram buckets) from the table only to discard it.
        rows = period.filter(metric__in={key for key in wanted if "@" not in key}, dimension="")
        parts = [key.split("@") for key in wanted if "@" in key]
        if parts:
            rows = rows.values_list(*fields).union(
                period.filter(
                    metric__in={metric for metric, _ in parts}, dimension__in={dim for _, dim in parts}
                ).values_list(*fields),
                all=True,
            )
        # Plain tuples, not model instances.
        for node_id, metric, dimension, value, denominator in rows.values_list(*fields):
            key = _key(metric, dimension)
            if key in wanted:
                cells[node_id][key] = (value, denominator)
    return cells


def _summable_by_day(figure: Figure) -> bool:
    """Whether the figure of any span of days can be summed from its day cells: a total (no
    percentile) of additive flows (no distinct count, no population snapshot)."""
    if figure.dimension:
        return False
    for code in (figure.numerator, figure.denominator):
        if not code:
            continue
        metric = rollup.REGISTRY.get(code)
        if metric is None or not metric.additive or metric.date is None:
            return False
    return True


def comparison(kind: str, start: datetime.date, today: datetime.date) -> dict:
    """What a period's figures are compared with.

    A finished period is compared with the whole previous one. A period under way (today falls
    in it) is shown to date, and compared with the same number of days from the start of the
    previous period ("上期同期"): this month's first 22 days with last month's first 22. A day
    under way has no shorter cells to compare with.
    """
    end = rollup.period_end(kind, start)
    previous = rollup.period_start(kind, start - datetime.timedelta(days=1))
    under_way = start <= today < end
    basis = {
        "under_way": under_way,
        "last": today if under_way else end - datetime.timedelta(days=1),
        "previous": previous,
        "previous_last": start - datetime.timedelta(days=1),
        "same_days": False,
    }
    if under_way and kind != "day":
        span_end = min(previous + (today - start) + datetime.timedelta(days=1), start)
        basis.update(previous_last=span_end - datetime.timedelta(days=1), same_days=True)
    return basis


def _same_days_cells(node: GridNode, first: datetime.date, last: datetime.date) -> dict:
    """{metric: (value, denominator)} of the node summed over the day cells [first, last]: one
    aggregate query, over the metrics whose days add up."""
    metrics = {
        code
        for figure in FIGURES
        if _summable_by_day(figure)
        for code in (figure.numerator, figure.denominator)
        if code
    }
    rows = (
        MetricValue.objects.filter(
            node=node,
            metric__in=metrics,
            period_kind="day",
            period_start__gte=first,
            period_start__lte=last,
            dimension="",
        )
        .order_by()
        .values("metric")
        .annotate(total=Sum("value"), den=Sum("denominator"))
        .values_list("metric", "total", "den")
    )
    return {metric: (total, den) for metric, total, den in rows}


def _rank_key(value, lower_is_better: bool = False) -> tuple:
    return (value is None, (value or 0) if lower_is_better else -(value or 0))


def build(
    node: GridNode,
    kind: str,
    start: datetime.date,
    periods: int = 12,
    rank_by: str = "received",
    page: int | str | None = None,
    page_size: int | None = None,
    today: datetime.date | None = None,
) -> dict:
    """Headline, trend and the ranked children of `node` for one period.

    With `page_size`, the children are ranked by one figure (read for all of them, for the map)
    and only the requested page gets every figure: a street of 500 communities reads 50 rows of
    figures, not 500. Without it (the Excel export) every child gets every figure.
    """
    basis = comparison(kind, start, today or timezone.localdate())
    previous = basis["previous"]
    trend_starts = [start]
    for _step in range(periods - 1):
        trend_starts.insert(0, rollup.period_start(kind, trend_starts[0] - datetime.timedelta(days=1)))
    flows = _metrics_of(FIGURES) - set(CONTEXT)
    # 1: the node's own cells for the trend (which includes this and the previous period).
    own = MetricValue.objects.filter(
        node=node,
        metric__in={key.split("@")[0] for key in flows},
        period_kind=kind,
        period_start__in=trend_starts,
        dimension__in=DIMENSIONS,
    ).values_list("period_start", "metric", "dimension", "value", "denominator")
    by_period: dict[datetime.date, dict] = {}
    for period, metric, dimension, value, denominator in own:
        by_period.setdefault(period, {})[_key(metric, dimension)] = (value, denominator)
    # 2: the children, as plain rows (a street has hundreds: no model instances). A child
    # archived during the period or since still carries figures of it, which the node's own
    # include: it stays in the ranking, marked, so that the ranking adds up to the headline.
    since, _until = rollup.period_bounds(start, rollup.period_end(kind, start))
    ranking = list(
        GridNode.objects.filter(Q(archived_at__isnull=True) | Q(archived_at__gte=since), parent=node)
        .order_by("path")
        .values("id", "name", "code", "level", "geometry", "archived_at")
    )
    for row in ranking:
        if row.pop("archived_at") is not None:
            row["name"] = _("%(name)s (archived)") % {"name": row["name"]}
    rank_figure = FIGURE_BY_CODE.get(rank_by) or FIGURE_BY_CODE["received"]
    # 3: the ranking figure of every child (one query, two if it needs a population snapshot),
    # or every figure of every child for the export.
    every = _metrics_of(FIGURES) | set(CONTEXT)
    rank_cells = _cells(
        [row["id"] for row in ranking], _metrics_of([rank_figure]) if page_size else every, kind, start
    )
    for row in ranking:
        row["value"] = _value(rank_cells[row["id"]], rank_figure)
    ranking.sort(
        key=lambda row: _rank_key(row["value"], rank_figure.lower_is_better)
    )  # stable: ties keep the tree order
    for position, row in enumerate(ranking, start=1):
        row["position"] = position
    shown = ranking
    paginator_page = None
    if page_size:
        paginator_page = Paginator(ranking, page_size).get_page(page)
        shown = list(paginator_page.object_list)
    # 4: every figure of the shown children, and the node's population snapshot with them.
    if page_size:
        detail = _cells([row["id"] for row in shown] + [node.pk], every, kind, start)
        node_cells = detail.pop(node.pk)
        rank_cells.update(detail)
    else:
        node_cells = _cells([node.pk], set(CONTEXT), kind, start)[node.pk]
    for row in shown:
        row["figures"] = {figure.code: _value(rank_cells[row["id"]], figure) for figure in FIGURES}
    for metric in CONTEXT:
        if metric in node_cells:
            by_period.setdefault(start, {})[metric] = node_cells[metric]
            by_period.setdefault(previous, {})[metric] = node_cells[metric]
    current, before = by_period.get(start, {}), by_period.get(previous, {})
    # 5 (a period under way only): the previous period's same days, summed from its day cells.
    same_days = _same_days_cells(node, previous, basis["previous_last"]) if basis["same_days"] else {}
    headline = []
    for figure in FIGURES:
        value, note = _value(current, figure), ""
        if not basis["under_way"]:
            last = _value(before, figure)
        elif basis["same_days"] and _summable_by_day(figure):
            last = _value(same_days, figure)
        elif figure.cumulative:  # a part of this period against the whole of the last: no change
            last, note = None, _("Not compared while the period is under way.")
        else:  # a rate or a percentile: comparable with the whole previous period
            last = _value(before, figure)
        change = None if value is None or last is None else round(value - last, 1)
        headline.append(
            {
                "code": figure.code,
                "label": str(figure.label),
                "value": value,
                "change": change,
                "note": str(note),
                "percent": figure.percent,
                "metric": figure.numerator,
                # Green when the figure got better: longer durations are worse.
                "better": None if not change or figure.neutral else (change < 0) == figure.lower_is_better,
            }
        )
    labels = [s.isoformat() for s in trend_starts]
    if basis["under_way"]:
        labels[-1] = str(_("%(start)s (to date)") % {"start": labels[-1]})
    trend = {
        "periods": [s.isoformat() for s in trend_starts],
        "labels": labels,
        "percent": [figure.code for figure in TREND if figure.percent],
        "series": {
            figure.code: [_value(by_period.get(s, {}), figure) for s in trend_starts] for figure in TREND
        },
    }
    context = {metric: float(current[metric][0]) if metric in current else 0 for metric in CONTEXT}
    return {
        "node": node,
        "kind": kind,
        "start": start,
        "previous": previous,
        "end": rollup.period_end(kind, start),
        **basis,
        "headline": headline,
        "trend": trend,
        "rank_by": rank_figure.code,
        "ranking": ranking,
        "shown": shown,
        "page": paginator_page,
        "context": context,
    }
