"""The metric store on PostgreSQL: `grid_metricvalue` is partitioned by metric, a table per metric.

A rebuild rewrites one metric's cells, over a million of them on a 100x street. In one table
shared by every metric, those rows landed in free space all over the heap and on most leaf
pages of its indexes (each metric's cells sat among thirty others' of the same node and
period): writing them cost more than computing them. In a table of its own, a metric's cells
are written together; and a metric without cells yet is loaded into a new table, indexed in
one sorted pass, and only then joined to the store. ATTACH PARTITION takes a SHARE UPDATE
EXCLUSIVE lock on the store: dashboards and other rollups go on meanwhile.

Partitions are made on a metric's first rollup, never by hand. There is no default partition:
a cell of a metric without a table is refused, never hidden. Elsewhere (SQLite for `make run`)
the store is one plain table and nothing here runs.
"""

import logging
import re

from django.db import connection as default_connection

logger = logging.getLogger(__name__)

TABLE = "grid_metricvalue"
COLUMNS = "id, node_id, metric, period_kind, period_start, dimension, value, denominator, computed_at"
# A metric's code names its table: lower-case words, so that the name needs no quoting and
# fits PostgreSQL's 63 characters with its suffixes.
CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
# Room on every page for a cell's new value, so that updating it writes no index entry (HOT).
FILLFACTOR = 85


def table(code: str) -> str:
    if not CODE.fullmatch(code):
        raise ValueError(f"metric code {code!r} must be lower-case letters, digits and _ (40 at most)")
    return f"{TABLE}_{code}"


def _one(connection, sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _run(connection, *statements: str) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def attached(code: str, connection=default_connection) -> bool:
    """Whether the metric's table is a partition of the store."""
    return _one(
        connection,
        "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(%s) "
        "AND inhparent = to_regclass(%s))",
        [table(code), TABLE],
    )


def ensure(code: str, connection=default_connection) -> None:
    """The metric's partition, made empty if it has none (its first rollup, or a new metric)."""
    if not attached(code, connection):
        _create(code, connection)
        _attach(code, connection)


def load(code: str, cells: str, connection=default_connection) -> int:
    """A metric without a partition yet: its cells (rows of table `cells`, with columns node_id,
    kind, start, dimension, value, den) into a new table, its indexes built afterwards in bulk
    (by ATTACH, from the store's), its statistics gathered; then the table joins the store.
    Returns the number of cells.

    The rows go in by node, period kind and start, so that the cells an incremental rollup reads
    together (a node's days of a month, its months of a quarter, with their breakdowns) share a
    page: in node order alone they spread over the node's pages, and the incremental job after
    1,000 tickets took 0.8 s instead of 0.5 s. Sorting on the dimension too would add 0.3 s to
    a rebuild of a million cells for no gain."""
    name = _create(code, connection)
    sequence = _one(connection, "SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {name} ({COLUMNS}) SELECT nextval(%s::regclass), node_id, %s, kind, start, "  # nosec B608
            f"dimension, value, den, now() FROM {cells} c ORDER BY node_id, kind, start",
            [sequence, code],
        )
        written = cursor.rowcount
    _run(connection, f"ANALYZE {name}")
    _attach(code, connection)
    return written


def drop(code: str, connection=default_connection) -> None:
    """Remove the metric's partition and every cell in it. Takes an ACCESS EXCLUSIVE lock on the
    whole store until the transaction ends: for a metric taken out of use, and for measuring a
    rebuild into an empty store."""
    _run(connection, f"DROP TABLE IF EXISTS {table(code)}")


def codes(connection=default_connection) -> list[str]:
    """The metrics that have a partition."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT substr(c.relname, %s) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY 1",
            [len(TABLE) + 2, TABLE],
        )
        return [row[0] for row in cursor.fetchall()]


def _create(code: str, connection) -> str:
    name = table(code)
    if _one(connection, "SELECT to_regclass(%s) IS NOT NULL", [name]):
        # Not a partition (the caller checked): a table detached by hand, of derived cells.
        logger.warning("Dropping %s, which is not a partition of the metric store.", name)
        _run(connection, f"DROP TABLE {name}")
    # The check makes ATTACH trust the rows without reading them. The extended statistics
    # tell the planner that year cells all start on 1 January and day cells on every day
    # (without them it takes a year's start for a rare pair and reads the wrong index).
    _run(
        connection,
        f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS) WITH (fillfactor = {FILLFACTOR})",
        f"ALTER TABLE {name} ADD CONSTRAINT partition_metric CHECK (metric = '{code}')",
        f"CREATE STATISTICS {name}_stats (mcv, dependencies) ON period_kind, period_start FROM {name}",
    )
    return name


def _attach(code: str, connection) -> None:
    _run(connection, f"ALTER TABLE {TABLE} ATTACH PARTITION {table(code)} FOR VALUES IN ('{code}')")
