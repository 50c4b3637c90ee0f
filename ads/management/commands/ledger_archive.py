from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.services.ledger_partitions import ArchiveRefused, ledger_archive


class Command(BaseCommand):
    help = (
        "Detach the spend ledger's month partitions older than --older-than-months (default "
        "LEDGER_RETENTION_MONTHS, never fewer) into the ads_archive schema, delete their "
        "idempotency keys and record them; verify_totals then checks only attached months. "
        "PostgreSQL only. Safe to run twice."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--older-than-months",
            type=int,
            help="Archive months older than this many months before the current one "
            "(default and minimum: LEDGER_RETENTION_MONTHS).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be archived; change nothing."
        )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        months = options["older_than_months"] or settings.LEDGER_RETENTION_MONTHS
        try:
            result = ledger_archive(
                at=timezone.now(),
                older_than_months=months,
                dry_run=options["dry_run"],
                actor="manage.py ledger_archive",
            )
        except ArchiveRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(result.line())
