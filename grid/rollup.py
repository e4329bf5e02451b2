"""Metric rollups: every node's figure covers its whole subtree, per day, week, month, quarter, year.

Apps describe their metrics (`<app>/metrics.py`) and register them here; the engine stays in
grid. A metric is computed for every ancestor of its facts in set-based queries, one per tree
depth, grouping facts by the prefix of their node's materialized path; nothing loops over rows in
Python. Day cells are written by deleting and inserting whole cells under a per-metric row lock,
so two runs never double count; longer periods are summed from the day cells (additive metrics)
or computed from the facts (distinct counts). Rates are numerator and denominator.
"""

import datetime
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.db.models import Aggregate, DateField, F, QuerySet, Value
from django.db.models.functions import Length, Substr, Trunc, TruncDate
from django.utils import timezone

from grid.models import DirtyCell, GridNode, MetricLock, MetricValue

logger = logging.getLogger(__name__)

PERIOD_KINDS = ("day", "week", "month", "quarter", "year")
LONG_PERIODS = PERIOD_KINDS[1:]
# Breakdowns (by category, source...) are kept per month and longer: day cells hold totals only.
DIMENSION_KINDS = ("month", "quarter", "year")


@dataclass(frozen=True)
class Dimension:
    """A breakdown by a computed value rather than a field (a duration's histogram bucket)."""

    name: str
    expression: Callable[[], object]


def dimension_name(dimension: "str | Dimension") -> str:
    return dimension.name if isinstance(dimension, Dimension) else dimension.split("__")[0]


def dimension_expression(dimension: "str | Dimension"):
    return dimension.expression() if isinstance(dimension, Dimension) else F(dimension)


@dataclass(frozen=True)
class Metric:
    code: str
    label: object
    facts: Callable[[], QuerySet]
    path: str
    date: str | None
    value: Callable[[], Aggregate]
    denominator: Callable[[], Aggregate] | None = None
    dimensions: tuple["str | Dimension", ...] = ()
    additive: bool = True
    unit: str = ""
    records: Callable | None = None  # (node, start, end) -> URL of the records behind the figure
    date_only: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)
    # Percentiles read off the metric's histogram breakdown (`grid.histogram`), kept per month,
    # quarter and year as breakdowns `p=50`, `p=90`.
    quantiles: tuple[int, ...] = ()
    # A metric whose facts each belong to many periods (a household due a visit from one visit
    # until the next) stages its own rows: `stage(spans)`, for spans (kind, lo, hi), returns SQL
    # and parameters for (kind, leaf, period start, value, denominator) per period kind, leaf
    # node and period in [lo, hi), read from every fact whatever its date, in one statement.
    # Such a metric is `additive=False`.
    stage: Callable[[list[tuple[str, datetime.date, datetime.date]]], tuple[str, list]] | None = None
    kinds: tuple[str, ...] = PERIOD_KINDS  # the period kinds kept
    # The first day with figures, where that is not the first fact's date.
    first_day: Callable[[], datetime.date | None] | None = None


REGISTRY: dict[str, Metric] = {}


def register(*metrics: Metric) -> None:
    from grid import partitions

    for metric in metrics:
        partitions.table(metric.code)  # a code that cannot name its table is refused here
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


def records_of(changelist: str, date: str, **extra):
    """A metric's `records`: the admin list (`app_model`) of the subtree's records dated by `date`
    within the period, with `extra` filters, the same facts the figure counts."""
    from django.urls import reverse
    from django.utils.http import urlencode

    def url(node, start, end) -> str:
        low, high = (moment.isoformat() for moment in period_bounds(start, end))
        query = {"subtree": node.pk, f"{date}__gte": low, f"{date}__lt": high, **extra}
        return reverse(f"admin:{changelist}_changelist") + "?" + urlencode(query)

    return url


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
        rows = rows.annotate(_dim=dimension_expression(dimension))
    aggregates = {"_v": metric.value()}
    if metric.denominator is not None:
        aggregates["_d"] = metric.denominator()
    return rows.order_by().values(*keys).annotate(**aggregates)


