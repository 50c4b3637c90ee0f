from typing import Any

from ads.core.transactions import entry_point
from ads.management.commands._brand_job import BrandJobCommand
from ads.models import JobName
from ads.services.lags import lags_figures, lags_learn


def _minutes(value: int | None) -> str:
    return "unknown" if value is None else f"{value} min"


class Command(BrandJobCommand):
    job = JobName.LEARN_LAGS
    dry_run_help = "Print what would be learned; store nothing (and no job run)."
    help = (
        "Learn how late each brand's spend sources report: the p50 and p95 of received "
        "minus occurred, weighted by amount, over the rows received in the last 7 days "
        "(backfills and rows over 48 hours late left out; 20 rows at least), as the hourly "
        "beat job does. An operator's lag (admin or API) still wins. Safe to run twice."
    )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        report = self.run(
            options,
            lambda at, brands, dry_run: lags_learn(at=at, brand_ids=brands, dry_run=dry_run),
            lags_figures,
        )
        if report is None:
            return
        for lag in report.learned:
            self.stdout.write(
                f"  brand {lag.brand_id} {lag.source}: {lag.samples} rows, "
                f"p50 {_minutes(lag.p50_minutes)}, p95 {_minutes(lag.p95_minutes)}, "
                f"quickest {lag.min_minutes} min"
            )
        self.stdout.write(report.line())
