"""Metric rollups: every node's figure covers its whole subtree, per day, week, month, quarter, year.

Apps describe their metrics (`<app>/metrics.py`) and register them here; the engine stays in
grid. A metric is computed for every ancestor of its facts in set-based queries, one per tree
depth, grouping facts by the prefix of their node's materialized path; nothing loops over rows in
Python. Day cells are written by deleting and inserting whole cells under a per-metric row lock,
so two runs never double count; longer periods are summed from the day cells (additive metrics)
or computed from the facts (distinct counts). Rates are numerator and denominator.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Aggregate, DateField, F, QuerySet, Sum, Value
from django.db.models.functions import Length, Substr, Trunc, TruncDate
from django.utils import timezone

from grid.models import GridNode, MetricLock, MetricValue

PERIOD_KINDS = ("day", "week", "month", "quarter", "year")
LONG_PERIODS = PERIOD_KINDS[1:]


@dataclass(frozen=True)
class Metric:
    code: str
    label: object
    facts: Callable[[], QuerySet]
    path: str
    date: str | None
    value: Callable[[], Aggregate]
    denominator: Callable[[], Aggregate] | None = None
    dimensions: tuple[str, ...] = ()
    additive: bool = True
    unit: str = ""
    records: Callable | None = None  # (node, start, end) -> URL of the records behind the figure
    date_only: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)


REGISTRY: dict[str, Metric] = {}


def register(*metrics: Metric) -> None:
    for metric in metrics:
        REGISTRY[metric.code] = metric


def period_start(kind: str, day: datetime.date) -> datetime.date:
    if kind == "day":
        return day
    if kind == "week":
        return day - datetime.timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def period_end(kind: str, start: datetime.date) -> datetime.date:
    """The first day after the period."""
    if kind == "day":
        return start + datetime.timedelta(days=1)
    if kind == "week":
        return start + datetime.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    month = start.month - 1 + months
    return start.replace(year=start.year + month // 12, month=month % 12 + 1, day=1)


def period_bounds(start: datetime.date, end: datetime.date):
    """The aware datetimes in the deployment's time zone that bound [start, end)."""
    return _bounds(start, end)


def _bounds(start: datetime.date, end: datetime.date):
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time(), tzinfo=tz),
        datetime.datetime.combine(end, datetime.time(), tzinfo=tz),
    )


def _grouped(metric: Metric, facts: QuerySet, bucket, depth: int, dimension: str | None):
    """One query: the metric per (ancestor at `depth`, period bucket[, dimension])."""
    length = GridNode.steplen * depth
    rows = (
        facts.annotate(_plen=Length(metric.path))
        .filter(_plen__gte=length)
        .annotate(_anc=Substr(metric.path, 1, length), _bucket=bucket)
    )
    keys = ["_anc", "_bucket"] + (["_dim"] if dimension else [])
    if dimension:
        rows = rows.annotate(_dim=_dimension_expr(dimension))
    aggregates = {"_v": metric.value()}
    if metric.denominator is not None:
        aggregates["_d"] = metric.denominator()
    return rows.order_by().values(*keys).annotate(**aggregates)


def _dimension_expr(lookup: str):
    return F(lookup)


def _facts_between(metric: Metric, start: datetime.date, end: datetime.date) -> QuerySet:
    facts = metric.facts()
    if metric.date is None:
        return facts
    if metric.date_only:
        return facts.filter(**{f"{metric.date}__gte": start, f"{metric.date}__lt": end})
    low, high = _bounds(start, end)
    return facts.filter(**{f"{metric.date}__gte": low, f"{metric.date}__lt": high})


def _bucket(metric: Metric, kind: str):
    if metric.date is None:
        return Value(timezone.localdate(), output_field=DateField())
    tz = None if metric.date_only else timezone.get_current_timezone()
    if kind == "day":
        return (
            TruncDate(metric.date, tzinfo=tz) if tz else Trunc(metric.date, "day", output_field=_date_field())
        )
    return Trunc(metric.date, kind, output_field=_date_field(), tzinfo=tz)


def _date_field():
    return DateField()


def _depths() -> int:
    return GridNode.objects.order_by("-depth").values_list("depth", flat=True).first() or 0


