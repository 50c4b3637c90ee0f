from datetime import datetime
from typing import Any

from ads.management.commands._sweep import SweepCommand
from ads.models import JobName
from ads.services.rule import ReconcileResult
from ads.services.sweeps import budget_check


class Command(SweepCommand):
    help = (
        "Enforce brand budgets and campaign caps on all campaigns now (the beat job, in-process)."
    )

    def sweep(self, *, at: datetime, dry_run: bool, options: dict[str, Any]) -> ReconcileResult:
        return budget_check(at=at, actor="manage.py check_budget", dry_run=dry_run)

    def job_name(self, options: dict[str, Any]) -> JobName:
        return JobName.CHECK_BUDGET
