from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from ads.management.commands._sweep import SweepCommand
from ads.models import JobName
from ads.services.rule import ReconcileResult
from ads.services.sweeps import RESET_LIFTS, ResetPeriod, spend_reset


class Command(SweepCommand):
    help = (
        "Start a new day or month: resume the campaigns the new period allows. Spend is kept "
        "per brand-local day and month, so nothing is zeroed and history stays intact."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--type", required=True, choices=[p.value for p in ResetPeriod], dest="period"
        )

    def sweep(self, *, at: datetime, dry_run: bool, options: dict[str, Any]) -> ReconcileResult:
        return spend_reset(
            period=ResetPeriod(options["period"]),
            at=at,
            actor="manage.py reset_spend",
            dry_run=dry_run,
        )

    def extra_lines(self, result: ReconcileResult, options: dict[str, Any]) -> list[str]:
        period = ResetPeriod(options["period"])
        unit = "day" if period == ResetPeriod.DAILY else "month"
        resumed = result.resumed_from(RESET_LIFTS[period])
        return [f"  resumed because a new {unit} began: {resumed}"]

    def job_name(self, options: dict[str, Any]) -> JobName:
        if ResetPeriod(options["period"]) == ResetPeriod.DAILY:
            return JobName.RESET_SPEND_DAILY
        return JobName.RESET_SPEND_MONTHLY