def _rows_for(metric: Metric, facts: QuerySet, kind: str, max_depth: int) -> list[tuple]:
    rows = []
    bucket = _bucket(metric, kind)
    for depth in range(1, max_depth + 1):
        for dimension in (None, *metric.dimensions):
            for row in _grouped(metric, facts, bucket, depth, dimension):
                label = f"{dimension.split('__')[0]}={row['_dim']}" if dimension else ""
                day = (
                    row["_bucket"].date() if isinstance(row["_bucket"], datetime.datetime) else row["_bucket"]
                )
                rows.append((row["_anc"], day, label, row["_v"] or 0, row.get("_d")))
    return rows


def _write(metric: Metric, kind: str, starts: Iterable[datetime.date], rows: list[tuple]) -> int:
    paths = {row[0] for row in rows}
    node_ids = dict(GridNode.objects.filter(path__in=paths).values_list("path", "id")) if paths else {}
    starts = list(starts)
    MetricValue.objects.filter(metric=metric.code, period_kind=kind, period_start__in=starts).delete()
    MetricValue.objects.bulk_create(
        [
            MetricValue(
                node_id=node_ids[path],
                metric=metric.code,
                period_kind=kind,
                period_start=day,
                dimension=label,
                value=value,
                denominator=denominator,
            )
            for path, day, label, value, denominator in rows
            if path in node_ids
        ],
        batch_size=5000,
    )
    return len(rows)


def _fast() -> bool:
    """PostgreSQL writes cells with INSERT ... SELECT: the figures never travel through Python."""
    return connection.vendor == "postgresql"


def _delete(metric: Metric, kind: str, starts: list[datetime.date], node_ids: set[int] | None) -> set[int]:
    cells = MetricValue.objects.filter(metric=metric.code, period_kind=kind, period_start__in=starts)
    if node_ids is not None:
        cells = cells.filter(node_id__in=node_ids)
    before = (
        set(cells.values_list("node_id", flat=True).distinct())
        if node_ids is None and len(starts) <= 7
        else set()
    )
    cells.delete()
    return before


STAGE = "rollup_stage"


def _stage(metric: Metric, facts: QuerySet, kind: str) -> None:
    """Aggregate the facts once per (leaf node, period bucket, dimensions) into a temporary table."""
    columns = {"_path": F(metric.path), "_bucket": _bucket(metric, kind)}
    for index, dimension in enumerate(metric.dimensions):
        columns[f"_x{index}"] = F(dimension)
    aggregates = {"_v": metric.value()}
    if metric.denominator is not None:
        aggregates["_den"] = metric.denominator()
    sql, params = (
        facts.annotate(**columns).order_by().values(*columns).annotate(**aggregates).query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"CREATE TEMP TABLE {STAGE} AS " + sql, params)


def _insert_from_stage(
    metric: Metric, kind: str, starts: list[datetime.date], node_ids: set[int] | None = None
) -> None:
    """Every ancestor of every staged row, for one period kind, totals and dimensions in one pass."""
    dims = [f'"_x{index}"' for index in range(len(metric.dimensions))]
    labels = [f"{dimension.split('__')[0]}=" for dimension in metric.dimensions]
    label = (
        (
            "CASE "
            + " ".join(f"WHEN GROUPING({d}) = 0 THEN %s || COALESCE({d}::text, '')" for d in dims)
            + " ELSE '' END"
        )
        if dims
        else "''"
    )
    sets = ", ".join(["(n.id, p)", *[f"(n.id, p, {d})" for d in dims]])
    den = 'SUM("_den")' if metric.denominator is not None else "NULL"
    # Only the periods (and nodes) whose cells were just deleted.
    restrict = "WHERE p = ANY(%s)" + (" AND n.id = ANY(%s)" if node_ids is not None else "")
    step = GridNode.steplen
    statement = (
        "INSERT INTO grid_metricvalue (node_id, metric, period_kind, period_start, dimension, value, "
        f'denominator, computed_at) SELECT n.id, %s, %s, p, {label}, COALESCE(SUM("_v"), 0), {den}, now() '
        f'FROM (SELECT *, date_trunc(%s, "_bucket")::date AS p FROM {STAGE}) s '
        f'CROSS JOIN LATERAL generate_series({step}, length(s."_path"), {step}) AS cut '
        f'JOIN grid_gridnode n ON n.path = substr(s."_path", 1, cut) {restrict} '
        f"GROUP BY GROUPING SETS ({sets})"
    )
    params = [metric.code, kind, *labels, kind, list(starts)]
    if node_ids is not None:
        params.append(list(node_ids))
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _insert_facts_sql(metric: Metric, kind: str, facts: QuerySet, max_depth: int) -> None:
    """One INSERT ... SELECT per depth and dimension, joining ancestor prefixes to their nodes."""
    bucket = _bucket(metric, kind)
    den = 'sub."_d"' if metric.denominator is not None else "NULL"
    with connection.cursor() as cursor:
        for depth in range(1, max_depth + 1):
            for dimension in (None, *metric.dimensions):
                sql, params = _grouped(metric, facts, bucket, depth, dimension).query.sql_with_params()
                label = "%s || COALESCE(sub.\"_dim\"::text, '')" if dimension else "%s"
                prefix = [f"{dimension.split('__')[0]}=" if dimension else ""]
                # Fixed fragments and ORM-compiled SQL; every value is a parameter.
                statement = (
                    "INSERT INTO grid_metricvalue (node_id, metric, period_kind, period_start, dimension, "
                    'value, denominator, computed_at) SELECT n.id, %s, %s, sub."_bucket", '
                    + label
                    + ', COALESCE(sub."_v", 0), '
                    + den
                    + " , now() FROM ("
                    + sql
                    + ") sub "
                    'JOIN grid_gridnode n ON n.path = sub."_anc"'
                )
                # Fixed fragments and ORM-compiled SQL only; every value is a parameter.
                cursor.execute(
                    statement,
                    [metric.code, kind, *prefix, *params],
                )


