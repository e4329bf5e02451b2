import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from grid import rollup
from grid.demo import EXTRA_BUILDERS, DemoBuilder


class Command(BaseCommand):
    help = "Load the demo street (idempotent). --scale N multiplies its communities for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=int, default=1, help="Multiply the street's communities by N (default 1)."
        )

    def handle(self, *args, scale: int, **options):
        if scale < 1 or scale > 1000:
            raise CommandError("--scale must be between 1 and 1000.")
        started = time.monotonic()
        # One full rollup at the end instead of one per change while seeding.
        with override_settings(METRICS_ROLLUP_ON_COMMIT=False):
            report = DemoBuilder(scale=scale).build()
            for builder in EXTRA_BUILDERS:
                for what, count in builder(scale=scale, stdout=self.stdout).items():
                    report.add(what, count)
        if report.created:
            # The dashboards read rolled-up figures: bring them up to date with what was added.
            report.add("metric cells", rollup.rebuild())
        elapsed = time.monotonic() - started
        if report.created:
            summary = ", ".join(f"{count} {what}" for what, count in report.created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data created in {elapsed:.1f}s: {summary}."))
        else:
            self.stdout.write("Demo data already present; nothing to add.")
        if settings.DEBUG:
            self.stdout.write(f"Demo accounts (password: {settings.DEMO_PASSWORD}):")
            for username, label, role in report.accounts:
                self.stdout.write(f"  {username:<22} {label} · {role}")
