from typing import Any

from ads.core.transactions import entry_point
from ads.management.commands._brand_job import BrandJobCommand
from ads.models import JobName
from ads.services.underspend import underspend_check, underspend_figures


class Command(BrandJobCommand):
    job = JobName.ALERT_UNDERSPEND
    dry_run_help = "Say which alerts would fire; record nothing (and no job run)."
    help = (
        "Fire the underspend alerts the brands' months and running flights call for: a "
        "projection below the budget by more than the margin, once a quarter of the period "
        "has passed, at most once per brand-local day (the hourly beat job, in-process). "
        "Safe to run twice."
    )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        report = self.run(
            options,
            lambda at, brands, dry_run: underspend_check(at=at, brand_ids=brands, dry_run=dry_run),
            underspend_figures,
        )
        if report is None:
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
