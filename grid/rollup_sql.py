"""The PostgreSQL rollup pipeline: a few set-based statements per metric, whatever the data size.

1. Stage: one pass over the facts groups them per (leaf node, day) for totals and per (leaf node,
   month, value) for each dimension, with GROUPING SETS, into a temporary table.
2. Ancestors: the staged leaves joined to every ancestor by materialized-path prefix, once per
   distinct leaf (thousands of rows, not millions).
3. Cells: the stage fanned out to the ancestors, grouped per day, week and month (and dimension
   per month) in one statement; quarters and years are then summed from the month cells.
4. Write: the new cells are compared with the stored ones; only cells that appear, change or
   vanish are written. Re-running a job writes nothing. A rebuild of a metric with no cells
   yet loads them as the metric's new partition of the store (`grid.partitions`).

A fact belongs to exactly one leaf node, so every metric adds up across the tree; distinct counts
(`additive=False`) do not add up across days and are staged per period instead of per day.
"""

import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Case, DecimalField, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.aggregates import Count, Sum

from grid import histogram, partitions
from grid.models import GridNode
from grid.rollup import EVER, PERIOD_KINDS, dimension_expression, dimension_name

LEAF, ANCESTORS, CELLS, TOUCHED = ("rollup_leaf", "rollup_ancestors", "rollup_cells", "rollup_touched")
NUMBER = DecimalField(max_digits=18, decimal_places=2)
QUANTILES = histogram.QUANTILE_PREFIX + "%"


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
        if name not in (None, "id", "pk"):
            condition &= Q(**{f"{name}__isnull": False})
        # Counts stay integers: PostgreSQL sums bigints far faster than numerics.
        if not condition:
            return Value(1, output_field=IntegerField())
        return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())
    if isinstance(aggregate, Sum) and not aggregate.distinct:
        if not condition:
            return source
        return Case(When(condition, then=source), default=None, output_field=NUMBER)
    raise ValueError(f"{aggregate!r} is not a COUNT or SUM; declare the metric additive=False")


def integral(metric) -> bool:
    """Counts (and count denominators) are staged and summed as 32-bit integers: PostgreSQL sums
    those into bigints, while it sums bigints into numerics, several times slower. A count of one
    leaf, node or period never nears two billion."""
    if not metric.additive or not isinstance(metric.value(), Count) or metric.value().distinct:
        return False
    return metric.denominator is None or isinstance(metric.denominator(), Count)


