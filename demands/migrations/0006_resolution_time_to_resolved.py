"""Resolution time now runs from report to resolution, not to the closing (which waits for the
rating): every day with closed tickets is marked for the incremental rollup, which recomputes
the metric's cells there (set-based, in one statement)."""

from django.conf import settings
from django.db import migrations


def mark_days(apps, schema_editor):
    DirtyCell = apps.get_model("grid", "DirtyCell")
    Ticket = apps.get_model("demands", "Ticket")
    from django.db.models.functions import TruncDate
    from zoneinfo import ZoneInfo

    days = (
        Ticket.objects.filter(status="closed", closed_at__isnull=False)
        .annotate(day=TruncDate("closed_at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
        .order_by()
        .values_list("day", flat=True)
        .distinct()
    )
    DirtyCell.objects.bulk_create(
        [DirtyCell(metric="resolution_minutes", day=day) for day in days.iterator()], batch_size=1000
    )


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0005_ticket_accepted_index"),
        ("grid", "0008_dirty_cells"),
    ]

    operations = [migrations.RunPython(mark_days, migrations.RunPython.noop)]
