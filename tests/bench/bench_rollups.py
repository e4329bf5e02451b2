"""Rollup benchmark: a year of facts (2 million tickets, demands, events, visits) on a 100x street.

Times, in one run: the raw SQL aggregate of the tickets over every ancestor, the full rebuild of
the same metric (beside the time only storing its cells takes), the full rebuild of every metric,
an incremental update after 1,000 new tickets, and the dashboards at street, community and grid
level. Prints figures and ratios; asserts nothing about time.
"""

import datetime
import os
import statistics
import time

from tests.bench import common, facts

TICKETS = 2_000_000
ROUNDS = 3  # incremental runs per case; the median is the figure


def _seconds(callable_) -> float:
    started = time.perf_counter()
    callable_()
    return time.perf_counter() - started


def _scalar(sql: str, params=()) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


RAW_DAYS = """
SELECT count(*) FROM (
  SELECT a.id, (t.created_at AT TIME ZONE %s)::date AS day, count(*)
  FROM demands_ticket t
  JOIN grid_gridnode l ON l.id = t.node_id
  CROSS JOIN LATERAL generate_series(4, length(l.path), 4) AS cut
  JOIN grid_gridnode a ON a.path = substr(l.path, 1, cut)
  GROUP BY 1, 2
) cells
"""

# Every cell the rebuild of tickets_received writes (five period kinds, and the category and source
# breakdowns per month, quarter and year), as one statement written the way a person tuning it by
# hand would: the tickets grouped once per (leaf, day, category, source), fanned out to the
# ancestors per day and per month, and the longer periods summed from those. (A single GROUPING
# SETS over the tickets joined to their ancestors gives the same cells, with the same memory,
# over twice as slowly, which would flatter the rebuild.)
RAW_ALL = """
SELECT count(*) FROM (
  WITH t AS MATERIALIZED (
    SELECT node_id AS leaf, (created_at AT TIME ZONE %s)::date AS d, category_id, source, count(*)::int AS n
    FROM demands_ticket GROUP BY 1, 2, 3, 4),
  anc AS MATERIALIZED (
    SELECT l.id AS leaf, a.id AS anc FROM (SELECT DISTINCT leaf FROM t) s
    JOIN grid_gridnode l ON l.id = s.leaf
    CROSS JOIN LATERAL generate_series(4, length(l.path), 4) AS cut
    JOIN grid_gridnode a ON a.path = substr(l.path, 1, cut)),
  ad AS MATERIALIZED (
    SELECT a.anc, t.d, sum(t.n)::int AS n FROM (SELECT leaf, d, sum(n)::int AS n FROM t GROUP BY 1, 2) t
    JOIN anc a USING (leaf) GROUP BY 1, 2),
  mc AS MATERIALIZED (
    SELECT a.anc, m, c.code, sum(n)::int AS n
    FROM (SELECT leaf, date_trunc('month', d)::date AS m, category_id, sum(n)::int AS n
          FROM t GROUP BY 1, 2, 3) x
    JOIN anc a USING (leaf) JOIN demands_ticketcategory c ON c.id = x.category_id GROUP BY 1, 2, 3),
  ms AS MATERIALIZED (
    SELECT a.anc, m, source, sum(n)::int AS n
    FROM (SELECT leaf, date_trunc('month', d)::date AS m, source, sum(n)::int AS n
          FROM t GROUP BY 1, 2, 3) x
    JOIN anc a USING (leaf) GROUP BY 1, 2, 3)
  SELECT anc, 'day', d, '', n FROM ad
  UNION ALL SELECT anc, 'week', date_trunc('week', d)::date, '', sum(n) FROM ad GROUP BY 1, 3
  UNION ALL SELECT anc, 'month', date_trunc('month', d)::date, '', sum(n) FROM ad GROUP BY 1, 3
  UNION ALL SELECT anc, 'quarter', date_trunc('quarter', d)::date, '', sum(n) FROM ad GROUP BY 1, 3
  UNION ALL SELECT anc, 'year', date_trunc('year', d)::date, '', sum(n) FROM ad GROUP BY 1, 3
  UNION ALL SELECT anc, 'month', m, 'category=' || code, n FROM mc
  UNION ALL SELECT anc, 'quarter', date_trunc('quarter', m)::date, 'category=' || code, sum(n)
            FROM mc GROUP BY 1, 3, 4
  UNION ALL SELECT anc, 'year', date_trunc('year', m)::date, 'category=' || code, sum(n)
            FROM mc GROUP BY 1, 3, 4
  UNION ALL SELECT anc, 'month', m, 'source=' || source, n FROM ms
  UNION ALL SELECT anc, 'quarter', date_trunc('quarter', m)::date, 'source=' || source, sum(n)
            FROM ms GROUP BY 1, 3, 4
  UNION ALL SELECT anc, 'year', date_trunc('year', m)::date, 'source=' || source, sum(n)
            FROM ms GROUP BY 1, 3, 4
) cells
"""


