from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.services import seeding
from ads.services.selectors.operators import campaign_states

DEFAULT_CAMPAIGNS_PER_BRAND = 10


class Command(BaseCommand):
    help = (
        "Load demo brands, schedules, campaigns and spend (safe to run twice). With --brands, "
        "bulk-create synthetic data for benchmarks instead."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--brands", type=int, help="Synthetic brands to create instead of the demo data."
        )
        parser.add_argument(
            "--campaigns-per-brand",
            type=int,
            help=f"Synthetic campaigns per brand (with --brands; default "
            f"{DEFAULT_CAMPAIGNS_PER_BRAND}).",
        )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        brands, per_brand = options["brands"], options["campaigns_per_brand"]
        if brands is None and per_brand is not None:
            # The demo data has fixed campaigns; silently ignoring the option would surprise.
            raise CommandError(
                "--campaigns-per-brand needs --brands (how many synthetic brands to create); "
                "without --brands, seed_data loads the fixed demo data."
            )
        at = timezone.now()
        if brands is not None:
            per_brand = DEFAULT_CAMPAIGNS_PER_BRAND if per_brand is None else per_brand
            if brands < 1 or per_brand < 1:
                raise CommandError("--brands and --campaigns-per-brand must be at least 1")
            what = f"synthetic data, {brands} brands x {per_brand} campaigns"
            report = seeding.seed_synthetic(brands=brands, campaigns_per_brand=per_brand, at=at)
        else:
            what = "demo data"
            # The demo's ad accounts point at local fakes: development only, as the login.
            report = seeding.seed_demo(at=at, ad_accounts=settings.DEBUG)
        created = (
            f"seed_data ({what}): {report.brands_created} brands, "
            f"{report.campaigns_created} campaigns, {report.schedules_created} schedules created"
        )
        if brands is None:
            created += f"; {report.events_accepted} spend events recorded"
        self.stdout.write(created + ".")
        if report.ad_accounts_created:
            self.stdout.write(
                f"  demo ad accounts: {report.ad_accounts_created} created, "
                f"{report.campaigns_linked} campaigns linked (credentials "
                f"{', '.join(a.credentials_env for a in seeding.DEMO_AD_ACCOUNTS)}: `make run` "
                "points them at its local fakes)"
            )
        new = report.brands_created or report.campaigns_created or report.events_accepted
        if not (new or report.ad_accounts_created):
            self.stdout.write("  nothing new: all of it was already there.")
        # Where the seeded campaigns stand, whichever step (spend or the check) paused them.
        states = campaign_states(brand_ids=report.brand_ids)
        self.stdout.write(f"  state now: {states.line()}")
        if settings.DEBUG and seeding.demo_superuser_ensure():
            self.stdout.write(
                "  demo superuser created: "
                f"username {seeding.DEMO_USERNAME!r}, password {seeding.DEMO_PASSWORD!r} "
                "(DEBUG only; change it for anything shared)"
            )
