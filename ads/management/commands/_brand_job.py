"""What the brand-scoped job commands (``alert_underspend``, ``learn_lags``) share: --brand
and --dry-run, and one recorded job run (a dry run records none)."""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.core.management.base import BaseCommand
from django.utils import timezone

from ads.models import JobName, JobTrigger
from ads.services.job_runs import JobBusy, JobFigures, job_run

_R = TypeVar("_R")


class BrandJobCommand(BaseCommand):
    job: JobName
    dry_run_help = "Say what it would do; record nothing (and no job run)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--brand",
            type=int,
            action="append",
            metavar="ID",
            help="Only this brand (may be given more than once).",
        )
        parser.add_argument("--dry-run", action="store_true", help=self.dry_run_help)

    def run(
        self,
        options: dict[str, Any],
        work: Callable[[datetime, Sequence[int] | None, bool], _R],
        figures: Callable[[_R], JobFigures],
    ) -> _R | None:
        """``work(at, brand_ids, dry_run)`` once: a dry run directly, else as a recorded run
        of the job (None, said, when another run is in progress)."""
        brand_ids: list[int] | None = options["brand"]
        if options["dry_run"]:
            return work(timezone.now(), brand_ids, True)
        try:
            return job_run(
                job=self.job,
                trigger=JobTrigger.COMMAND,
                actor=f"manage.py {self.job.value}",
                at=timezone.now(),
                work=lambda at: work(at, brand_ids, False),
                figures=figures,
            )
        except JobBusy as exc:
            self.stdout.write(f"{self.job.value}: skipped ({exc}).")
            return None