def _vacuum() -> None:
    """The store (and the catalogs, which every rollup's temporary tables churn) as autovacuum keeps
    them. A server with autovacuum off (some CI images) would otherwise time a bloating store."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] != "on":
            print("  (autovacuum is off on this server: the bench vacuums the store and catalogs itself)")
        cursor.execute("VACUUM ANALYZE grid_metricvalue")
        cursor.execute("VACUUM pg_class, pg_attribute, pg_type, pg_depend, pg_statistic")


def bench_rebuild() -> None:
    from django.conf import settings
    from django.db import connection, transaction

    from grid import partitions, rollup
    from grid.models import MetricValue

    tz = settings.TIME_ZONE
    metric = rollup.REGISTRY["tickets_received"]
    tickets = _scalar("SELECT count(*) FROM demands_ticket")
    print(f"\nRollups over {tickets:,} tickets")
    _raw(RAW_DAYS, tz)  # warm the cache once
    raw_days = min(_seconds(lambda: _raw(RAW_DAYS, tz)) for _ in range(2))
    raw_all = min(_seconds(lambda: _raw(RAW_ALL, tz)) for _ in range(2))

    def into_empty_store() -> float:
        """The store as a new deployment has it for this metric: no cells, no partition."""
        with transaction.atomic():
            partitions.drop(metric.code)
        _vacuum()
        return _seconds(lambda: rollup.rebuild([metric]))

    # Each the best of two runs, as the raw statements are.
    fresh = min(into_empty_store() for _ in range(2))
    cells = MetricValue.objects.filter(metric=metric.code).count()
    again = min(_seconds(lambda: rollup.rebuild([metric])) for _ in range(2))
    floor = _write_floor(metric.code)
    # Not a state a rollup leaves: every cell deleted by hand, the partition and its indexes kept.
    MetricValue.objects.filter(metric=metric.code).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {partitions.table(metric.code)}")
    emptied = _seconds(lambda: rollup.rebuild([metric]))

    def row(label: str, seconds: float) -> tuple:
        return (label, f"{seconds:.2f} s", f"{seconds / raw_days:.2f}", f"{seconds / raw_all:.2f}")

    rows = [
        row("raw SQL: every ancestor x day (one statement)", raw_days),
        row("raw SQL: every cell of the metric (one statement)", raw_all),
        row(f"rebuild tickets_received into an empty store ({cells:,} cells)", fresh),
        row("rebuild tickets_received again (nothing to write)", again),
        row("only writing the same cells as a new partition (no computing)", floor),
        row("rebuild after a DELETE of its cells (partition kept, indexed)", emptied),
    ]
    common.report(rows, ("run", "time", "x raw day aggregate", "x raw same cells"))


def _raw(sql: str, tz: str) -> int:
    """A raw statement with the memory and the parallel workers a rebuild gives itself
    (`rollup_sql.tune`), in its own transaction, and the planner otherwise left to itself (JIT
    and merge joins, which a rollup turns off, help these two statements)."""
    from django.db import connection, transaction

    from grid.rollup_sql import REBUILD_PARALLEL_TUPLE_COST

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(f"SET LOCAL parallel_tuple_cost = {REBUILD_PARALLEL_TUPLE_COST}")
        return _scalar(sql, [tz])


def _write_floor(code: str) -> float:
    """Seconds a rebuild into an empty store spends storing the metric's cells, timed on the
    stored cells as they are: loaded as the metric's new partition (`partitions.load`, indexes
    and statistics included), in a transaction then rolled back, with the memory a rollup has."""
    from django.db import connection, transaction

    from grid import partitions, rollup_sql

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_cells ON COMMIT DROP AS SELECT node_id, period_kind AS kind, "
                "period_start AS start, dimension, value, denominator AS den FROM grid_metricvalue "
                "WHERE metric = %s",
                [code],
            )
        partitions.drop(code)
        rollup_sql.tune()
        seconds = _seconds(lambda: partitions.load(code, "bench_cells"))
        transaction.set_rollback(True)
    return seconds


def _insert_tickets(new: int) -> None:
    """`new` tickets stamped in the last minutes, spread over every grid and category."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH done AS (SELECT COALESCE(max(substr(tracking_code, 2)::bigint), 0) AS base
                          FROM demands_ticket
                          WHERE tracking_code ~ '^I[0-9]{11}$'),
                 grids AS (SELECT array_agg(id) AS ids FROM grid_gridnode WHERE level = 'grid'),
                 cats AS (SELECT array_agg(id) AS ids FROM demands_ticketcategory)
            INSERT INTO demands_ticket (tracking_code, source, status, level, description, location_text,
              reporter_name, reporter_phone, response_due, resolution_due, is_overdue, rating_comment,
              rating_source, created_at, updated_at, node_id, category_id)
            SELECT 'I' || lpad((done.base + n)::text, 11, '0'), 'qr', 'submitted', 1,
                   'bench', '', '', '',
                   now() + interval '2 hours', now() + interval '72 hours', false, '', '',
                   now() - n * interval '1 second', now(),
                   grids.ids[1 + (n::bigint * 7919) %% array_length(grids.ids, 1)],
                   cats.ids[1 + floor(random() * array_length(cats.ids, 1))::int]
            FROM generate_series(1, %s) AS n, done, grids, cats
            """,
            [new],
        )


def remove_inserted_tickets() -> None:
    """Take out the tickets the incremental runs added today and roll today up again, so that
    every run starts from the same year of facts (otherwise each run adds to today's load)."""
    from django.db import connection
    from django.utils import timezone

    from demands.metrics import TICKET_METRICS
    from grid import rollup

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM demands_ticket WHERE tracking_code ~ '^I[0-9]{11}$'")
        removed = cursor.rowcount
    if removed:
        today = timezone.localdate()
        for code in TICKET_METRICS:
            rollup.rollup_metric(rollup.REGISTRY[code], today, today + datetime.timedelta(days=1))


def _mark_dirty(codes) -> None:
    from django.utils import timezone

    from grid.models import DirtyCell

    today = timezone.localdate()
    DirtyCell.objects.bulk_create([DirtyCell(metric=code, day=today) for code in codes])


def bench_incremental(new: int = 1000) -> None:
    """The job after 1,000 new tickets: with what ticket creation marks dirty (tickets received),
    and with every ticket metric marked (as after a burst of creations, closings and ratings).
    With BENCH_PROFILE=1 it also lists the statements of a third run by time."""
    remove_inserted_tickets()
    # The store as autovacuum keeps it: right after a rebuild, the first reads of a million new
    # cells also set their hint bits and write the pages back, which a steady job never pays.
    _vacuum()
    try:
        _incremental_runs(new)
    finally:
        remove_inserted_tickets()


def _incremental_runs(new: int) -> None:
    from demands.metrics import RECEIVED_METRICS, TICKET_METRICS
    from grid import rollup

    rows = []
    for label, codes in (
        ("1,000 new tickets (marks tickets_received)", RECEIVED_METRICS),
        (f"1,000 new tickets, all {len(TICKET_METRICS)} ticket metrics marked", TICKET_METRICS),
    ):
        runs = []
        for _round in range(ROUNDS):  # each round adds its own 1,000 tickets
            _insert_tickets(new)
            _mark_dirty(codes)
            runs.append(_seconds(rollup.rollup_dirty_cells))
        median = statistics.median(runs)
        rows.append((label, f"{median * 1000:.0f} ms", f"{max(runs) * 1000:.0f} ms", f"{median:.2f}"))
    print(f"\nIncremental update (rollup_dirty) after new tickets today, {ROUNDS} rounds each:")
    common.report(rows, ("job", "median", "worst", "x 1 s"))
    seconds = _seconds(rollup.rollup_dirty_cells)
    again = rollup.rollup_recent
    print(
        f"  (the same job with nothing dirty: {seconds * 1000:.0f} ms; rollup_recent, two days, all metrics: "
        f"{_seconds(again):.1f} s)"
    )
    if os.environ.get("BENCH_PROFILE"):
        _insert_tickets(new)
        _mark_dirty(TICKET_METRICS)
        with common.StatementProfile() as profile:
            rollup.rollup_dirty_cells()
        print(f"  Slowest statements of a third run (all {len(TICKET_METRICS)} ticket metrics):")
        common.report(profile.top(), ("", "time", "statement"))
        common.report(profile.grouped(count=40), ("", "time", "statements starting"))


def ensure_built() -> None:
    """Every metric rolled up, so the dashboards read a full store; prints what it had to build."""
    from grid import rollup
    from grid.models import MetricValue

    stored = set(MetricValue.objects.order_by().values_list("metric", flat=True).distinct())
    missing = [metric for code, metric in rollup.REGISTRY.items() if code not in stored]
    if not missing:
        return
    timings = [(metric.code, _seconds(lambda m=metric: rollup.rebuild([m]))) for metric in missing]
    print(f"\nBuilt {len(missing)} metrics missing from the store for the dashboards:")
    common.report([(code, f"{seconds:.2f} s") for code, seconds in timings], ("metric", "time"))


def bench_dashboards() -> None:
    ensure_built()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import config.wsgi  # noqa: F401  # as a served process starts: views loaded, startup frozen
    from grid.choices import NodeLevel
    from grid.models import GridNode, User

    leader = User.objects.get(username="wys_leader")
    street = GridNode.objects.filter(level=NodeLevel.STREET).first()
    community = GridNode.objects.filter(level=NodeLevel.COMMUNITY).order_by("path").first()
    grid = GridNode.objects.filter(level=NodeLevel.GRID, path__startswith=community.path).first()
    client = Client()
    client.force_login(leader)
    rows = []
    for label, node in (("street", street), ("community", community), ("grid", grid)):
        for period in ("day", "month", "year"):
            url = f"/dashboard/{node.pk}/?period={period}"
            median, worst = common.timed(lambda u=url: client.get(u, HTTP_HOST="127.0.0.1"))
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, HTTP_HOST="127.0.0.1")
            assert response.status_code == 200, (url, response.status_code)
            rows.append(
                (label, period, f"{median:.0f} ms", f"{worst:.0f} ms", len(queries), f"{median / 100:.2f}")
            )
    print(f"\nDashboards as the street leader ({datetime.date.today()}):")
    common.report(rows, ("level", "period", "median", "worst", "queries", "x 100 ms"))


def bench_rebuild_all() -> None:
    from django.db import transaction

    from grid import partitions, rollup
    from grid.models import MetricValue

    every = list(rollup.REGISTRY.values())
    with transaction.atomic():  # the store as a new deployment has it: no partitions
        for code in partitions.codes():
            partitions.drop(code)
    _vacuum()
    started = time.perf_counter()
    timings = []
    for item in every:
        timings.append((item.code, _seconds(lambda m=item: rollup.rebuild([m]))))
    total = time.perf_counter() - started
    print(f"\nFull rebuild of all {len(every)} metrics: {total:.1f} s, {MetricValue.objects.count():,} cells")
    common.report(
        [(code, f"{seconds:.2f} s") for code, seconds in sorted(timings, key=lambda t: -t[1])],
        ("metric", "time"),
    )


def prepare() -> None:
    common.setup()
    common.ensure_street(100)
    facts.ensure_year(TICKETS)


PARTS = {
    "rebuild": bench_rebuild,
    "incremental": bench_incremental,
    "dashboards": bench_dashboards,
    "rebuild_all": bench_rebuild_all,
}
