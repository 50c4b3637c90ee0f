"""Server time and query count of the staff console's busiest pages, on this database."""

from __future__ import annotations

import statistics
import time
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ads.models import Campaign, SpendEvent
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput

BATCH = 1000


class Command(BaseCommand):
    help = (
        "Render the admin's brand list, campaign list, a campaign page and the dashboard "
        "in-process (Django's test client, as a superuser) and print the median server time "
        "and the query count of each. Run it on data such as `seed_data --brands 10000 "
        "--campaigns-per-brand 10`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--runs", type=int, default=7, help="Renders per page (median).")
        parser.add_argument(
            "--spend",
            action="store_true",
            help="First record one spend event today for every campaign without spend (source "
            "bench-admin), so bars, filters and the dashboard have figures.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        if user is None:
            raise CommandError("needs a superuser (seed_data creates one with DEBUG on)")
        if options["spend"]:
            self._spend()
        campaign = Campaign.objects.filter(spend_events__isnull=False).order_by("pk").first()
        campaign = campaign or Campaign.objects.order_by("pk").first()
        if campaign is None:
            raise CommandError("no campaigns: run seed_data first")
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        pages = [
            ("dashboard", "/admin/"),
            ("brand list", "/admin/ads/brand/"),
            ("brand list by % of daily budget", "/admin/ads/brand/?o=-4"),
            ("brand list, at or above 80 %", "/admin/ads/brand/?budget_used=warn"),
            ("campaign list", "/admin/ads/campaign/"),
            ("campaign list, paused", "/admin/ads/campaign/?status__exact=paused"),
            ("campaign page", f"/admin/ads/campaign/{campaign.pk}/change/"),
            ("brand page", f"/admin/ads/brand/{campaign.brand_id}/change/"),
        ]
        self.stdout.write(
            f"{Campaign.objects.count()} campaigns, {SpendEvent.objects.count()} ledger rows, "
            f"{connection.vendor}; median of {options['runs']} renders"
        )
        for name, url in pages:
            client.get(url)  # warm caches (templates, zones)
            times, queries = [], 0
            for _ in range(options["runs"]):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    times.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}")
                queries = len(captured.captured_queries)
            self.stdout.write(
                f"  {name:<34} {statistics.median(times):7.1f} ms  {queries:3d} queries  {url}"
            )

    def _spend(self) -> None:
        at = timezone.now()
        ids = list(
            Campaign.objects.filter(spend_events__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, len(ids), BATCH):
            events = [
                SpendEventInput(
                    campaign_id=campaign_id,
                    # 5 to 14.99: a brand of ten campaigns spends 100-150 a day, near its
                    # budget of 100-590, so some are over 80 % and some paused.
                    amount=f"{5 + (campaign_id * 7919) % 1000 / 100:.2f}",
                    occurred_at=at,
                    source="bench-admin",
                    external_id=f"bench-admin-{campaign_id}",
                )
                for campaign_id in ids[start : start + BATCH]
            ]
            spend_record(events=events, at=at, actor="bench_admin")
        self.stdout.write(f"recorded spend for {len(ids)} campaigns")
