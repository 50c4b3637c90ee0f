from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ads.services import seeding


class Command(BaseCommand):
    help = (
        "Load demo brands, schedules, campaigns and spend (safe to run twice). With --brands "
        "and --campaigns-per-brand, bulk-create synthetic data for benchmarks instead."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--brands", type=int, help="Synthetic brands to create.")
        parser.add_argument(
            "--campaigns-per-brand", type=int, default=10, help="Synthetic campaigns per brand."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        at = timezone.now()
        if options["brands"] is not None:
            if options["brands"] < 1 or options["campaigns_per_brand"] < 1:
                raise CommandError("--brands and --campaigns-per-brand must be at least 1")
            report = seeding.seed_synthetic(
                brands=options["brands"],
                campaigns_per_brand=options["campaigns_per_brand"],
                at=at,
            )
        else:
            report = seeding.seed_demo(at=at)
        self.stdout.write(
            f"seed_data: {report.brands_created} brands, {report.campaigns_created} campaigns, "
            f"{report.schedules_created} schedules created; "
            f"{report.events_accepted} spend events recorded."
        )
        if report.reconcile is not None:
            summary = report.reconcile.summary()
            self.stdout.write(
                f"  {summary['checked']} campaigns checked: {summary['paused']} paused, "
                f"{summary['resumed']} resumed, {summary['reason_changed']} changed reason."
            )
        if settings.DEBUG and seeding.demo_superuser_ensure():
            self.stdout.write(
                "  demo superuser created: "
                f"username {seeding.DEMO_USERNAME!r}, password {seeding.DEMO_PASSWORD!r} "
                "(DEBUG only; change it for anything shared)"
            )
