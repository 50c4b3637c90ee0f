from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.models import JobName, JobTrigger
from ads.services.job_runs import job_run, job_runs_prune, prune_figures


class Command(BaseCommand):
    help = "Delete job-run history older than JOB_HISTORY_DAYS (the beat job, in-process)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--days", type=int, help="Keep this many days (default: JOB_HISTORY_DAYS)."
        )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"] or settings.JOB_HISTORY_DAYS
        deleted = job_run(
            job=JobName.PRUNE_JOB_RUNS,
            trigger=JobTrigger.COMMAND,
            actor="manage.py prune_job_runs",
            at=timezone.now(),
            work=lambda at: job_runs_prune(at=at, days=days),
            figures=prune_figures,
        )
        self.stdout.write(f"prune_job_runs: {deleted} runs older than {days} days deleted.")
