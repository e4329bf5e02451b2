from django.db import migrations


def set_fillfactor(apps, schema_editor):
    """Leave room on every page of the metric store (PostgreSQL only), so that a rollup updating
    a cell's value writes the new version on the same page without touching the indexes (a HOT
    update). Applies to pages written from now on (VACUUM FULL rewrites the old ones)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE grid_metricvalue SET (fillfactor = 85)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE grid_metricvalue RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("grid", "0006_metric_value_period_order"),
    ]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
