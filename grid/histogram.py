"""Durations as additive histograms, and their percentiles.

A median cannot be summed up the tree, but a histogram can: a duration metric (response time,
resolution time) keeps, beside its total hours and count, the count of facts per duration bucket
as a breakdown (`m=<bucket's lower bound in minutes>`). Parents and longer periods add the
buckets up like any other breakdown; the median and the 90th percentile of every cell are then
read off its buckets in one set-based statement (`p=50`, `p=90`), interpolating linearly inside
the bucket the percentile falls in. The buckets are narrow where most durations lie, so the
estimate is within a few minutes for the first hours and within hours for durations of days.
"""

from django.db.models import Func, IntegerField

# (upper limit, width) in minutes: 10-minute buckets up to 2 hours, half hours up to 12 hours,
# two hours up to 2 days, half days up to a week, days up to 30 days, then one open bucket.
BUCKETS = ((120, 10), (720, 30), (2880, 120), (10080, 720), (43200, 1440))
OPEN_FROM = BUCKETS[-1][0]
NAME = "m"  # the breakdown holding the histogram
QUANTILE_PREFIX = "p="


def bucket_of(minutes: int) -> int:
    """The lower bound of the bucket holding `minutes` (the same rule as `MinuteBucket`)."""
    minutes = max(int(minutes), 0)
    for limit, width in BUCKETS:
        if minutes < limit:
            return minutes // width * width
    return OPEN_FROM


# Every bucket's lower bound, in order: on PostgreSQL `width_bucket` finds a duration's bucket
# among them by binary search, with the duration computed once.
LOWER_BOUNDS = (
    *(
        bound
        for (low, _), (limit, width) in zip(((0, 0), *BUCKETS), BUCKETS, strict=False)
        for bound in range(low, limit, width)
    ),
    OPEN_FROM,
)


def _minutes_sql(connection, start: str, end: str) -> str:
    if connection.vendor == "postgresql":
        # date_part gives a double, EXTRACT a numeric: the same whole minutes, twice as fast.
        return f"GREATEST(floor(date_part('epoch', {end} - {start}) / 60), 0)::int"
    return f"MAX(CAST((julianday({end}) - julianday({start})) * 1440 AS INTEGER), 0)"


class _Between(Func):
    arity = 2

    def _parts(self, compiler, connection):
        start, start_params = compiler.compile(self.source_expressions[0])
        end, end_params = compiler.compile(self.source_expressions[1])
        return start, end, list(start_params), list(end_params)


class MinuteBucket(_Between):
    """The histogram bucket (lower bound in whole minutes) of the time from `start` to `end`."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        start, end, start_params, end_params = self._parts(compiler, connection)
        minutes = _minutes_sql(connection, start, end)
        # The expression (end first, then start) appears twice per branch, its parameters with it.
        once = end_params + start_params
        sql, params = ["CASE"], []
        for limit, width in BUCKETS:
            sql.append(f"WHEN {minutes} < {limit} THEN {minutes} / {width} * {width}")
            params += once * 2
        sql.append(f"ELSE {OPEN_FROM} END")
        return " ".join(sql), params

    def as_postgresql(self, compiler, connection, **extra):
        start, end, start_params, end_params = self._parts(compiler, connection)
        bounds = f"ARRAY[{','.join(map(str, LOWER_BOUNDS))}]::int[]"
        minutes = _minutes_sql(connection, start, end)
        return f"({bounds})[width_bucket({minutes}, {bounds})]", end_params + start_params


class MinutesBetween(_Between):
    """Whole minutes from `start` to `end`, never negative: integers, so that sums of them are
    exact whichever way they are added up (days into months, or facts straight into a year)."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        start, end, start_params, end_params = self._parts(compiler, connection)
        return _minutes_sql(connection, start, end), end_params + start_params


def _width_sql(bucket: str) -> str:
    branches = " ".join(f"WHEN {bucket} < {limit} THEN {width}" for limit, width in BUCKETS)
    return f"CASE {branches} ELSE 0 END"


def quantile_select(source: str, quantiles, source_params=()) -> tuple[str, list]:
    """Rows (node_id, kind, start, dimension, value, den) holding each quantile, in minutes, of
    every (node, kind, start) histogram in `source` (a table or subquery with node_id, kind,
    start, dimension and den, the count of facts in each bucket); den holds the histogram's total.
    Plain SQL that PostgreSQL and SQLite both run; returns it with its parameters."""
    wanted = " UNION ALL ".join(f"SELECT {int(q)} AS p" for q in quantiles)
    target = "c.total * q.p / 100.0"
    sql = (
        f"SELECT c.node_id, c.kind, c.start, '{QUANTILE_PREFIX}' || CAST(q.p AS text) AS dimension, "  # nosec B608
        f"ROUND(c.b + {_width_sql('c.b')} * ({target} - c.before) / c.n, 2) AS value, "
        "c.total AS den FROM (SELECT node_id, kind, start, b, n, "
        "SUM(n) OVER (PARTITION BY node_id, kind, start ORDER BY b "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - n AS before, "
        "SUM(n) OVER (PARTITION BY node_id, kind, start) AS total FROM ("
        f"SELECT node_id, kind, start, CAST(substr(dimension, {len(NAME) + 2}) AS integer) AS b, "
        f"den AS n FROM {source} WHERE dimension LIKE %s AND den > 0) h) c "
        f"JOIN ({wanted}) q ON c.before < {target} AND c.before + c.n >= {target}"
    )
    return sql, [*source_params, f"{NAME}=%"]