def _lock(metric: Metric) -> None:
    MetricLock.objects.get_or_create(metric=metric.code)
    MetricLock.objects.select_for_update().get(metric=metric.code)


def _days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range((end - start).days)]


def _period_starts(kind: str, start: datetime.date, end: datetime.date) -> list[datetime.date]:
    starts, day = [], period_start(kind, start)
    while day < end:
        starts.append(day)
        day = period_end(kind, day)
    return starts


@transaction.atomic
def rollup_metric(metric: Metric, start: datetime.date, end: datetime.date) -> int:
    """Recompute `metric` for the days in [start, end) and every longer period touching them.

    A short (incremental) range recomputes the longer periods only for the nodes whose day cells
    changed; a long one (a rebuild) for every node.
    """
    _lock(metric)
    max_depth = _depths()
    if metric.date is None:  # a snapshot of the register, as of today
        today = timezone.localdate()
        if _fast():
            _delete(metric, "day", [today], None)
            _insert_facts_sql(metric, "day", metric.facts(), max_depth)
            return MetricValue.objects.filter(
                metric=metric.code, period_kind="day", period_start=today
            ).count()
        return _write(metric, "day", [today], _rows_for(metric, metric.facts(), "day", max_depth))
    days = _days(start, end)
    incremental = len(days) <= 7
    facts = _facts_between(metric, start, end)
    if _fast():
        return _rollup_staged(metric, start, end, days, incremental, facts)
    rows = _rows_for(metric, facts, "day", max_depth)
    written = _write(metric, "day", days, rows)
    for kind in LONG_PERIODS:
        starts = _period_starts(kind, start, end)
        full_start, full_end = starts[0], period_end(kind, starts[-1])
        if metric.additive:
            rows = (
                MetricValue.objects.filter(
                    metric=metric.code,
                    period_kind="day",
                    period_start__gte=full_start,
                    period_start__lt=full_end,
                )
                .annotate(_p=Trunc("period_start", kind, output_field=_date_field()))
                .order_by()
                .values("node__path", "_p", "dimension")
                .annotate(_v=Sum("value"), _d=Sum("denominator"))
            )
            written += _write(
                metric,
                kind,
                starts,
                [
                    (
                        r["node__path"],
                        r["_p"],
                        r["dimension"],
                        r["_v"],
                        r["_d"] if metric.denominator else None,
                    )
                    for r in rows
                ],
            )
        else:
            written += _write(
                metric,
                kind,
                starts,
                _rows_for(metric, _facts_between(metric, full_start, full_end), kind, max_depth),
            )
    return written