def _facts_between(metric: Metric, start: datetime.date, end: datetime.date) -> QuerySet:
    facts = metric.facts()
    if metric.date is None:
        return facts
    if metric.date_only:
        return facts.filter(**{f"{metric.date}__gte": start, f"{metric.date}__lt": end})
    low, high = _bounds(start, end)
    return facts.filter(**{f"{metric.date}__gte": low, f"{metric.date}__lt": high})


def _bucket(metric: Metric, kind: str):
    if metric.date is None:  # a snapshot: the figure as of now, kept as this month's
        return Value(period_start("month", timezone.localdate()), output_field=DateField())
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
    dimensions = metric.dimensions if kind in DIMENSION_KINDS else ()
    for depth in range(1, max_depth + 1):
        for dimension in (None, *dimensions):
            for row in _grouped(metric, facts, bucket, depth, dimension):
                label = f"{dimension_name(dimension)}={row['_dim']}" if dimension else ""
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
    if metric.quantiles and kind in DIMENSION_KINDS and starts:
        _write_quantiles(metric, kind, min(starts), max(starts))
    return len(rows)


def _write_quantiles(metric: Metric, kind: str, first: datetime.date, last: datetime.date) -> None:
    """The percentile cells of the stored histograms of one kind, in one statement."""
    from grid import histogram

    source = (
        "(SELECT node_id, period_kind AS kind, period_start AS start, dimension, denominator AS den "
        "FROM grid_metricvalue WHERE metric = %s AND period_kind = %s "
        "AND period_start >= %s AND period_start <= %s) s"
    )
    select, params = histogram.quantile_select(source, metric.quantiles, [metric.code, kind, first, last])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO grid_metricvalue (node_id, metric, period_kind, period_start, dimension, value, "  # nosec B608
            f"denominator, computed_at) SELECT q.node_id, %s, q.kind, q.start, q.dimension, q.value, q.den, "
            f"%s FROM ({select}) q",
            [metric.code, timezone.now(), *params],
        )


def _fast() -> bool:
    """PostgreSQL computes and writes the cells in set-based statements (`grid.rollup_sql`)."""
    return connection.vendor == "postgresql"


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


EVER = (datetime.date(1, 1, 1), datetime.date(9999, 1, 1))


def _whole(kind: str, lo: datetime.date, hi: datetime.date) -> tuple[str, datetime.date, datetime.date]:
    """(kind, first start, end of starts) of the periods lying wholly inside [lo, hi)."""
    starts = [s for s in _period_starts(kind, lo, hi) if s >= lo and period_end(kind, s) <= hi]
    if not starts:
        return (kind, lo, lo)
    return (kind, starts[0], starts[-1] + datetime.timedelta(days=1))


def rollup_metric(metric: Metric, start: datetime.date, end: datetime.date, *, full: bool = False) -> int:
    """Recompute `metric` for the days in [start, end) and every longer period touching them.

    Returns the number of cells written. With `full`, every stored cell of the metric outside
    the recomputed periods is removed too (a rebuild).
    """
    if _fast() and not (full and metric.date is not None):  # a rebuild loads a missing table itself
        _ensure_partition(metric)
    return _rollup(metric, start, end, full)


def _ensure_partition(metric: Metric) -> None:
    """The metric's table in the store, made if missing in a short transaction of its own (unless
    one is open already), under the metric's lock: attaching it locks the store against other
    attaches until commit, which must not last a whole rollup of other metrics side by side."""
    from grid import partitions

    if partitions.attached(metric.code):
        return
    with transaction.atomic():
        _lock(metric)
        partitions.ensure(metric.code)


@transaction.atomic
def _rollup(metric: Metric, start: datetime.date, end: datetime.date, full: bool) -> int:
    _lock(metric)
    if _fast():
        return _rollup_sql(metric, start, end, full)
    return _rollup_portable(metric, start, end)


