"""Small typed builders for tests. Amounts are Decimal (or decimal strings), never floats."""

from __future__ import annotations

import itertools
from datetime import datetime, time
from decimal import Decimal

from ads.models import (
    AdAccount,
    Alert,
    AlertDelivery,
    AlertDeliveryState,
    Brand,
    Campaign,
    DaypartSchedule,
    DaypartWindow,
    DeliveryState,
    Platform,
    PlatformDelivery,
)
from ads.services.spend import spend_record
from ads.services.spend_events import SpendBatchResult, SpendEventInput

_numbers = itertools.count(1)


def make_brand(
    name: str | None = None,
    *,
    timezone: str = "UTC",
    daily: str = "100",
    monthly: str = "1000",
    currency: str = "USD",
) -> Brand:
    return Brand.objects.create(
        name=name or f"Brand {next(_numbers)}",
        timezone=timezone,
        currency=currency,
        daily_budget=Decimal(daily),
        monthly_budget=Decimal(monthly),
    )


def make_campaign(
    brand: Brand,
    name: str | None = None,
    *,
    daily: str | None = None,
    monthly: str | None = None,
    schedule: DaypartSchedule | None = None,
    enabled: bool = True,
) -> Campaign:
    return Campaign.objects.create(
        brand=brand,
        name=name or f"Campaign {next(_numbers)}",
        daily_budget=Decimal(daily) if daily else None,
        monthly_budget=Decimal(monthly) if monthly else None,
        schedule=schedule,
        enabled=enabled,
    )


def make_schedule(*windows: tuple[int, str, str], name: str | None = None) -> DaypartSchedule:
    """Windows as (weekday, "HH:MM" start, "HH:MM" end)."""
    schedule = DaypartSchedule.objects.create(name=name or f"Schedule {next(_numbers)}")
    for weekday, start, end in windows:
        DaypartWindow.objects.create(
            schedule=schedule,
            weekday=weekday,
            start_time=time.fromisoformat(start),
            end_time=time.fromisoformat(end),
        )
    return schedule


def spend(
    campaign: Campaign,
    amount: str,
    *,
    at: datetime,
    occurred_at: datetime | None = None,
    event_id: str | None = None,
    source: str = "test",
) -> SpendBatchResult:
    """Record one event through the real service."""
    return spend_record(
        events=[
            SpendEventInput(
                campaign_id=campaign.pk,
                amount=amount,
                occurred_at=occurred_at or at,
                source=source,
                external_id=event_id or f"evt-{next(_numbers)}",
            )
        ],
        at=at,
    )


def state(campaign: Campaign) -> tuple[str, str | None]:
    campaign.refresh_from_db()
    return campaign.status, campaign.pause_reason


def make_platform_push(
    state: DeliveryState,
    *,
    created_at: datetime,
    next_attempt_at: datetime | None = None,
    lease_until: datetime | None = None,
) -> PlatformDelivery:
    """One row of the platform outbox, for a campaign of its own on an account of its own."""
    brand = make_brand()
    account = AdAccount.objects.create(
        brand=brand,
        name="Search",
        platform=Platform.GOOGLE_ADS,
        account_id=f"{next(_numbers):010d}",
        credentials_env="NOT_SET_ANYWHERE",
    )
    return PlatformDelivery.objects.create(
        account=account,
        campaign=make_campaign(brand),
        desired_status="paused",
        state=state,
        created_at=created_at,
        next_attempt_at=next_attempt_at or created_at,
        lease_until=lease_until,
    )


def make_alert_delivery(state: AlertDeliveryState, *, created_at: datetime) -> AlertDelivery:
    """One row of the alert outbox, for an alert of a brand of its own."""
    alert = Alert.objects.create(
        brand=make_brand(),
        kind="threshold",
        period="day",
        period_start=created_at.date(),
        threshold=Decimal(80),
        spend=Decimal(80),
        budget=Decimal(100),
        created_at=created_at,
    )
    return AlertDelivery.objects.create(
        alert=alert,
        channel="email",
        target="ops@example.test",
        state=state,
        created_at=created_at,
        next_attempt_at=created_at,
    )
