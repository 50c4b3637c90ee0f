from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.platforms.sync import platforms_sync


class Command(BaseCommand):
    help = (
        "Read today's and yesterday's spend and every campaign's status from the ad platforms; "
        "restate spend and repair drift (the beat job)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--account", type=int, help="Only this ad account (its id).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Read the platforms, change nothing."
        )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        report = platforms_sync(
            at=timezone.now(), account_id=options["account"], dry_run=options["dry_run"]
        )
        mode = "dry run, nothing changed" if report.dry_run else "applied"
        self.stdout.write(
            f"sync_platforms ({mode}): {report.accounts} account(s), {report.campaigns} "
            f"campaign(s), {report.totals} daily totals read, {report.applied} restated, "
            f"{report.transitions} campaign(s) moved, {report.drift_repaired} drift repaired, "
            f"{report.paused_elsewhere} paused on the platform by someone else."
        )
        for error in report.errors:
            self.stderr.write(f"  {error}")
