"""Server time and query count of the staff console's busiest pages, on this database."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from ads.models import Campaign, SpendEvent
from devtools.bench.admin_pages import admin_pages, admin_spend_record, page_time


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
            recorded = admin_spend_record(at=timezone.now())
            self.stdout.write(f"recorded spend for {recorded} campaigns")
        campaign = Campaign.objects.filter(spend_events__isnull=False).order_by("pk").first()
        campaign = campaign or Campaign.objects.order_by("pk").first()
        if campaign is None:
            raise CommandError("no campaigns: run seed_data first")
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        self.stdout.write(
            f"{Campaign.objects.count()} campaigns, {SpendEvent.objects.count()} ledger rows, "
            f"{connection.vendor}; median of {options['runs']} renders"
        )
        for name, url in admin_pages(campaign):
            timing = page_time(client, name, url, runs=options["runs"])
            if timing.status != 200:
                raise CommandError(f"{url} answered {timing.status}")
            self.stdout.write(
                f"  {name:<34} {timing.median_ms:7.1f} ms  {timing.queries:3d} queries  {url}"
            )
