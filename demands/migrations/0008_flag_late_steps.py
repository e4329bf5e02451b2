"""A ticket accepted after its response deadline, or resolved after its resolution deadline, is
now flagged overdue by that step itself. Before, only the periodic job flagged it, and a ticket
accepted or resolved late in the minutes before the job ran stayed unflagged and counted as on
time. Such tickets are flagged here, and the days they closed on are marked for the incremental
rollup, which recomputes the on-time figures there."""

from django.conf import settings
from django.db import migrations
from django.db.models import F, Q


def flag_late(apps, schema_editor):
    DirtyCell = apps.get_model("grid", "DirtyCell")
    Ticket = apps.get_model("demands", "Ticket")
    from zoneinfo import ZoneInfo

    from django.db.models.functions import TruncDate

    late = Ticket.objects.filter(is_overdue=False).filter(
        Q(resolved_at__gt=F("resolution_due")) | Q(accepted_at__gt=F("response_due"))
    )
    days = (
        late.filter(status="closed", closed_at__isnull=False)
        .annotate(day=TruncDate("closed_at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
        .order_by()
        .values_list("day", flat=True)
        .distinct()
    )
    DirtyCell.objects.bulk_create(
        [DirtyCell(metric="tickets_on_time", day=day) for day in days.iterator()], batch_size=1000
    )
    late.update(is_overdue=True)


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0007_ticket_photo_thumbnail"),
        ("grid", "0008_dirty_cells"),
    ]

    operations = [migrations.RunPython(flag_late, migrations.RunPython.noop)]
