"""Closure and fulfilment rates are now shares of a period's intake, kept in two new metrics
(`tickets_received_closed`, `demands_collected_fulfilled`), and cancelled demands are no longer
counted as collected. Every day with tickets or demands is marked for the incremental rollup,
which fills the new cells and recounts the collected demands there."""

from django.conf import settings
from django.db import migrations


def mark_days(apps, schema_editor):
    from zoneinfo import ZoneInfo

    from django.db.models.functions import TruncDate

    DirtyCell = apps.get_model("grid", "DirtyCell")
    tz = ZoneInfo(settings.TIME_ZONE)

    def days(model):
        return (
            model.objects.annotate(day=TruncDate("created_at", tzinfo=tz))
            .order_by()
            .values_list("day", flat=True)
            .distinct()
        )

    marks = [
        DirtyCell(metric="tickets_received_closed", day=day)
        for day in days(apps.get_model("demands", "Ticket")).iterator()
    ]
    for day in days(apps.get_model("demands", "Demand")).iterator():
        marks += [
            DirtyCell(metric="demands_collected", day=day),
            DirtyCell(metric="demands_collected_fulfilled", day=day),
            DirtyCell(metric="wishes_collected", day=day),
        ]
    DirtyCell.objects.bulk_create(marks, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0008_flag_late_steps"),
        ("grid", "0008_dirty_cells"),
    ]

    operations = [migrations.RunPython(mark_days, migrations.RunPython.noop)]