def _rollup_sql(metric: Metric, start: datetime.date, end: datetime.date, full: bool) -> int:
    from grid import rollup_sql as sql

    sql.tune(rebuild=full)
    sql.start_touched()
    if full and metric.date is not None:
        return _rebuild_sql(metric, start, end)
    # Otherwise the metric's table was made by `rollup_metric`, before this transaction.
    if metric.date is None:  # a snapshot of the register: this month's cell holds the latest figure
        month = period_start("month", timezone.localdate())
        sql.stage(metric, metric.facts(), _bucket(metric, "month"), with_dimensions=False)
        sql.ancestors()
        sql.cells_of_period("month")
        return sql.write(metric.code, [("month", month, month + datetime.timedelta(days=1))])
    last = end - datetime.timedelta(days=1)
    if not metric.additive:
        written = 0
        for kind, lo, hi in _distinct_periods(metric, start, end):
            written += sql.write(metric.code, [(kind, lo, hi)])
        return written
    lo, hi = _weeks_and_months(start, last)
    day = _bucket(metric, "day")
    # Incremental: the days from their facts; weeks and months summed from the stored days of
    # the nodes whose days changed; breakdowns from the month's facts; quarters and years from
    # the months of the nodes that changed.
    # One stage and one ancestor table for the changed days' totals and their months' breakdowns.
    sql.stage(metric, _facts_between(metric, start, end), day, with_dimensions=False)
    mlo, mhi = period_start("month", start), period_end("month", period_start("month", last))
    if metric.dimensions:
        # Breakdowns are staged per month; within one month, that is a constant for every fact.
        one_month = mhi == period_end("month", mlo)
        bucket = Value(mlo, output_field=DateField()) if one_month else day
        sql.stage(
            metric, _facts_between(metric, mlo, mhi), bucket, with_dimensions=True, totals=False, append=True
        )
    sql.ancestors()
    sql.cells_from_days(start, end, longer=(), dimensions=False, integral=sql.integral(metric))
    written = sql.write(metric.code, [("day", start, end)])
    sql.cells_from_stored_days(metric.code, lo, hi)
    weeks_and_months = [_whole("week", lo, hi), _whole("month", lo, hi)]
    written += sql.write(metric.code, weeks_and_months, nodes=True, dimensions=False)
    if metric.dimensions:
        sql.dimension_cells(mlo, mhi)
        sql.add_quantiles(metric)
        written += sql.write(metric.code, [("month", mlo, mhi)], dimensions=True)
    # The quarters around the changed months from their months, then the years from their
    # quarters: 3 and 4 cells read per node and breakdown instead of 12.
    for kind, source in (("quarter", "month"), ("year", "quarter")):
        klo, khi = (
            period_start(kind, lo),
            period_end(kind, period_start(kind, hi - datetime.timedelta(days=1))),
        )
        sql.cells_summed(metric.code, source, kind, klo, khi)
        sql.add_quantiles(metric)
        written += sql.write(metric.code, [(kind, klo, khi)], nodes=True)
    return written


