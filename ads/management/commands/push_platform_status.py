from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.platforms.outbox import deliveries_push


class Command(BaseCommand):
    help = "Deliver pending campaign status pushes to the ad platforms now (the beat job)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--account", type=int, help="Only this ad account (its id).")
        parser.add_argument("--dry-run", action="store_true", help="Only count what is due.")

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        report = deliveries_push(
            at=timezone.now(), account_id=options["account"], dry_run=options["dry_run"]
        )
        mode = "dry run, nothing sent" if report.dry_run else "sent"
        self.stdout.write(
            f"push_platform_status ({mode}): {report.due} due in {report.accounts} account(s); "
            f"{report.delivered} delivered, {report.retrying} to retry, {report.failed} failed, "
            f"{report.skipped} skipped, {report.superseded} superseded, {report.calls} call(s)."
        )
        for error in report.errors:
            self.stderr.write(f"  {error}")
