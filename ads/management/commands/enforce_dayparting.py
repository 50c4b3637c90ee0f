from datetime import datetime
from typing import Any

from ads.management.commands._sweep import SweepCommand
from ads.models import JobName
from ads.services.rule import ReconcileResult
from ads.services.sweeps import dayparting_enforce


class Command(SweepCommand):
    help = "Open and close dayparting windows on all campaigns now (the beat job, in-process)."

    def sweep(self, *, at: datetime, dry_run: bool, options: dict[str, Any]) -> ReconcileResult:
        return dayparting_enforce(at=at, actor="manage.py enforce_dayparting", dry_run=dry_run)

    def job_name(self, options: dict[str, Any]) -> JobName:
        return JobName.ENFORCE_DAYPARTING
