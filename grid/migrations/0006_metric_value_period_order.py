from django.db import migrations, models

STATISTICS = "metric_value_period_stats"


def create_statistics(apps, schema_editor):
    """Extended statistics (PostgreSQL only) so the planner knows that period kind, start and
    metric go together: year cells all start on 1 January, day cells on every day."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (mcv, dependencies) "
            "ON metric, period_kind, period_start FROM grid_metricvalue"
        )
        schema_editor.execute("ANALYZE grid_metricvalue")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("grid", "0005_metric_value_lean"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="metricvalue",
            name="metric_value_unique_cell",
        ),
        migrations.AddConstraint(
            model_name="metricvalue",
            constraint=models.UniqueConstraint(
                fields=("node", "period_kind", "period_start", "dimension", "metric"),
                name="metric_value_unique_cell",
            ),
        ),
        migrations.RunPython(create_statistics, drop_statistics),
    ]
