"""The PostgreSQL rollup pipeline: a few set-based statements per metric, whatever the data size.

1. Stage: one pass over the facts groups them per (leaf node, day) for totals and per (leaf node,
   month, value) for each dimension, with GROUPING SETS, into a temporary table.
2. Ancestors: the staged leaves joined to every ancestor by materialized-path prefix, once per
   distinct leaf (thousands of rows, not millions).
3. Cells: the stage fanned out to the ancestors, grouped per day, week and month (and dimension
   per month) in one statement; quarters and years are then summed from the month cells.
4. Write: the new cells are compared with the stored ones; only cells that appear, change or
   vanish are written. Re-running a job writes nothing.

A fact belongs to exactly one leaf node, so every metric adds up across the tree; distinct counts
(`additive=False`) do not add up across days and are staged per period instead of per day.
"""

import datetime

from django.db import connection
from django.db.models import Case, DecimalField, F, Q, QuerySet, Value, When
from django.db.models.aggregates import Count, Sum

from grid.models import GridNode

LEAF, ANCESTORS, CELLS, OLD, TOUCHED = (
    "rollup_leaf",
    "rollup_ancestors",
    "rollup_cells",
    "rollup_old",
    "rollup_touched",
)
DIMENSION_KINDS = ("month", "quarter", "year")
NUMBER = DecimalField(max_digits=18, decimal_places=2)


def node_lookup(metric) -> str:
    """`household__node__path` -> `household__node`: the fact's own node, without joining to it."""
    if not metric.path.endswith("__path"):
        raise ValueError(f"metric {metric.code}: path must end in __path")
    return metric.path[: -len("__path")]


def _row_value(aggregate) -> object:
    """One fact's share of an additive aggregate (COUNT or SUM, with an optional filter)."""
    source = aggregate.get_source_expressions()[0]
    condition = aggregate.filter or Q()
    if isinstance(aggregate, Count) and not aggregate.distinct:
        name = getattr(source, "name", None)
        if name is not None:
            condition &= Q(**{f"{name}__isnull": False})
        if not condition:
            return Value(1, output_field=NUMBER)
        return Case(When(condition, then=Value(1)), default=Value(0), output_field=NUMBER)
    if isinstance(aggregate, Sum) and not aggregate.distinct:
        if not condition:
            return source
        return Case(When(condition, then=source), default=None, output_field=NUMBER)
    raise ValueError(f"{aggregate!r} is not a COUNT or SUM; declare the metric additive=False")


