"""Ticket photos get a small thumbnail for the phone pages; existing photos get one made here
(a photo that cannot be read keeps none and shows itself, as before)."""

from django.core.files.base import ContentFile
from django.db import migrations, models


def make_thumbnails(apps, schema_editor):
    from PIL import Image

    from demands.photos import thumbnail_bytes

    TicketPhoto = apps.get_model("demands", "TicketPhoto")
    for photo in TicketPhoto.objects.filter(thumbnail="").iterator(chunk_size=200):
        try:
            with photo.image.open("rb") as stored, Image.open(stored) as image:
                small = thumbnail_bytes(image.convert("RGB"))
        except (OSError, ValueError):
            continue
        name = photo.image.name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        photo.thumbnail.save(f"{name}-small.jpg", ContentFile(small), save=False)
        photo.save(update_fields=["thumbnail"])


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0006_resolution_time_to_resolved"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticketphoto",
            name="thumbnail",
            field=models.ImageField(blank=True, upload_to="tickets/%Y/%m/", verbose_name="thumbnail"),
        ),
        migrations.RunPython(make_thumbnails, migrations.RunPython.noop),
    ]
