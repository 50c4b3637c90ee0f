from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.models import JobName, JobTrigger
from ads.services.job_runs import JobBusy, job_run
from ads.services.underspend import underspend_check, underspend_figures


class Command(BaseCommand):
    help = (
        "Fire the underspend alerts the brands' months and running flights call for: a "
        "projection below the budget by more than the margin, once a quarter of the period "
        "has passed, at most once per brand-local day (the hourly beat job, in-process). "
        "Safe to run twice."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--brand",
            type=int,
            action="append",
            metavar="ID",
            help="Only this brand (may be given more than once).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say which alerts would fire; record nothing (and no job run).",
        )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        brand_ids: list[int] | None = options["brand"]
        if options["dry_run"]:
            report = underspend_check(at=timezone.now(), brand_ids=brand_ids, dry_run=True)
        else:
            try:
                report = job_run(
                    job=JobName.ALERT_UNDERSPEND,
                    trigger=JobTrigger.COMMAND,
                    actor="manage.py alert_underspend",
                    at=timezone.now(),
                    work=lambda at: underspend_check(at=at, brand_ids=brand_ids),
                    figures=underspend_figures,
                )
            except JobBusy as exc:
                self.stdout.write(f"alert_underspend: skipped ({exc}).")
                return
        for alert in report.due:
            what = f"flight {alert.flight_id}" if alert.flight_id is not None else "month"
            amounts = alert.as_dict()
            self.stdout.write(
                f"  brand {alert.brand_id} {what} from {alert.period_start}: projected "
                f"{amounts['projected']} of {amounts['budget']} (spent {amounts['spend']}), "
                f"under {amounts['below_percent']}%"
            )
        self.stdout.write(report.line())
