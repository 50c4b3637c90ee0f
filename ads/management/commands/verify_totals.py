from argparse import ArgumentParser
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.models import Brand
from ads.services.verify import totals_verify

SHOWN_DIFFERENCES = 200


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Recompute every period total (campaign and brand, brand-local day and month) from the "
        "ledger and report each difference; exit 1 if drift was found and not fixed. With "
        "--fix, set the totals to the ledger's sums under the brands' locks and reconcile them."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--brand", type=int, help="Check this brand (id) only.")
        parser.add_argument(
            "--since",
            help="Periods starting on or after this date (month totals: its whole month).",
        )
        parser.add_argument(
            "--fix", action="store_true", help="Repair the differences and reconcile."
        )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        brand_id = options["brand"]
        if brand_id is not None and not Brand.objects.filter(pk=brand_id).exists():
            raise CommandError(f"brand {brand_id} does not exist")
        since = _date(options["since"]) if options["since"] else None
        result = totals_verify(
            at=timezone.now(),
            brand_id=brand_id,
            since=since,
            fix=options["fix"],
            actor="manage.py verify_totals",
        )
        verb = "repaired" if result.fix else "differs"
        for difference in result.differences[:SHOWN_DIFFERENCES]:
            self.stdout.write(f"  {verb}: {difference.describe()}")
        hidden = len(result.differences) - SHOWN_DIFFERENCES
        if hidden > 0:
            self.stdout.write(f"  ... and {hidden} more (see the log)")
        self.stdout.write(result.summary_line())
        if result.unresolved:
            raise CommandError(
                f"{len(result.differences)} totals differ from the ledger; "
                "run with --fix to repair them",
                returncode=1,
            )