def _execute(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _count(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _temp(name: str, select: str, params=(), analyze: bool = True) -> None:
    _execute(f"DROP TABLE IF EXISTS {name}")
    _execute(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select}", params)
    if analyze:
        _execute(f"ANALYZE {name}")


# Above this many touched nodes, their stored cells are read as one range of the period index
# (the metric's cells of the period kind, hashed against the touched nodes) rather than one
# probe of the cell index per node: the range reads the heap in the order a rebuild wrote it,
# the probes read it one random page per cell. PostgreSQL cannot choose by itself, as it judges a
# period range of one metric and kind to hold a single row.
MANY_TOUCHED = 300


def _in_touched(column: str = "node_id") -> str:
    """`column IN (the touched nodes)`, written so that PostgreSQL takes the cheaper index."""
    many = _count(f"SELECT count(*) FROM (SELECT 1 FROM {TOUCHED} LIMIT %s) t", [MANY_TOUCHED + 1])  # nosec B608
    # `+ 0` keeps the planner off the node-first cell index.
    target = f"{column} + 0" if many > MANY_TOUCHED else column
    return f"{target} IN (SELECT node_id FROM {TOUCHED})"  # nosec B608


def stage(
    metric, facts: QuerySet, bucket, *, with_dimensions: bool, totals: bool = True, append: bool = False
) -> None:
    """Totals per (leaf, day) unless `totals` is false, and if asked each dimension per (leaf,
    month), into the leaf table (added to what it holds with `append`), in one pass over the facts.
    """
    base = {"_leaf": F(node_lookup(metric)), "_day": bucket}
    den = metric.denominator() if metric.denominator is not None else None
    cast = "::int" if integral(metric) else ""
    d = f'SUM(f."_d"){cast}' if den is not None else "NULL::numeric"
    if not metric.additive:  # a distinct count: grouped per leaf and period, never summed over periods
        aggregates = {"_v": metric.value(), **({"_d": den} if den is not None else {})}
        rows = facts.annotate(**base).order_by().values(*base).annotate(**aggregates)
        sql, params = rows.query.sql_with_params()
        _temp(
            LEAF,
            'SELECT f."_leaf" AS leaf, f."_day" AS day, -1 AS dim, \'\'::text AS x, f."_v" AS v, '
            + ('f."_d"' if den is not None else "NULL::numeric")
            + f" AS d FROM ({sql}) f",
            params,
        )
        return
    shares = {"_v": _row_value(metric.value()), **({"_d": _row_value(den)} if den is not None else {})}
    dims = metric.dimensions if with_dimensions else ()
    if not dims:
        if not totals:
            return
        rows = facts.annotate(**base, **shares).order_by().values(*base, *shares)
        sql, params = rows.query.sql_with_params()
        select = (
            f'SELECT f."_leaf" AS leaf, f."_day" AS day, -1 AS dim, \'\'::text AS x, SUM(f."_v"){cast} AS v, '  # nosec B608
            f'{d} AS d FROM ({sql}) f GROUP BY f."_leaf", f."_day"'
        )
        if append:
            _execute(f"INSERT INTO {LEAF} " + select, params)
            _execute(f"ANALYZE {LEAF}")
        else:
            _temp(LEAF, select, params)
        return
    keys = [_dimension_key(facts.model, dimension) for dimension in dims]
    xs = {f"_x{index}": key for index, (key, _lookup) in enumerate(keys)}
    rows = facts.annotate(**base, **xs, **shares).order_by().values(*base, *xs, *shares)
    sql, params = rows.query.sql_with_params()
    # One hashed pass over the facts with a grouping set for the totals per (leaf, day) and one
    # per dimension per (leaf, month): grouping by every dimension together, then unpivoting,
    # would first build every combination (category x source...) per leaf and month.
    # A value held in a related table (a category's code) is grouped by its foreign key and read
    # once per group, not joined to every fact.
    sets = [f'(1, 2, f."{x}")' for x in xs]
    which = [f'WHEN GROUPING(f."{x}") = 0 THEN {index}' for index, x in enumerate(xs)]
    day = "NULL::date"
    if totals:  # column 3: the day, grouped in the totals' set only
        sets.insert(0, "(1, 3)")
        which.insert(0, 'WHEN GROUPING(f."_day") = 0 THEN -1')
        day = 'f."_day"'
    columns = ", ".join(f'f."{x}" AS k{index}' for index, x in enumerate(xs))
    quote = connection.ops.quote_name
    joins, labels_of = "", []
    for index, (_key, lookup) in enumerate(keys):
        if lookup is None:
            labels_of.append(f"WHEN {index} THEN g.k{index}::text")
            continue
        table, pk, column = (quote(name) for name in lookup)
        joins += f" LEFT JOIN {table} r{index} ON g.dim = {index} AND r{index}.{pk} = g.k{index}"
        labels_of.append(f"WHEN {index} THEN r{index}.{column}::text")
    select = (
        "SELECT g.leaf, COALESCE(g.day, g.month) AS day, g.dim, CASE WHEN g.dim < 0 THEN '' "  # nosec B608
        f"ELSE (%s::text[])[g.dim + 1] || COALESCE(CASE g.dim {' '.join(labels_of)} END, '') END AS x, "
        'g.v, g.d FROM (SELECT f."_leaf" AS leaf, '
        f"date_trunc('month', f.\"_day\"::timestamp)::date AS month, {day} AS day, "
        f'CASE {" ".join(which)} END AS dim, {columns}, SUM(f."_v"){cast} AS v, {d} AS d '
        f"FROM ({sql}) f GROUP BY GROUPING SETS ({', '.join(sets)})) g{joins}"
    )
    labels = [f"{dimension_name(dimension)}=" for dimension in dims]
    if append:
        _execute(f"INSERT INTO {LEAF} " + select, [labels, *params])
        _execute(f"ANALYZE {LEAF}")
    else:
        _temp(LEAF, select, [labels, *params])


STAGED = "rollup_staged"


def stage_all(select: str, params) -> None:
    """A self-staged metric's rows of every kind, (kind, leaf, start, v, d), in one statement."""
    _temp(STAGED, select, params)


def stage_kind(kind: str) -> None:
    """The staged rows of one kind, as the stage of that period kind."""
    _temp(
        LEAF,
        f"SELECT s.leaf, s.start AS day, -1 AS dim, ''::text AS x, s.v, s.d FROM {STAGED} s "  # nosec B608
        "WHERE s.kind = %s",
        [kind],
    )


def _dimension_key(model, dimension):
    """(what the facts are grouped by, and where its label is read or None) for one dimension:
    `category__code` groups by `category_id` and reads the code from the category table."""
    if isinstance(dimension, str) and dimension.count("__") == 1:
        relation, name = dimension.split("__")
        try:
            field = model._meta.get_field(relation)
        except FieldDoesNotExist:  # an annotation: grouped as it is
            field = None
        if field is not None and field.many_to_one:
            related = field.related_model._meta
            return F(field.attname), (
                related.db_table,
                field.target_field.column,
                related.get_field(name).column,
            )
    return dimension_expression(dimension), None


# Above this many staged leaves, their ancestors are found by one hashed join of the leaves'
# path prefixes with the tree rather than one index lookup per (leaf, depth): for the
# households of a 100x street (67,000 units, six levels deep) 0.34 s against 1.07 s; for a
# thousand grids the lookups take milliseconds where hashing the tree takes a tenth of a second.
MANY_LEAVES = 10_000
LEAVES = "rollup_leaves"


def ancestors(add: bool = False) -> None:
    """(leaf, ancestor) for every distinct staged leaf and each of its ancestors, itself included.
    With `add`, a table this transaction already holds is kept and only the leaves it lacks are
    added (period kinds staged one after the other over much the same leaves)."""
    step = GridNode.steplen
    leaves = "SELECT DISTINCT leaf FROM rollup_leaf"
    # This connection's own temporary table only: other connections' of the same name are not ours.
    kept = add and _count("SELECT to_regclass(%s) IS NOT NULL", [f"pg_temp.{ANCESTORS}"])
    if kept:
        leaves += f" EXCEPT SELECT leaf FROM {ANCESTORS}"  # nosec B608
    _temp(LEAVES, leaves, analyze=False)
    if _count(f"SELECT count(*) FROM (SELECT 1 FROM {LEAVES} LIMIT %s) s", [MANY_LEAVES + 1]) > MANY_LEAVES:  # nosec B608
        select = (
            f"SELECT s.leaf, a.id AS anc FROM {LEAVES} s JOIN grid_gridnode l ON l.id = s.leaf "  # nosec B608
            f"CROSS JOIN LATERAL generate_series({step}, length(l.path), {step}) AS cut "
            "JOIN grid_gridnode a ON a.path = substr(l.path, 1, cut)"
        )
    else:
        # Index lookups, one per leaf and one per (leaf, depth): left to itself, PostgreSQL
        # takes generate_series for a thousand rows and hashes the whole tree, twice (OFFSET 0
        # keeps each subquery a lookup).
        select = (
            f"SELECT s.leaf, a.id AS anc FROM {LEAVES} s "  # nosec B608
            "CROSS JOIN LATERAL (SELECT path FROM grid_gridnode WHERE id = s.leaf OFFSET 0) l "
            f"CROSS JOIN LATERAL generate_series({step}, length(l.path), {step}) AS cut "
            "CROSS JOIN LATERAL (SELECT id FROM grid_gridnode WHERE path = substr(l.path, 1, cut) OFFSET 0) a"
        )
    if not kept:
        _temp(ANCESTORS, select)
    elif _execute(f"INSERT INTO {ANCESTORS} {select}"):
        _execute(f"ANALYZE {ANCESTORS}")


def cells_from_days(
    lo: datetime.date,
    hi: datetime.date,
    longer=("week", "month"),
    dimensions: bool = True,
    integral: bool = False,
) -> None:
    """Day cells, and those of the `longer` kinds, lying wholly inside [lo, hi), the span the
    stage covers, each fanned out from the stage to its ancestors (plain GROUP BYs: PostgreSQL
    runs them several times faster than one GROUPING SETS statement)."""
    cast = "::int" if integral else ""
    _temp(
        CELLS,
        "SELECT a.anc AS node_id, 'day'::varchar(8) AS kind, s.day AS start, ''::varchar(40) AS dimension, "  # nosec B608
        f"SUM(s.v){cast} AS value, SUM(s.d){cast} AS den FROM rollup_leaf s "
        "JOIN rollup_ancestors a ON a.leaf = s.leaf WHERE s.dim = -1 GROUP BY a.anc, s.day",
        analyze=False,
    )
    for kind in longer:  # each leaf's days summed into its weeks (months) first, then fanned out
        _execute(
            f"INSERT INTO {CELLS} SELECT a.anc, %s, s.start, '', SUM(s.v){cast}, SUM(s.d){cast} FROM ("  # nosec B608
            "SELECT leaf, date_trunc(%s, day::timestamp)::date AS start, SUM(v) AS v, SUM(d) AS d "
            "FROM rollup_leaf WHERE dim = -1 GROUP BY 1, 2) s JOIN rollup_ancestors a ON a.leaf = s.leaf "
            "GROUP BY a.anc, s.start",
            [kind, kind],
        )
    _keep_whole_periods(lo, hi)
    if dimensions:
        dimension_cells(lo, hi, fresh=False)
    _execute(f"ANALYZE {CELLS}")


def dimension_cells(lo: datetime.date, hi: datetime.date, fresh: bool = True) -> None:
    """Breakdown cells per month from the stage (staged per month); whole months of [lo, hi) only."""
    if fresh:
        _temp(
            CELLS,
            "SELECT 0::bigint AS node_id, ''::varchar(8) AS kind, NULL::date AS start, "
            "''::varchar(40) AS dimension, 0::numeric AS value, 0::numeric AS den WHERE false",
        )
    _execute(
        f"INSERT INTO {CELLS} SELECT a.anc, 'month', s.day, s.x, SUM(s.v), SUM(s.d) "  # nosec B608
        "FROM rollup_leaf s JOIN rollup_ancestors a ON a.leaf = s.leaf "
        "WHERE s.dim >= 0 AND s.day >= %s AND s.day + interval '1 month' <= %s GROUP BY a.anc, s.day, s.x",
        [lo, hi],
    )


def cells_from_stored_days(code: str, lo: datetime.date, hi: datetime.date) -> None:
    """Week and month totals summed from the stored day cells of the touched nodes."""
    _temp(
        CELLS,
        "SELECT m.node_id, CASE WHEN GROUPING(w) = 0 THEN 'week' ELSE 'month' END::varchar(8) AS kind, "  # nosec B608
        "CASE WHEN GROUPING(w) = 0 THEN w ELSE mo END AS start, ''::varchar(40) AS dimension, "
        "SUM(m.value) AS value, SUM(m.denominator) AS den FROM (SELECT node_id, value, denominator, "
        "date_trunc('week', period_start::timestamp)::date AS w, "
        "date_trunc('month', period_start::timestamp)::date AS mo "
        "FROM grid_metricvalue WHERE metric = %s AND period_kind = 'day' AND dimension = '' "
        f"AND period_start >= %s AND period_start < %s AND {_in_touched()}) m "
        "GROUP BY GROUPING SETS ((m.node_id, w), (m.node_id, mo))",
        [code, lo, hi],
    )
    _keep_whole_periods(lo, hi)


def cells_of_period(kind: str) -> None:
    """Total cells of one period kind from a stage already bucketed by that period (snapshots,
    distinct counts)."""
    _temp(
        CELLS,
        "SELECT a.anc AS node_id, %s::varchar(8) AS kind, s.day AS start, ''::varchar(40) AS dimension, "
        "SUM(s.v) AS value, SUM(s.d) AS den FROM rollup_leaf s JOIN rollup_ancestors a ON a.leaf = s.leaf "
        "WHERE s.dim = -1 GROUP BY a.anc, s.day",
        [kind],
    )


def _keep_whole_periods(lo: datetime.date, hi: datetime.date) -> None:
    _execute(
        f"DELETE FROM {CELLS} WHERE start < %s OR start + CASE kind WHEN 'day' THEN interval '1 day' "  # nosec B608
        "WHEN 'week' THEN interval '7 days' WHEN 'month' THEN interval '1 month' "
        "WHEN 'quarter' THEN interval '3 months' ELSE interval '1 year' END > %s",
        [lo, hi],
    )


def cells_of_quarters_and_years() -> None:
    """Quarter and year cells (totals and breakdowns) summed from the new month cells, added to
    them: a rebuild, whose new cells hold every month of the metric."""
    _execute(
        f"INSERT INTO {CELLS} SELECT node_id, CASE WHEN GROUPING(q) = 0 THEN 'quarter' ELSE 'year' END, "  # nosec B608
        "CASE WHEN GROUPING(q) = 0 THEN q ELSE y END, dimension, SUM(value), SUM(den) FROM (SELECT *, "
        "date_trunc('quarter', start::timestamp)::date AS q, date_trunc('year', start::timestamp)::date AS y "
        f"FROM {CELLS} WHERE kind = 'month' AND dimension NOT LIKE %s) m "
        "GROUP BY GROUPING SETS ((node_id, dimension, q), (node_id, dimension, y))",
        [QUANTILES],
    )


def cells_summed(code: str, source: str, target: str, lo: datetime.date, hi: datetime.date) -> None:
    """`target` cells (totals and breakdowns) summed from the stored `source` cells in [lo, hi) of
    the touched nodes: quarters from months, years from quarters."""
    _temp(
        CELLS,
        "SELECT node_id, %s::varchar(8) AS kind, "  # nosec B608
        f"date_trunc('{target}', period_start::timestamp)::date AS start, dimension, "
        "SUM(value) AS value, SUM(denominator) AS den FROM grid_metricvalue "
        "WHERE metric = %s AND period_kind = %s AND period_start >= %s AND period_start < %s "
        f"AND dimension NOT LIKE %s AND {_in_touched()} GROUP BY 1, 3, 4",
        [target, code, source, lo, hi, QUANTILES],
    )


def add_quantiles(metric) -> None:
    """Percentile cells (`p=50`...) of every histogram among the new cells; percentiles are
    never summed from shorter periods or children, always read off the summed histogram."""
    if not metric.quantiles:
        return
    _execute(f"DELETE FROM {CELLS} WHERE dimension LIKE %s", [QUANTILES])  # nosec B608
    select, params = histogram.quantile_select(CELLS, metric.quantiles)
    _execute(f"INSERT INTO {CELLS} (node_id, kind, start, dimension, value, den) {select}", params)


def write(
    code: str,
    domain: list[tuple[str, datetime.date, datetime.date]],
    nodes: bool = False,
    dimensions: bool | None = None,
    track: bool = True,
    cells: str = CELLS,
) -> int:
    """Make the stored cells of `domain` equal the new ones; returns the number of cells written.

    `domain` lists (period kind, first start, end of starts); the new cells are those of table
    `cells` lying in it; with `nodes`, only the cells of the nodes in the touched table;
    `dimensions` True or False keeps to breakdowns or to totals. Every node with a changed cell
    is added to the touched table.

    A probe for stored cells (none: a plain insert), then one statement: a full join of the
    stored cells with the new ones finds the cells that appear (no id), vanish (no kind) or
    change, and data-modifying CTEs delete, update and insert them.
    The stored rows are reached by primary key (`= ANY` of the ids) in the metric's partition,
    never by a scan of the store.
    """
    restrict = f"AND {_in_touched()}" if nodes else ""
    if dimensions is not None:
        restrict += " AND dimension <> ''" if dimensions else " AND dimension = ''"
    # One range of the period index per kind (the kinds of a domain differ): ORed in one WHERE,
    # PostgreSQL may walk every cell of the metric when it misjudges a recent period as empty.
    part = (
        "SELECT * FROM grid_metricvalue WHERE metric = %s AND period_kind = %s "  # nosec B608
        f"AND period_start >= %s AND period_start < %s {restrict}"
    )
    params = [value for kind in domain for value in (code, *kind)]
    old = " UNION ALL ".join(part for _ in domain)
    insert = (
        "INSERT INTO grid_metricvalue (node_id, metric, period_kind, period_start, dimension, value, "
        "denominator, computed_at) SELECT node_id, %s, kind, start, dimension, value, den, now() FROM "
    )
    # Nothing stored yet: a plain insert. One EXISTS per period kind, each stopping at its first
    # index entry (one EXISTS over all kinds would build a bitmap of every stored cell first).
    if not _count("SELECT " + " OR ".join(f"EXISTS ({part})" for _ in domain), params):
        written = _execute(insert + f"{cells} c ORDER BY node_id, kind, start, dimension", [code])
        if track:
            _execute(f"INSERT INTO {TOUCHED} SELECT DISTINCT node_id FROM {cells} ON CONFLICT DO NOTHING")  # nosec B608
        return written
    touched = (
        f", touched AS (INSERT INTO {TOUCHED} SELECT DISTINCT node_id FROM diff ON CONFLICT DO NOTHING)"  # nosec B608
        if track
        else ""
    )
    return _count(
        f"WITH diff AS MATERIALIZED (SELECT o.id, COALESCE(c.node_id, o.node_id) AS node_id, c.kind, "  # nosec B608
        f"c.start, c.dimension, c.value, c.den FROM ({old}) o FULL JOIN (SELECT node_id, kind, start, "
        "dimension, COALESCE(value, 0)::numeric(18, 2) AS value, den::numeric(18, 2) AS den "
        f"FROM {cells}) c ON c.node_id = o.node_id AND c.kind = o.period_kind AND c.start = o.period_start "
        "AND c.dimension = o.dimension WHERE o.id IS NULL OR c.kind IS NULL "
        "OR (o.value, o.denominator) IS DISTINCT FROM (c.value, c.den)), "
        "gone AS (DELETE FROM grid_metricvalue "
        "WHERE metric = %s AND id = ANY(ARRAY(SELECT id FROM diff WHERE kind IS NULL))), "
        "changed AS (UPDATE grid_metricvalue m SET value = d.value, denominator = d.den, computed_at = now() "
        "FROM diff d WHERE m.metric = %s AND m.id = d.id AND d.kind IS NOT NULL "
        "AND m.id = ANY(ARRAY(SELECT id FROM diff WHERE id IS NOT NULL AND kind IS NOT NULL))), "
        f"added AS ({insert} diff WHERE id IS NULL){touched} SELECT count(*) FROM diff",
        [*params, code, code, code],
    )


KEPT = "rollup_kept"
REBUILD_PARALLEL_TUPLE_COST = 0.01


def keep_cells(first: bool) -> None:
    """Keep the new cells for one write at the end (a rebuild computing them kind after kind)."""
    if first:
        _temp(KEPT, f"SELECT * FROM {CELLS}", analyze=False)  # nosec B608
    else:
        _execute(f"INSERT INTO {KEPT} SELECT * FROM {CELLS}")  # nosec B608


def replace_all(code: str, cells: str = CELLS) -> int:
    """Make the metric's stored cells, all of them, those of table `cells` (a rebuild); returns
    the number of cells written. A metric with no partition yet (the first rollup of a new
    store or metric) gets them as a new partition, loaded before it is indexed; otherwise only
    the cells that differ are written. Either way its statistics are fresh afterwards."""
    if not partitions.attached(code):
        return partitions.load(code, cells)
    written = write(code, [(kind, *EVER) for kind in PERIOD_KINDS], track=False, cells=cells)
    _execute(f"ANALYZE {partitions.table(code)}")
    return written


def start_touched() -> None:
    _execute(f"DROP TABLE IF EXISTS {TOUCHED}")
    _execute(f"CREATE TEMP TABLE {TOUCHED} (node_id bigint PRIMARY KEY) ON COMMIT DROP")


def tune(rebuild: bool = False) -> None:
    """Room for the hash aggregates and joins of a rebuild, no JIT compilation (it costs more
    than it saves on these short statements), and no merge joins: comparing a million stored
    cells with the new ones, PostgreSQL would sort both sides on their text columns (through
    the collation, several times slower than hashing them). For this transaction only.

    A rebuild also gets room to build a new partition's indexes, and lets PostgreSQL read the
    facts with parallel workers: staging two million tickets, they scan, convert to local
    dates and sort them side by side (3.8 s alone, 2.3 s with two), which the planner, pricing
    each row handed over at 0.1, would not choose."""
    _execute("SET LOCAL work_mem = '256MB'")
    _execute("SET LOCAL jit = off")
    _execute("SET LOCAL enable_mergejoin = off")
    if rebuild:
        _execute(f"SET LOCAL parallel_tuple_cost = {REBUILD_PARALLEL_TUPLE_COST}")
        _execute("SET LOCAL maintenance_work_mem = '256MB'")  # a new partition's indexes, sorted at once
