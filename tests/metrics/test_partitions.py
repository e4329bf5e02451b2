"""The metric store on PostgreSQL: a partition per metric, made by the rollups themselves."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from grid import partitions, rollup
from grid.models import MetricValue
from tests.demands.test_concurrency import _race
from tests.metrics.test_rollup import _cell, _cells, _direct
from tests.metrics.test_rollup import history as history  # the fixture

pytestmark = pytest.mark.django_db

CODE = "tickets_received"


def _tables_holding(code: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tableoid::regclass::text FROM grid_metricvalue WHERE metric = %s", [code]
        )
        return {row[0] for row in cursor.fetchall()}


def test_a_rebuild_loads_a_metric_without_cells_as_its_partition_with_the_cells_of_a_plain_write(history):
    metric = rollup.REGISTRY[CODE]
    partitions.drop(CODE)
    assert not partitions.attached(CODE)
    loaded = rollup.rebuild([metric])
    assert partitions.attached(CODE)
    assert _tables_holding(CODE) == {"grid_metricvalue_tickets_received"}
    assert loaded == MetricValue.objects.filter(metric=CODE).count() > 0
    cells = _cells(CODE)
    # The other way in: the partition kept, every cell written through its indexes.
    MetricValue.objects.filter(metric=CODE).delete()
    assert rollup.rebuild([metric]) == loaded
    assert _cells(CODE) == cells
    # Loaded cells take ids from the store's sequence, as cells written later do.
    ids = list(MetricValue.objects.values_list("pk", flat=True))
    assert len(ids) == len(set(ids))
    today = timezone.localdate()
    value, _den = _cell(history.demo.street, CODE, "day", today)
    assert value == _direct(history.demo.street, today, today + datetime.timedelta(days=1))


def test_every_metric_that_rolls_up_keeps_its_cells_in_a_table_of_its_own(history):
    rollup.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("SELECT metric, tableoid::regclass::text FROM grid_metricvalue GROUP BY 1, 2")
        places = cursor.fetchall()
    assert len(places) >= 9  # the ticket metrics at least
    assert all(table == f"grid_metricvalue_{code}" for code, table in places)
    # a metric without facts yet has its (empty) table too
    assert set(rollup.REGISTRY) <= set(partitions.codes())


def test_an_incremental_rollup_makes_the_partition_of_a_metric_that_has_none(history):
    partitions.drop(CODE)
    today = timezone.localdate()
    rollup.rollup_metric(rollup.REGISTRY[CODE], today, today + datetime.timedelta(days=1))
    assert partitions.attached(CODE)
    value, _den = _cell(history.demo.beihai, CODE, "day", today)
    assert value == _direct(history.demo.beihai, today, today + datetime.timedelta(days=1)) > 0


def _drop_committed(*codes: str) -> None:
    with transaction.atomic():
        for code in codes:
            partitions.drop(code)


@pytest.mark.django_db(transaction=True)
def test_two_rebuilds_of_a_metric_without_a_partition_at_once_load_it_once(history):
    """The second waits for the first, then finds the cells stored and writes none."""
    _drop_committed(CODE)
    metric = rollup.REGISTRY[CODE]
    outcomes = _race(lambda: rollup.rebuild([metric]), lambda: rollup.rebuild([metric]))
    assert sorted(kind for kind, _written in outcomes) == ["ok", "ok"], outcomes
    stored = MetricValue.objects.filter(metric=CODE).count()
    assert sorted(written for _kind, written in outcomes) == [0, stored]
    today = timezone.localdate()
    year = today.replace(month=1, day=1)
    value, _den = _cell(history.demo.street, CODE, "year", year)
    assert value == _direct(history.demo.street, year, rollup.period_end("year", year))


@pytest.mark.django_db(transaction=True)
def test_metrics_loaded_side_by_side_each_join_the_store(history, settings):
    """Rebuilt on two connections at once, each metric's new table is attached in turn."""
    from demands.metrics import TICKET_METRICS

    settings.METRICS_ROLLUP_WORKERS = 2
    _drop_committed(*TICKET_METRICS)
    metrics = [rollup.REGISTRY[code] for code in TICKET_METRICS]
    rollup.rebuild(metrics)
    assert set(TICKET_METRICS) <= set(partitions.codes())
    loaded = _cells()
    MetricValue.objects.all().delete()
    settings.METRICS_ROLLUP_WORKERS = 1
    rollup.rebuild(metrics)
    assert _cells() == loaded


def test_a_cell_of_a_metric_without_a_partition_is_refused_not_hidden(demo):
    with pytest.raises(IntegrityError), transaction.atomic():
        MetricValue.objects.create(
            node=demo.street, metric="no_such", period_kind="day", period_start=timezone.localdate(), value=1
        )


@pytest.mark.parametrize("code", ["Tickets", "tickets-received", "1st", "x" * 41, "a;drop table x"])
def test_a_metric_code_that_cannot_name_its_table_is_refused_at_registration(code):
    metric = rollup.REGISTRY[CODE]
    with pytest.raises(ValueError, match="metric code"):
        rollup.register(rollup.Metric(code, "x", metric.facts, metric.path, metric.date, metric.value))
    assert code not in rollup.REGISTRY


def _relkind() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'grid_metricvalue'::regclass")
        return cursor.fetchone()[0]


def _stored() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, node_id, metric, period_kind, period_start, dimension, value, denominator "
            "FROM grid_metricvalue ORDER BY id"
        )
        return cursor.fetchall()


def _migrate(target: str) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("grid", target)])


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_a_single_store_into_partitions_keeping_every_cell_and_back(demo):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("grid")[0][1]
    _migrate("0008_dirty_cells")
    try:
        assert _relkind() == "r"
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM grid_metricvalue")
            codes = ["tickets_received", "visit_coverage", "tickets_received", "Old-Code"]
            for index, code in enumerate(codes):
                cursor.execute(
                    "INSERT INTO grid_metricvalue (node_id, metric, period_kind, period_start, dimension, "
                    "value, denominator, computed_at) VALUES (%s, %s, 'month', %s, '', %s, %s, now())",
                    [demo.street.pk, code, datetime.date(2026, index + 1, 1), index + 1, index or None],
                )
        single = _stored()
        _migrate("0009_metric_store_partitions")
        assert _relkind() == "p"
        # every cell of a metric kept, with its id, in the metric's table; a code no metric
        # could have (derived data) is dropped
        assert _stored() == [row for row in single if row[2] != "Old-Code"]
        assert {"tickets_received", "visit_coverage"} <= set(partitions.codes())
        added = MetricValue.objects.create(
            node=demo.street, metric="visit_coverage", period_kind="year", period_start="2026-01-01", value=7
        )
        assert added.pk > max(row[0] for row in single)
        _migrate("0008_dirty_cells")
        assert _relkind() == "r"
        assert [row[:7] for row in _stored()] == [row[:7] for row in single if row[2] != "Old-Code"] + [
            (added.pk, demo.street.pk, "visit_coverage", "year", datetime.date(2026, 1, 1), "", 7)
        ]
    finally:
        _migrate(latest)
    assert _relkind() == "p"
