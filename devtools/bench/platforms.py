"""The ad platforms' step of `manage.py bench`: status pushes and the sync at scale, against
the local fake Google Ads API (real google-ads client, gRPC on 127.0.0.1).

In data of its own (a brand named after the run, one account, up to 10,000 campaigns),
removed at the end whatever happens.
"""

from __future__ import annotations

import ipaddress
import math
import os
import random
import time
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test import override_settings
from django.utils import timezone

from ads.core.money import from_micros
from ads.core.periods import local_date
from ads.models import AdAccount, Brand, Campaign, Platform, PlatformDelivery, ReportedDailyTotal
from ads.models.ledger_guard import ledger_maintenance
from ads.platforms.outbox import deliveries_push
from ads.platforms.sync import platforms_sync
from ads.services.campaigns import campaigns_set_enabled
from devtools.bench.state import Bench
from devtools.fakes.google_ads import FakeGoogleAds, FakeGoogleAdsServer

PLATFORM_CAMPAIGNS = 10_000
SECTION = "platforms"


def platform_step(bench: Bench) -> None:
    """Pause every campaign of one Google Ads account and deliver the pushes; then sync the
    account's spend (today and yesterday) and statuses."""
    count = min(PLATFORM_CAMPAIGNS, bench.options.campaigns)
    bench.say(f"7. ad platforms: {count} campaigns on one Google Ads account (local fake) ...")
    variable = f"BENCH_{bench.run_id.upper()}_GOOGLE_ADS"
    fake = FakeGoogleAds(customer_id="1000000001")
    with FakeGoogleAdsServer(fake) as server:
        os.environ[variable] = (
            f'{{"developer_token": "bench", "insecure_endpoint": "{server.endpoint}"}}'
        )
        brand = Brand.objects.create(
            name=f"{bench.prefix}platforms",
            daily_budget=Decimal("100000000"),
            monthly_budget=Decimal("1000000000"),
        )
        # The fake listens on loopback, which the egress policy refuses unless allowed; the
        # bench allows it, and binds its own credentials variable to its own brand, for the
        # length of this step only.
        local = override_settings(
            OUTBOUND_ALLOWED_NETWORKS=(ipaddress.ip_network("127.0.0.0/8"),),
            PLATFORM_CREDENTIALS={variable: frozenset({brand.name})},
        )
        try:
            with local:
                _measure(bench, brand, variable, fake, count)
        finally:
            os.environ.pop(variable, None)
            _remove(brand)


def _measure(bench: Bench, brand: Brand, variable: str, fake: FakeGoogleAds, count: int) -> None:
    account = AdAccount.objects.create(
        brand=brand,
        name="bench",
        platform=Platform.GOOGLE_ADS,
        account_id=fake.customer_id,
        credentials_env=variable,
    )
    Campaign.objects.bulk_create(
        Campaign(
            brand=brand,
            name=f"p{number}",
            ad_account=account,
            platform_campaign_id=str(10_000_000 + number),
        )
        for number in range(count)
    )
    ids = list(Campaign.objects.filter(brand=brand).order_by("pk").values_list("pk", flat=True))
    fake.statuses.update({str(10_000_000 + number): "ENABLED" for number in range(count)})

    at = timezone.now()
    started = time.perf_counter()
    campaigns_set_enabled(campaign_ids=ids, enabled=False, at=at, actor="bench")
    enqueue_seconds = time.perf_counter() - started
    queued = PlatformDelivery.objects.filter(account=account).count()
    started = time.perf_counter()
    report = deliveries_push(at=at, account_id=account.pk)
    push_seconds = time.perf_counter() - started
    paused_there = sum(1 for status in fake.statuses.values() if status == "PAUSED")
    rate = count / push_seconds
    allowed_calls = math.ceil(count / 1000)  # at most one per 1,000 campaigns
    bench.figure(
        SECTION, "pauses queued with the transitions", queued, "", str(count), queued == count
    )
    bench.figure(SECTION, "staff pause of all, with outbox rows", round(enqueue_seconds, 2), "s")
    bench.figure(
        SECTION,
        "pushes delivered / paused on the platform",
        f"{report.delivered} / {paused_there}",
        "",
        f"{count} / {count}",
        report.delivered == count == paused_there,
    )
    bench.figure(SECTION, "push: campaigns/s", round(rate), "campaigns/s", ">= 2,000", rate >= 2000)
    bench.figure(
        SECTION,
        "push: platform calls (mutate_campaigns)",
        fake.mutate_calls,
        "",
        f"<= {allowed_calls}",
        fake.mutate_calls <= allowed_calls,
    )

    # Spend for today and yesterday on every campaign, as the platform reports it.
    rng = random.Random(bench.options.seed)
    today = local_date(at, brand.timezone)
    for number in range(count):
        for day in (today - timedelta(days=1), today):
            fake.spend[(str(10_000_000 + number), day)] = rng.randint(1, 50_000) * 10_000
    started = time.perf_counter()
    sync = platforms_sync(at=at + timedelta(seconds=1), account_id=account.pk)
    sync_seconds = time.perf_counter() - started
    bench.figure(
        SECTION,
        f"sync: {count} campaigns' spend (2 days) and status",
        round(sync_seconds, 2),
        "s",
        "< 10 s",
        sync_seconds < 10 and not sync.errors,
    )
    # The next sync, when a hundredth of the campaigns spent more since.
    for number in range(0, count, 100):
        fake.spend[(str(10_000_000 + number), today)] += 10_000
    started = time.perf_counter()
    again = platforms_sync(at=at + timedelta(seconds=2), account_id=account.pk)
    again_seconds = time.perf_counter() - started
    bench.figure(
        SECTION,
        f"sync again, {again.applied} totals changed",
        round(again_seconds, 2),
        "s",
        "",
        not again.errors,
    )
    expected = sum(fake.spend.values())
    stored = sum(
        ReportedDailyTotal.objects.filter(campaign__brand=brand).values_list("total", flat=True),
        Decimal(0),
    )
    bench.figure(
        SECTION,
        "sync: spend restated = platform's",
        f"{stored} / {from_micros(expected)}",
        "",
        "equal",
        stored == from_micros(expected),
    )


def _remove(brand: Brand) -> None:
    campaigns = "SELECT id FROM ads_campaign WHERE brand_id = %s"
    # The bench's own ledger rows: the sanctioned exception to the append-only ledger.
    with ledger_maintenance(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM ads_spendeventkey WHERE event_id IN "
            f"(SELECT id FROM ads_spendevent WHERE campaign_id IN ({campaigns}))",
            [brand.pk],
        )
        for table in (
            "ads_platformdelivery",
            "ads_campaignplatformstate",
            "ads_campaignstatuschange",
            "ads_campaignperiodspend",
            "ads_reporteddailytotal",
            "ads_spendevent",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE campaign_id IN ({campaigns})", [brand.pk])
        cursor.execute("DELETE FROM ads_brandperiodspend WHERE brand_id = %s", [brand.pk])
        cursor.execute("DELETE FROM ads_campaign WHERE brand_id = %s", [brand.pk])
        cursor.execute("DELETE FROM ads_adaccount WHERE brand_id = %s", [brand.pk])
        cursor.execute("DELETE FROM ads_brand WHERE id = %s", [brand.pk])
