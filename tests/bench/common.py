"""Shared helpers for `make bench`: a persistent PostgreSQL database holding a 100x street."""

import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def setup() -> None:
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ensure_street(scale: int = 100) -> None:
    """Seed the scaled demo street once; later runs reuse it."""
    from grid.choices import NodeLevel
    from grid.models import GridNode

    communities = GridNode.objects.filter(level=NodeLevel.COMMUNITY).count()
    if communities >= 5 * scale:
        print(f"Reusing the {scale}x street ({communities} communities).")
        return
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("seed_demo", scale=scale, stdout=sys.stdout)
    print(f"Seeded the {scale}x street in {time.perf_counter() - started:.1f} s.")


def timed(callable_, repeat: int = 5) -> tuple[float, float]:
    """(median ms, worst ms) over `repeat` runs after one warm-up."""
    callable_()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        callable_()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def report(rows: list[tuple], headers: tuple) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers))
    for row in rows:
        print(line.format(*row))


class StatementProfile:
    """Times every SQL statement run inside the block (`with StatementProfile() as p:`), to show
    where a job spends its time; `p.top()` lists the slowest."""

    def __init__(self):
        self.samples: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.samples.append((time.perf_counter() - started, " ".join(sql.split())))

    def __enter__(self):
        from django.db import connection

        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        return self._wrapper.__exit__(*exc)

    def grouped(self, words: int = 5, count: int = 12) -> list[tuple]:
        """Total time per statement shape (its first `words` words), largest first."""
        totals: dict[str, list] = {}
        for seconds, sql in self.samples:
            key = " ".join(sql.split()[:words])
            entry = totals.setdefault(key, [0.0, 0])
            entry[0] += seconds
            entry[1] += 1
        ranked = sorted(totals.items(), key=lambda item: -item[1][0])[:count]
        return [(f"{n} x", f"{seconds * 1000:.0f} ms", key) for key, (seconds, n) in ranked]

    def top(self, count: int = 15, width: int = 110) -> list[tuple]:
        total = sum(seconds for seconds, _sql in self.samples)
        rows = [(f"{len(self.samples)} statements", f"{total * 1000:.0f} ms", "")]
        for seconds, sql in sorted(self.samples, reverse=True)[:count]:
            rows.append(("", f"{seconds * 1000:.0f} ms", sql[:width]))
        return rows
