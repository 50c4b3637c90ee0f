from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.notifications.alerts import alerts_deliver


class Command(BaseCommand):
    help = "Send the alert emails and webhooks that are due now (the beat job)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count what is due.")

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        report = alerts_deliver(at=timezone.now(), dry_run=options["dry_run"])
        mode = "dry run, nothing sent" if report.dry_run else "sent"
        self.stdout.write(
            f"deliver_alerts ({mode}): {report.due} due; {report.sent} sent, "
            f"{report.retrying} to retry, {report.failed} failed."
        )
        for error in report.errors:
            self.stderr.write(f"  {error}")
