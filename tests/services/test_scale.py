"""The engine is set-based: its query count does not grow with the number of campaigns."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ads.models import Brand, Campaign, CampaignStatusChange, Trigger
from ads.services.reconcile import reconcile
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput
from tests.factories import make_schedule

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
ZONES = ("UTC", "Asia/Tokyo", "America/New_York", "Europe/Berlin")


def add_campaigns(count: int, prefix: str) -> list[int]:
    """``count`` campaigns, ten per brand, in four zones; every third has a closed schedule,
    every fifth a cap. In every fourth brand the capped campaigns have spent their cap (so
    ingestion already reconciled those brands; the others are left to the sweep)."""
    closed = make_schedule((0, "01:00", "02:00"), name=f"{prefix} closed")
    brands = Brand.objects.bulk_create(
        Brand(
            name=f"{prefix} {n}",
            timezone=ZONES[n % len(ZONES)],
            daily_budget=Decimal(500),
            monthly_budget=Decimal(5000),
        )
        for n in range(count // 10)
    )
    campaigns = Campaign.objects.bulk_create(
        Campaign(
            brand=brand,
            name=f"c{n}",
            schedule=closed if n % 3 == 0 else None,
            daily_budget=Decimal(5) if n % 5 == 0 else None,
        )
        for brand in brands
        for n in range(10)
    )
    spend_record(
        events=[
            SpendEventInput(
                campaign_id=campaign.pk,
                amount="5",
                occurred_at=NOON,
                source=prefix,
                external_id=str(campaign.pk),
            )
            for index, campaign in enumerate(campaigns)
            if (index // 10) % 4 == 0 and index % 5 == 0
        ],
        at=NOON,
    )
    return [campaign.pk for campaign in campaigns]


def queries_of_reconcile() -> tuple[int, int]:
    with CaptureQueriesContext(connection) as context:
        result = reconcile(at=NOON, trigger=Trigger.CHECK_BUDGET)
    return len(context.captured_queries), len(result.transitions)


def test_reconcile_of_10000_campaigns_uses_as_many_queries_as_one_of_100() -> None:
    add_campaigns(100, "small")
    small_queries, small_moved = queries_of_reconcile()
    small_idle, _ = queries_of_reconcile()

    add_campaigns(9_900, "large")
    large_queries, large_moved = queries_of_reconcile()
    large_idle, nothing = queries_of_reconcile()

    assert Campaign.objects.count() == 10_000
    assert small_moved > 20 and large_moved > 2_000
    assert large_queries == small_queries
    assert large_idle == small_idle and nothing == 0
    assert CampaignStatusChange.objects.count() >= small_moved + large_moved
