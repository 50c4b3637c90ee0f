"""`manage.py bench_admin`: server time and query count of the staff console's busiest pages,
rendered in-process by Django's test client, on whatever data the database holds."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ads.models import Campaign
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput

BATCH = 1000
SOURCE = "bench-admin"


@dataclass(frozen=True)
class PageTiming:
    name: str
    url: str
    median_ms: float
    queries: int
    # The first answer that was not 200 (the renders stop there), else 200.
    status: int


def admin_pages(campaign: Campaign) -> list[tuple[str, str]]:
    """The pages measured: name and URL, the campaign's and its brand's pages included."""
    return [
        ("dashboard", "/admin/"),
        ("brand list", "/admin/ads/brand/"),
        ("brand list by % of daily budget", "/admin/ads/brand/?o=-3"),
        ("brand list, at or above 80 %", "/admin/ads/brand/?budget_used=warn"),
        ("campaign list", "/admin/ads/campaign/"),
        ("campaign list, paused", "/admin/ads/campaign/?status__exact=paused"),
        ("campaign page", f"/admin/ads/campaign/{campaign.pk}/change/"),
        ("brand page", f"/admin/ads/brand/{campaign.brand_id}/change/"),
    ]


def page_time(client: Client, name: str, url: str, *, runs: int) -> PageTiming:
    """The median of ``runs`` renders after one to warm caches (templates, zones), and the
    query count of the last. Over HTTPS, as staff reach it: on production settings (DEBUG
    off, DEVTOOLS on) a plain request would only measure the redirect to HTTPS."""
    client.get(url, secure=True)
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            return PageTiming(name, url, statistics.median(times), 0, response.status_code)
        queries = len(captured.captured_queries)
    return PageTiming(name, url, statistics.median(times), queries, 200)


def admin_spend_record(*, at: datetime) -> int:
    """One spend event today for every campaign without spend, so bars, filters and the
    dashboard have figures; how many campaigns got one. Safe to run twice (a second run
    finds every campaign with spend)."""
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
                source=SOURCE,
                external_id=f"{SOURCE}-{campaign_id}",
            )
            for campaign_id in ids[start : start + BATCH]
        ]
        spend_record(events=events, at=at, actor="bench_admin")
    return len(ids)
