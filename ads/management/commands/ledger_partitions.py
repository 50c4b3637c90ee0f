from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.models import JobName, JobTrigger
from ads.services.job_runs import job_run
from ads.services.ledger_partitions import DEFAULT_AHEAD, partitions_ensure, partitions_figures


class Command(BaseCommand):
    help = (
        "Create the spend ledger's monthly partitions (PostgreSQL) from the oldest month an "
        "event may be dated in to --ahead months after this one, and move rows the DEFAULT "
        "partition caught into them (the daily beat job, in-process). Safe to run twice."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--ahead",
            type=int,
            default=DEFAULT_AHEAD,
            help=f"Months after the current one to create (default {DEFAULT_AHEAD}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be created; create nothing."
        )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        ahead: int = options["ahead"]
        if ahead < 1:
            raise CommandError("--ahead must be at least 1 (next month's partition must exist)")
        if options["dry_run"]:
            result = partitions_ensure(at=timezone.now(), ahead=ahead, dry_run=True)
        else:
            result = job_run(
                job=JobName.LEDGER_PARTITIONS,
                trigger=JobTrigger.COMMAND,
                actor="manage.py ledger_partitions",
                at=timezone.now(),
                work=lambda at: partitions_ensure(at=at, ahead=ahead),
                figures=partitions_figures,
            )
        self.stdout.write(result.line())