def _weeks_and_months(start: datetime.date, last: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The whole weeks and months around [start, last]."""
    lo = min(period_start("week", start), period_start("month", start))
    hi = max(period_end("week", period_start("week", last)), period_end("month", period_start("month", last)))
    return lo, hi


def _distinct_periods(metric: Metric, start: datetime.date, end: datetime.date):
    """A metric that does not add up over days, computed kind after kind for the periods touching
    [start, end): yields (kind, first start, end of starts) with that kind's cells computed."""
    from grid import rollup_sql as sql

    last = end - datetime.timedelta(days=1)
    spans = [
        (kind, period_start(kind, start), period_end(kind, period_start(kind, last))) for kind in metric.kinds
    ]
    if metric.stage is not None:  # every kind staged at once; their leaves' ancestors found once
        sql.stage_all(*metric.stage(spans))
    for kind, lo, hi in spans:
        if metric.stage is not None:
            sql.stage_kind(kind)
        else:
            sql.stage(metric, _facts_between(metric, lo, hi), _bucket(metric, kind), with_dimensions=False)
        sql.ancestors(add=metric.stage is not None)
        sql.cells_of_period(kind)
        yield kind, lo, hi


def _rebuild_sql(metric: Metric, start: datetime.date, end: datetime.date) -> int:
    """Every cell of the metric computed from its facts into one table, then stored at once."""
    from grid import rollup_sql as sql

    if not metric.additive:
        for index, _span in enumerate(_distinct_periods(metric, start, end)):
            sql.keep_cells(first=index == 0)
        return sql.replace_all(metric.code, sql.KEPT)
    # Every day, week and month of the facts, breakdowns included, from one stage; quarters and
    # years from the months.
    lo, hi = _weeks_and_months(start, end - datetime.timedelta(days=1))
    sql.stage(metric, _facts_between(metric, lo, hi), _bucket(metric, "day"), with_dimensions=True)
    sql.ancestors()
    sql.cells_from_days(lo, hi, integral=sql.integral(metric))
    sql.cells_of_quarters_and_years()
    sql.add_quantiles(metric)
    return sql.replace_all(metric.code)


def _rollup_portable(metric: Metric, start: datetime.date, end: datetime.date) -> int:
    """Elsewhere (SQLite for `make run`): one grouped query per depth, kind and dimension."""
    max_depth = _depths()
    if metric.date is None:
        month = period_start("month", timezone.localdate())
        return _write(metric, "month", [month], _rows_for(metric, metric.facts(), "month", max_depth))
    if metric.stage is not None:
        return _write_staged(metric, start, end)
    written = _write(
        metric,
        "day",
        _days(start, end),
        _rows_for(metric, _facts_between(metric, start, end), "day", max_depth),
    )
    for kind in LONG_PERIODS:
        starts = _period_starts(kind, start, end)
        full_start, full_end = starts[0], period_end(kind, starts[-1])
        facts = _facts_between(metric, full_start, full_end)
        written += _write(metric, kind, starts, _rows_for(metric, facts, kind, max_depth))
    return written


def _write_staged(metric: Metric, start: datetime.date, end: datetime.date) -> int:
    """A self-staged metric's cells of every kind, its leaf rows summed into every ancestor
    (matched by materialized-path prefix) in the same statement."""
    spans = []
    for kind in metric.kinds:
        starts = _period_starts(kind, start, end)
        spans.append((kind, starts, starts[0], period_end(kind, starts[-1])))
    select, params = metric.stage([(kind, lo, hi) for kind, _starts, lo, hi in spans])
    rows: dict[str, list] = {kind: [] for kind in metric.kinds}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.kind, a.path, s.start, SUM(s.v), SUM(s.d) FROM (" + select + ") s "  # nosec B608
            "JOIN grid_gridnode l ON l.id = s.leaf JOIN grid_gridnode a "
            "ON substr(l.path, 1, length(a.path)) = a.path GROUP BY s.kind, a.path, s.start",
            params,
        )
        for kind, path, day, value, denominator in cursor:
            rows[kind].append((path, _as_date(day), "", value or 0, denominator))
    return sum(_write(metric, kind, starts, rows[kind]) for kind, starts, _lo, _hi in spans)


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])


def first_fact_day(metric: Metric) -> datetime.date | None:
    if metric.first_day is not None:
        return metric.first_day()
    if metric.date is None:
        return None
    first = metric.facts().order_by(metric.date).values_list(metric.date, flat=True).first()
    if first is None:
        return None
    return first if metric.date_only else timezone.localtime(first).date()


