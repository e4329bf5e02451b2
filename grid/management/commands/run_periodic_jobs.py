from django.core.management.base import BaseCommand

from config.celery_app import app


class Command(BaseCommand):
    help = "Run every job of the beat schedule once, in this process (for setups without Celery beat)."

    def handle(self, *args, **options):
        app.loader.import_default_modules()  # load every app's tasks module
        for name, entry in app.conf.beat_schedule.items():
            result = app.tasks[entry["task"]].apply()
            self.stdout.write(f"{name}: {result.result!r}")
