"""Visit coverage is now households visited ÷ households due by their colour's cadence, kept in two
new metrics (`visit_coverage`, `key_visit_coverage`). Their history, from the first registered
household or visit to today, is marked for the incremental rollup, which fills the new cells."""

import datetime

from django.conf import settings
from django.db import migrations
from django.db.models import Min

# As the rollup engine marks a span (`grid.rollup.marks_for_span`): a day a week, and the last.
SPAN_GAP_DAYS = 7


def mark_history(apps, schema_editor):
    from zoneinfo import ZoneInfo

    DirtyCell = apps.get_model("grid", "DirtyCell")
    tz = ZoneInfo(settings.TIME_ZONE)
    firsts = [
        apps.get_model(app, model).objects.aggregate(first=Min(field))["first"]
        for app, model, field in (
            ("residents", "Household", "created_at"),
            ("services", "Visit", "visited_at"),
        )
    ]
    firsts = [first.astimezone(tz).date() for first in firsts if first is not None]
    if not firsts:
        return
    today = datetime.datetime.now(tz).date()
    days, day = [], min(firsts)
    while day < today:
        days.append(day)
        day += datetime.timedelta(days=SPAN_GAP_DAYS)
    days.append(today)
    DirtyCell.objects.bulk_create(
        [
            DirtyCell(metric=code, day=day)
            for code in ("visit_coverage", "key_visit_coverage")
            for day in days
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0003_event_cancellation"),
        ("residents", "0002_history"),
        ("grid", "0008_dirty_cells"),
    ]

    operations = [migrations.RunPython(mark_history, migrations.RunPython.noop)]