def rebuild(
    metrics: Iterable[Metric] | None = None, progress: Callable[[str, int, int], None] | None = None
) -> int:
    """Recompute every cell of every metric from the first fact to the end of this week and month.

    Both engines then cover the same days, facts stamped later today included.
    """
    metrics = list(metrics or REGISTRY.values())
    today = timezone.localdate()
    end = max(period_end(kind, period_start(kind, today)) for kind in ("week", "month"))
    jobs = [(metric, [(first_fact_day(metric) or today, end)]) for metric in metrics]
    return sum(_each_metric(jobs, progress, full=True))


def _workers(jobs: int) -> int:
    """How many metrics to roll up at once: on PostgreSQL and outside any open transaction only
    (each runs in its own connection, which sees committed facts alone)."""
    if jobs < 2 or not _fast() or connection.in_atomic_block:
        return 1
    return max(1, min(jobs, getattr(settings, "METRICS_ROLLUP_WORKERS", 1)))


Spans = list[tuple[datetime.date, datetime.date]]


def _each_metric(
    jobs: list[tuple[Metric, Spans]],
    progress: Callable[[str, int, int], None] | None = None,
    full: bool = False,
) -> list[int]:
    """Roll each metric up over its [start, end) spans in order, metrics side by side on
    `METRICS_ROLLUP_WORKERS` connections (metrics share no cells, and each run holds its metric's
    lock); returns the cells each metric wrote. Progress is reported as metrics finish."""

    def roll(metric: Metric, spans: Spans) -> int:
        return sum(rollup_metric(metric, start, end, full=full) for start, end in spans)

    workers = _workers(len(jobs))
    if workers == 1:
        written = []
        for index, (metric, spans) in enumerate(jobs, start=1):
            written.append(roll(metric, spans))
            if progress:
                progress(metric.code, index, len(jobs))
        return written

    def run(metric: Metric, spans: Spans) -> int:
        try:
            return roll(metric, spans)
        finally:
            connections.close_all()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rollup") as pool:
        futures = {
            pool.submit(run, metric, spans): (position, metric)
            for position, (metric, spans) in enumerate(jobs)
        }
        written = [0] * len(jobs)
        for index, future in enumerate(as_completed(futures), start=1):
            position, metric = futures[future]
            written[position] = future.result()
            if progress:
                progress(metric.code, index, len(jobs))
    return written


# Incremental updates ------------------------------------------------------------------------

SCHEDULED_KEY = "metrics:scheduled"
DEBOUNCE_SECONDS = 5
# At most this many marks per job run; the next run takes the rest.
MARKS_PER_RUN = 50_000


def touch(*codes: str, day: datetime.date | None = None) -> None:
    """Mark metric cells dirty with the change (same transaction); once it commits, schedule the
    incremental job, debounced so that a burst of changes is rolled up once.

    If Redis or the broker is down the change still succeeds: its marks are in the database, and the
    periodic sweep (`rollup_dirty` in the beat schedule) rolls them up once a worker runs again.
    """
    if not getattr(settings, "METRICS_ROLLUP_ON_COMMIT", True):
        return
    day = day or timezone.localdate()
    marks = [DirtyCell(metric=code, day=day) for code in dict.fromkeys(codes) if code in REGISTRY]
    if not marks:
        return
    DirtyCell.objects.bulk_create(marks)
    transaction.on_commit(schedule_incremental)


def touch_history(*codes: str) -> None:
    """Mark the metrics (every metric, without `codes`) from their first fact to today, in the same
    transaction, for a change that moves records between ancestors or periods everywhere (a node
    moved in the tree, a visit cadence changed). Marks a week apart: the job rolls each metric's
    history up as one span, not day by day."""
    if not getattr(settings, "METRICS_ROLLUP_ON_COMMIT", True):
        return
    today = timezone.localdate()
    chosen = [REGISTRY[code] for code in codes if code in REGISTRY] if codes else REGISTRY.values()
    marks = [
        DirtyCell(metric=metric.code, day=day)
        for metric in chosen
        for day in marks_for_span(first_fact_day(metric) or today, today)
    ]
    DirtyCell.objects.bulk_create(marks, batch_size=5000)
    if marks:
        transaction.on_commit(schedule_incremental)