def _rollup_staged(metric, start, end, days, incremental, facts) -> int:
    """PostgreSQL: stage the facts once, then write every kind of period from the stage."""
    touched = _delete(metric, "day", days, None)
    _stage(metric, facts, "day")
    _insert_from_stage(metric, "day", days)
    if incremental:
        day_cells = MetricValue.objects.filter(metric=metric.code, period_kind="day", period_start__in=days)
        touched |= set(day_cells.values_list("node_id", flat=True).distinct())
    # The longer periods around [start, end): for a short (incremental) range their facts are staged
    # once more over the whole span, and only the touched nodes are rewritten.
    spans = {kind: _period_starts(kind, start, end) for kind in LONG_PERIODS}
    span_start = min(starts[0] for starts in spans.values())
    span_end = max(period_end(kind, starts[-1]) for kind, starts in spans.items())
    nodes = touched if incremental else None
    if metric.additive and (incremental and (span_start, span_end) != (start, end)):
        _stage(metric, _facts_between(metric, span_start, span_end), "day")
    for kind, starts in spans.items():
        _delete(metric, kind, starts, nodes)
        if not metric.additive:
            full_start, full_end = starts[0], period_end(kind, starts[-1])
            _stage(metric, _facts_between(metric, full_start, full_end), kind)
        elif not incremental and (starts[0], period_end(kind, starts[-1])) != (start, end):
            _stage(metric, _facts_between(metric, starts[0], period_end(kind, starts[-1])), "day")
        _insert_from_stage(metric, kind, starts, nodes)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    return (
        MetricValue.objects.filter(metric=metric.code, period_start__gte=span_start).count()
        if incremental
        else 0
    )


def first_fact_day(metric: Metric) -> datetime.date | None:
    if metric.date is None:
        return None
    first = metric.facts().order_by(metric.date).values_list(metric.date, flat=True).first()
    if first is None:
        return None
    return first if metric.date_only else timezone.localtime(first).date()


def rebuild(
    metrics: Iterable[Metric] | None = None, progress: Callable[[str, int, int], None] | None = None
) -> int:
    """Recompute every cell of every metric from the first fact to today."""
    metrics = list(metrics or REGISTRY.values())
    today = timezone.localdate()
    total = 0
    for index, metric in enumerate(metrics, start=1):
        first = first_fact_day(metric) or today
        total += rollup_metric(metric, first, today + datetime.timedelta(days=1))
        if progress:
            progress(metric.code, index, len(metrics))
    return total


# Incremental updates ------------------------------------------------------------------------

DIRTY_KEY = "metrics:dirty"
SCHEDULED_KEY = "metrics:scheduled"
DEBOUNCE_SECONDS = 5


def touch(*codes: str, day: datetime.date | None = None) -> None:
    """Mark metric cells dirty after a change commits; a burst of changes is rolled up once."""
    if not getattr(settings, "METRICS_ROLLUP_ON_COMMIT", True):
        return
    day = day or timezone.localdate()
    entries = {f"{code}|{day.isoformat()}" for code in codes if code in REGISTRY}
    if not entries:
        return

    def schedule():
        from grid.tasks import rollup_dirty

        dirty = set(cache.get(DIRTY_KEY) or ()) | entries
        cache.set(DIRTY_KEY, sorted(dirty), timeout=3600)
        if cache.add(SCHEDULED_KEY, 1, timeout=DEBOUNCE_SECONDS * 2):
            rollup_dirty.apply_async(countdown=DEBOUNCE_SECONDS)

    transaction.on_commit(schedule)


def rollup_dirty_cells() -> int:
    """Roll up everything marked dirty since the last run."""
    cache.delete(SCHEDULED_KEY)
    dirty = cache.get(DIRTY_KEY) or []
    cache.delete(DIRTY_KEY)
    by_metric: dict[str, set[datetime.date]] = {}
    for entry in dirty:
        code, day = entry.split("|")
        by_metric.setdefault(code, set()).add(datetime.date.fromisoformat(day))
    written = 0
    for code, days in by_metric.items():
        metric = REGISTRY.get(code)
        if metric is None:
            continue
        for day in sorted(days):
            written += rollup_metric(metric, day, day + datetime.timedelta(days=1))
    return written


def rollup_recent(days: int = 2) -> int:
    """The periodic job: recompute the last days (and so the current week, month, quarter, year)."""
    today = timezone.localdate()
    start = today - datetime.timedelta(days=days - 1)
    return sum(
        rollup_metric(metric, start, today + datetime.timedelta(days=1)) for metric in REGISTRY.values()
    )
