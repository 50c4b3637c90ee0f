from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.services.media_plan_apply import PlanOutcome, media_plan_import
from ads.services.media_plan_csv import MAX_BYTES, PlanInvalid

# Transitions listed by name before "... and N more".
SHOWN_MOVES = 20


class Command(BaseCommand):
    help = (
        "Import a media plan from the planner's CSV sheet (columns brand, campaign, flight, "
        "starts_on, ends_on, budget, and optionally month, monthly_budget): flights created "
        "or brought to the sheet's dates, budget and campaigns, and monthly budgets planned "
        "from the first of a month. All or nothing; errors by line and column. Prints what "
        "changes; --dry-run prints it and changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="Path of the CSV file (UTF-8).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the sheet and say what would change."
        )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["file"]
        dry_run: bool = options["dry_run"]
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            outcome = media_plan_import(
                data=data, at=timezone.now(), actor="manage.py import_plan", dry_run=dry_run
            )
        except PlanInvalid as exc:
            self.stdout.write(f"import_plan {path}: refused, nothing was changed:")
            self.stdout.write("\n".join(f"  {line}" for line in exc.lines()))
            raise CommandError(
                f"{len(exc.errors)} error(s) in {path}; fix them and run it again"
            ) from None
        self._report(path, outcome, dry_run)

    def _report(self, path: str, outcome: PlanOutcome, dry_run: bool) -> None:
        summary = outcome.summary
        verb = "would change" if dry_run else "changed"
        self.stdout.write(f"import_plan {path}: {summary.headline()}")
        if summary.nothing:
            self.stdout.write("  nothing to change: the stored plan is the sheet's")
            return
        self.stdout.write(f"  {verb}:")
        self.stdout.write("\n".join(f"  {line}" for line in summary.changes))
        if dry_run:
            self.stdout.write("  dry run: nothing was changed")
            return
        moves = outcome.transitions
        if moves:
            shown = ", ".join(
                f"{t.campaign_name} ({t.to_reason or t.to_status})" for t in moves[:SHOWN_MOVES]
            )
            more = f" and {len(moves) - SHOWN_MOVES} more" if len(moves) > SHOWN_MOVES else ""
            self.stdout.write(f"  enforced at once: {len(moves)} campaign(s) moved: {shown}{more}")