def touch_since(*codes: str, day: datetime.date) -> None:
    """Mark the metrics from `day` to today: a change whose effect runs on to every later period
    (a visit recorded late moves the household's later due dates)."""
    today = timezone.localdate()
    if day >= today:
        touch(*codes, day=day)
        return
    if not getattr(settings, "METRICS_ROLLUP_ON_COMMIT", True):
        return
    marks = [
        DirtyCell(metric=code, day=mark)
        for code in dict.fromkeys(codes)
        if code in REGISTRY
        for mark in marks_for_span(day, today)
    ]
    if marks:
        DirtyCell.objects.bulk_create(marks)
        transaction.on_commit(schedule_incremental)


def schedule_incremental() -> None:
    from grid.tasks import rollup_dirty

    try:
        if cache.add(SCHEDULED_KEY, 1, timeout=DEBOUNCE_SECONDS * 2):
            rollup_dirty.apply_async(countdown=DEBOUNCE_SECONDS)
    except Exception as error:  # Redis or the broker unreachable: the sweep catches up later.
        logger.warning("Metric rollup not scheduled (%s); the periodic sweep will roll it up.", error)


def rollup_dirty_cells() -> int:
    """Roll up every (metric, day) marked dirty, then delete exactly the marks it read.

    A mark committed after the read stays for the next run; a run that dies midway deletes nothing;
    two runs at once both recompute (from the facts, never by increment) and both delete.
    """
    try:
        cache.delete(SCHEDULED_KEY)
    except Exception as error:
        logger.warning("Could not clear the rollup schedule flag (%s).", error)
    marks = list(DirtyCell.objects.order_by("id").values_list("id", "metric", "day")[:MARKS_PER_RUN])
    by_metric: dict[str, set[datetime.date]] = {}
    for _id, code, day in marks:
        by_metric.setdefault(code, set()).add(day)
    jobs = [(REGISTRY[code], dirty_spans(days)) for code, days in by_metric.items() if code in REGISTRY]
    jobs.sort(key=lambda job: -len(job[0].dimensions))  # breakdowns take longest: start them first
    written = sum(_each_metric(jobs))
    ids = [mark[0] for mark in marks]
    for start in range(0, len(ids), 10_000):
        DirtyCell.objects.filter(id__in=ids[start : start + 10_000]).delete()
    return written


# Dirty days this close together are rolled up as one span: recomputing the few clean days between
# them costs less than rolling each day's week, month, quarter and year up again and again (a
# year of marked days, after a metric's definition changed, took 10 minutes one day at a time).
SPAN_GAP_DAYS = 7


def dirty_spans(days) -> list[tuple[datetime.date, datetime.date]]:
    """[start, end) spans covering the days, nearby days merged into one span."""
    spans: list[list[datetime.date]] = []
    for day in sorted(days):
        if spans and (day - spans[-1][1]).days <= SPAN_GAP_DAYS:
            spans[-1][1] = day + datetime.timedelta(days=1)
        else:
            spans.append([day, day + datetime.timedelta(days=1)])
    return [(start, end) for start, end in spans]


def marks_for_span(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The days to mark so that the job rolls [first, last] up as one span (`dirty_spans` merges
    marks this close): one day in every SPAN_GAP_DAYS, and the last."""
    days, day = [], first
    while day < last:
        days.append(day)
        day += datetime.timedelta(days=SPAN_GAP_DAYS)
    return [*days, last]


def rollup_recent(days: int = 2) -> int:
    """The periodic job: recompute the last days (and so the current week, month, quarter, year)."""
    today = timezone.localdate()
    start = today - datetime.timedelta(days=days - 1)
    end = today + datetime.timedelta(days=1)
    return sum(_each_metric([(metric, [(start, end)]) for metric in REGISTRY.values()]))
