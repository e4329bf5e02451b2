import time

from django.core.management.base import BaseCommand, CommandError

from grid import rollup


class Command(BaseCommand):
    help = "Recompute every metric for every node and period from the records (safe to run any time)."

    def add_arguments(self, parser):
        parser.add_argument("metrics", nargs="*", help="Metric codes (default: all).")

    def handle(self, *args, metrics, **options):
        unknown = set(metrics) - set(rollup.REGISTRY)
        if unknown:
            raise CommandError("Unknown metrics: " + ", ".join(sorted(unknown)))
        chosen = [rollup.REGISTRY[code] for code in metrics] or None
        started = time.monotonic()

        def progress(code, done, total):
            width = 30
            filled = width * done // total
            self.stdout.write(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {code}")

        cells = rollup.rebuild(chosen, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"{cells} cells written in {time.monotonic() - started:.1f}s."))
