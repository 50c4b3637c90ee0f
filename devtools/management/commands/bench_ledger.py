from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from devtools.bench.ledger import LedgerBench, LedgerBenchError, LedgerBenchOptions


class Command(BaseCommand):
    help = (
        "Fill the (partitioned) ledger with --rows rows straight in SQL, consistent with the "
        "totals, then measure batched ingestion and verify_totals of the current month with "
        "them on disk, and print the ledger's size. PostgreSQL only."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        defaults = LedgerBenchOptions(rows=0)
        parser.add_argument(
            "--rows",
            type=int,
            required=True,
            help="Ledger rows to fill (0: measure with the ledger as it is, e.g. after --keep).",
        )
        parser.add_argument("--campaigns", type=int, default=defaults.campaigns)
        parser.add_argument(
            "--months", type=int, default=defaults.months, help="Spread over this many months."
        )
        parser.add_argument("--chunk", type=int, default=defaults.chunk, help="Rows a commit.")
        parser.add_argument(
            "--events", type=int, default=defaults.events, help="Events ingested afterwards."
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="Keep the data (for tens of millions of rows: drop the database instead).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rows"] < 0 or options["campaigns"] < 10 or options["events"] < 2_000:
            raise CommandError("--rows must be >= 0, --campaigns >= 10, --events >= 2000")
        if options["months"] < 1 or options["chunk"] < 1:
            raise CommandError("--months and --chunk must be >= 1")
        bench = LedgerBench(
            LedgerBenchOptions(
                rows=options["rows"],
                campaigns=options["campaigns"],
                months=options["months"],
                chunk=options["chunk"],
                events=options["events"],
                keep=options["keep"],
            ),
            self.stdout,
        )
        try:
            figures = bench.run()
        except LedgerBenchError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("\n| figure | value |\n| --- | --- |")
        for name, value in figures:
            self.stdout.write(f"| {name} | {value} |")