def _execute(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _count(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _temp(name: str, select: str, params=()) -> None:
    _execute(f"DROP TABLE IF EXISTS {name}")
    _execute(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select}", params)
    _execute(f"ANALYZE {name}")


def stage(metric, facts: QuerySet, bucket, *, with_dimensions: bool, totals: bool = True) -> None:
    """Totals per (leaf, day) and, if asked, each dimension per (leaf, month), in one pass."""
    columns = {"_leaf": F(node_lookup(metric)), "_day": bucket}
    dims = metric.dimensions if with_dimensions else ()
    for index, dimension in enumerate(dims):
        columns[f"_x{index}"] = F(dimension)
    den = metric.denominator() if metric.denominator is not None else None
    if metric.additive:
        columns["_v"] = _row_value(metric.value())
        if den is not None:
            columns["_d"] = _row_value(den)
        rows = facts.annotate(**columns).order_by().values(*columns)
    else:  # a distinct count: grouped here per leaf and period, never summed over periods
        aggregates = {"_v": metric.value(), **({"_d": den} if den is not None else {})}
        keys = [key for key in columns if not key.startswith("_x")]
        rows = facts.annotate(**columns).order_by().values(*keys).annotate(**aggregates)
    sql, params = rows.query.sql_with_params()
    d = 'SUM(f."_d")' if den is not None else "NULL::numeric"
    if not dims:
        _temp(
            LEAF,
            f'SELECT f."_leaf" AS leaf, f."_day" AS day, -1 AS dim, \'\'::text AS x, '
            f'SUM(f."_v") AS v, {d} AS d FROM ({sql}) f GROUP BY f."_leaf", f."_day"',
            params,
        )
        return
    xs = [f'f."_x{index}"' for index in range(len(dims))]
    labels = [f"{dimension.split('__')[0]}=" for dimension in dims]
    day = 'COALESCE(f."_day", f."_month")' if totals else 'f."_month"'
    which = ('CASE WHEN GROUPING(f."_day") = 0 THEN -1 ' if totals else "CASE ") + " ".join(
        f"WHEN GROUPING({x}) = 0 THEN {index}" for index, x in enumerate(xs)
    )
    label = "CASE " + " ".join(f"WHEN GROUPING({x}) = 0 THEN %s || COALESCE({x}::text, '')" for x in xs)
    sets = ", ".join(
        [*(['(f."_leaf", f."_day")'] if totals else []), *[f'(f."_leaf", f."_month", {x})' for x in xs]]
    )
    _temp(
        LEAF,
        f'SELECT f."_leaf" AS leaf, {day} AS day, {which} END AS dim, '
        f"COALESCE({label} END, '') AS x, SUM(f.\"_v\") AS v, {d} AS d "
        f'FROM (SELECT *, date_trunc(\'month\', "_day")::date AS "_month" FROM ({sql}) q) f '
        f"GROUP BY GROUPING SETS ({sets})",
        [*labels, *params],
    )


def ancestors() -> None:
    """(leaf, ancestor) for every distinct staged leaf and each of its ancestors, itself included."""
    step = GridNode.steplen
    _temp(
        ANCESTORS,
        "SELECT l.id AS leaf, a.id AS anc FROM (SELECT DISTINCT leaf FROM rollup_leaf) s "
        "JOIN grid_gridnode l ON l.id = s.leaf "
        f"CROSS JOIN LATERAL generate_series({step}, length(l.path), {step}) AS cut "
        "JOIN grid_gridnode a ON a.path = substr(l.path, 1, cut)",
    )


def cells_from_days(
    lo: datetime.date, hi: datetime.date, kinds=("day", "week", "month"), dimensions: bool = True
) -> None:
    """Cells of `kinds` lying wholly inside [lo, hi), the span the stage covers."""
    sets, tags = [], []
    for kind in kinds:
        column = "s.day" if kind == "day" else f"date_trunc('{kind}', s.day)::date"
        sets.append(f"(a.anc, {column})")
        tags.append((kind, column))
    start = "CASE " + " ".join(f"WHEN GROUPING({c}) = 0 THEN {c}" for _k, c in tags) + " END"
    kind = "CASE " + " ".join(f"WHEN GROUPING({c}) = 0 THEN '{k}'" for k, c in tags) + " END"
    _temp(
        CELLS,
        f"SELECT a.anc AS node_id, {kind}::varchar(8) AS kind, {start} AS start, "
        "''::varchar(40) AS dimension, "
        "SUM(s.v) AS value, SUM(s.d) AS den FROM rollup_leaf s JOIN rollup_ancestors a ON a.leaf = s.leaf "
        f"WHERE s.dim = -1 GROUP BY GROUPING SETS ({', '.join(sets)})",
    )
    _keep_whole_periods(lo, hi)
    if dimensions:
        dimension_cells(lo, hi, fresh=False)


def dimension_cells(lo: datetime.date, hi: datetime.date, fresh: bool = True) -> None:
    """Breakdown cells per month from the stage (staged per month); whole months of [lo, hi) only."""
    if fresh:
        _temp(
            CELLS,
            "SELECT 0::bigint AS node_id, ''::varchar(8) AS kind, NULL::date AS start, "
            "''::varchar(40) AS dimension, 0::numeric AS value, 0::numeric AS den WHERE false",
        )
    _execute(
        f"INSERT INTO {CELLS} SELECT a.anc, 'month', s.day, s.x, SUM(s.v), SUM(s.d) "
        "FROM rollup_leaf s JOIN rollup_ancestors a ON a.leaf = s.leaf "
        "WHERE s.dim >= 0 AND s.day >= %s AND s.day + interval '1 month' <= %s GROUP BY a.anc, s.day, s.x",
        [lo, hi],
    )


def cells_from_stored_days(code: str, lo: datetime.date, hi: datetime.date) -> None:
    """Week and month totals summed from the stored day cells of the touched nodes."""
    _temp(
        CELLS,
        "SELECT m.node_id, CASE WHEN GROUPING(w) = 0 THEN 'week' ELSE 'month' END::varchar(8) AS kind, "
        "CASE WHEN GROUPING(w) = 0 THEN w ELSE mo END AS start, ''::varchar(40) AS dimension, "
        "SUM(m.value) AS value, SUM(m.denominator) AS den FROM (SELECT node_id, value, denominator, "
        "date_trunc('week', period_start)::date AS w, date_trunc('month', period_start)::date AS mo "
        "FROM grid_metricvalue WHERE metric = %s AND period_kind = 'day' AND dimension = '' "
        f"AND period_start >= %s AND period_start < %s AND node_id IN (SELECT node_id FROM {TOUCHED})) m "
        "GROUP BY GROUPING SETS ((m.node_id, w), (m.node_id, mo))",
        [code, lo, hi],
    )
    _keep_whole_periods(lo, hi)


def cells_of_period(kind: str, with_dimensions: bool) -> None:
    """Cells of one period kind from a stage already bucketed by that period (distinct counts)."""
    _temp(
        CELLS,
        "SELECT a.anc AS node_id, %s::varchar(8) AS kind, s.day AS start, "
        "(CASE WHEN s.dim >= 0 THEN s.x ELSE '' END)::varchar(40) AS dimension, "
        "SUM(s.v) AS value, SUM(s.d) AS den FROM rollup_leaf s JOIN rollup_ancestors a ON a.leaf = s.leaf "
        + ("" if with_dimensions else "WHERE s.dim = -1 ")
        + "GROUP BY a.anc, s.day, s.dim, 4",
        [kind],
    )


def _keep_whole_periods(lo: datetime.date, hi: datetime.date) -> None:
    _execute(
        f"DELETE FROM {CELLS} WHERE start < %s OR start + CASE kind WHEN 'day' THEN interval '1 day' "
        "WHEN 'week' THEN interval '7 days' WHEN 'month' THEN interval '1 month' "
        "WHEN 'quarter' THEN interval '3 months' ELSE interval '1 year' END > %s",
        [lo, hi],
    )


def cells_from_months(code: str, lo: datetime.date, hi: datetime.date, nodes: bool) -> None:
    """Quarter and year cells summed from the stored month cells (of the touched nodes only)."""
    restrict = f"AND m.node_id IN (SELECT node_id FROM {TOUCHED})" if nodes else ""
    _temp(
        CELLS,
        "SELECT m.node_id, CASE WHEN GROUPING(q) = 0 THEN 'quarter' ELSE 'year' END::varchar(8) AS kind, "
        "CASE WHEN GROUPING(q) = 0 THEN q ELSE y END AS start, m.dimension, SUM(m.value) AS value, "
        "SUM(m.denominator) AS den FROM (SELECT *, date_trunc('quarter', period_start)::date AS q, "
        "date_trunc('year', period_start)::date AS y FROM grid_metricvalue) m "
        "WHERE m.metric = %s AND m.period_kind = 'month' AND m.period_start >= %s AND m.period_start < %s "
        f"{restrict} GROUP BY GROUPING SETS ((m.node_id, m.dimension, q), (m.node_id, m.dimension, y))",
        [code, lo, hi],
    )


def write(
    code: str,
    domain: list[tuple[str, datetime.date, datetime.date]],
    nodes: bool = False,
    dimensions: bool | None = None,
    track: bool = True,
) -> int:
    """Make the stored cells of `domain` equal the new ones; returns the number of cells written.

    `domain` lists (period kind, first start, end of starts); with `nodes`, only the cells of the
    nodes in the touched table; `dimensions` True or False keeps to breakdowns or to totals. Every
    node with a changed cell is added to the touched table.
    """
    where = " OR ".join("(period_kind = %s AND period_start >= %s AND period_start < %s)" for _ in domain)
    params = [value for part in domain for value in part]
    restrict = f"AND node_id IN (SELECT node_id FROM {TOUCHED})" if nodes else ""
    if dimensions is not None:
        restrict += " AND dimension <> ''" if dimensions else " AND dimension = ''"
    _temp(
        OLD,
        "SELECT id, node_id, period_kind, period_start, dimension, value, denominator "
        f"FROM grid_metricvalue WHERE metric = %s AND ({where}) {restrict}",
        [code, *params],
    )
    same = (
        "c.node_id = o.node_id AND c.kind = o.period_kind AND c.start = o.period_start "
        "AND c.dimension = o.dimension"
    )
    # Every statement answers the number of cells it wrote; tracking notes their nodes as well.
    note = (
        (
            f", noted AS (INSERT INTO {TOUCHED} SELECT DISTINCT node_id FROM changed "
            f"WHERE node_id NOT IN (SELECT node_id FROM {TOUCHED})) SELECT count(*) FROM changed"
        )
        if track
        else " SELECT count(*) FROM changed"
    )
    written = _count(
        "WITH changed AS (DELETE FROM grid_metricvalue m USING rollup_old o WHERE m.id = o.id "
        f"AND NOT EXISTS (SELECT 1 FROM {CELLS} c WHERE {same}) RETURNING m.node_id)" + note
    )
    written += _count(
        "WITH changed AS (UPDATE grid_metricvalue m SET value = c.value, denominator = c.den, "
        f"computed_at = now() FROM rollup_old o JOIN {CELLS} c ON {same} WHERE m.id = o.id "
        "AND (m.value, m.denominator) IS DISTINCT FROM (c.value, c.den) "
        "RETURNING m.node_id)" + note
    )
    written += _count(
        "WITH changed AS (INSERT INTO grid_metricvalue (node_id, metric, period_kind, period_start, "
        "dimension, value, denominator, computed_at) SELECT c.node_id, %s, c.kind, c.start, c.dimension, "
        f"COALESCE(c.value, 0), c.den, now() FROM {CELLS} c WHERE NOT EXISTS (SELECT 1 FROM rollup_old o "
        f"WHERE {same}) RETURNING node_id)" + note,
        [code],
    )
    return written


def start_touched() -> None:
    _execute(f"DROP TABLE IF EXISTS {TOUCHED}")
    _execute(f"CREATE TEMP TABLE {TOUCHED} (node_id bigint PRIMARY KEY) ON COMMIT DROP")


def tune() -> None:
    """Room for the hash aggregates of a rebuild, for this transaction only."""
    _execute("SET LOCAL work_mem = '256MB'")
