"""Recording spend: validation, idempotency, period keying."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ads.models import BrandPeriodSpend, CampaignPeriodSpend, SpendEvent, SpendPeriod
from ads.services.spend import spend_record
from ads.services.spend_events import EventStatus, SpendEventInput
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def total(campaign_id: int, period: SpendPeriod, start: date) -> Decimal | None:
    row = CampaignPeriodSpend.objects.filter(
        campaign_id=campaign_id, period=period, period_start=start
    ).first()
    return None if row is None else row.amount


def event(campaign_id: int, amount: Any = "10.00", /, **overrides: Any) -> SpendEventInput:
    """An event for ``campaign_id``; ``overrides`` may replace any field, the campaign too."""
    fields: dict[str, Any] = {
        "campaign_id": campaign_id,
        "amount": amount,
        "occurred_at": NOON,
        "source": "test",
        "external_id": "e1",
    }
    fields.update(overrides)
    return SpendEventInput(**fields)


def test_accepted_events_land_in_the_ledger_and_the_period_totals() -> None:
    brand = make_brand(daily="1000", monthly="10000")
    campaign = make_campaign(brand)

    result = spend_record(
        events=[
            event(campaign.pk, "12.50", external_id="a"),
            event(campaign.pk, Decimal("0.125"), external_id="b"),
        ],
        at=NOON,
    )

    assert [o.status for o in result.outcomes] == [EventStatus.ACCEPTED, EventStatus.ACCEPTED]
    assert SpendEvent.objects.count() == 2
    assert total(campaign.pk, SpendPeriod.DAY, date(2026, 6, 10)) == Decimal("12.625")
    assert total(campaign.pk, SpendPeriod.MONTH, date(2026, 6, 1)) == Decimal("12.625")
    brand_day = BrandPeriodSpend.objects.get(brand=brand, period="day", period_start="2026-06-10")
    assert brand_day.amount == Decimal("12.625")


def test_duplicates_in_one_batch_and_across_batches_count_once() -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    batch = [
        event(campaign.pk, "10", external_id="x"),
        event(campaign.pk, "10", external_id="x"),
        event(campaign.pk, "10", external_id="x", source="other-platform"),
    ]

    first = spend_record(events=batch, at=NOON)
    second = spend_record(events=batch, at=NOON)

    assert [o.status for o in first.outcomes] == ["accepted", "duplicate", "accepted"]
    assert [o.status for o in second.outcomes] == ["duplicate", "duplicate", "duplicate"]
    assert (first.accepted, first.duplicates, second.duplicates) == (2, 1, 3)
    assert total(campaign.pk, SpendPeriod.DAY, date(2026, 6, 10)) == Decimal("20.00")
    assert SpendEvent.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"amount": "0"}, "greater than zero"),
        ({"amount": "-5"}, "greater than zero"),
        ({"amount": "ten"}, "not a number"),
        ({"amount": "NaN"}, "not a finite number"),
        ({"amount": 12.5}, "not a float"),
        ({"amount": None}, "decimal string"),
        ({"amount": "1.0000001"}, "more than 6 decimal places"),
        ({"amount": "1000000000001"}, "out of range"),
        ({"occurred_at": datetime(2026, 6, 10, 12, 0)}, "no time zone offset"),
        ({"occurred_at": NOON + timedelta(minutes=5, seconds=1)}, "in the future"),
        ({"occurred_at": None}, "occurred_at is required"),
        ({"source": ""}, "source is required"),
        ({"external_id": "  "}, "external_id is required"),
        ({"external_id": "x" * 129}, "longer than 128"),
        ({"campaign_id": 987654}, "unknown campaign"),
    ],
)
def test_a_rejected_event_says_why_and_changes_nothing(
    overrides: dict[str, Any], reason: str
) -> None:
    campaign = make_campaign(make_brand())
    good = event(campaign.pk, "5", external_id="good")
    bad = event(campaign.pk, "10.00", **{"external_id": "bad", **overrides})

    result = spend_record(events=[bad, good], at=NOON)

    rejected, accepted = result.outcomes
    assert rejected.status == EventStatus.REJECTED
    assert rejected.reason is not None and reason in rejected.reason
    assert accepted.status == EventStatus.ACCEPTED
    assert list(SpendEvent.objects.values_list("external_id", flat=True)) == ["good"]
    assert total(campaign.pk, SpendPeriod.DAY, date(2026, 6, 10)) == Decimal("5.00")


def test_up_to_five_minutes_of_clock_skew_is_accepted() -> None:
    campaign = make_campaign(make_brand())
    result = spend(campaign, "1", at=NOON, occurred_at=NOON + timedelta(minutes=5))
    assert result.accepted == 1


def test_a_batch_of_only_rejected_events_writes_nothing() -> None:
    campaign = make_campaign(make_brand())
    result = spend_record(events=[event(campaign.pk, "-1")], at=NOON)
    assert result.rejected == 1
    assert not SpendEvent.objects.exists() and not CampaignPeriodSpend.objects.exists()


def test_a_late_event_counts_for_its_own_day_and_does_not_pause_today() -> None:
    brand = make_brand(daily="100", monthly="10000")
    campaign = make_campaign(brand)
    yesterday_evening = datetime(2026, 6, 9, 23, 0, tzinfo=UTC)

    result = spend(campaign, "150", at=NOON, occurred_at=yesterday_evening)

    assert result.accepted == 1
    assert total(campaign.pk, SpendPeriod.DAY, date(2026, 6, 9)) == Decimal("150.00")
    assert total(campaign.pk, SpendPeriod.DAY, date(2026, 6, 10)) is None
    assert state(campaign) == ("running", None)
    assert result.transitions == []


def test_spend_counts_for_the_brand_local_day_of_occurred_at() -> None:
    tokyo = make_brand(timezone="Asia/Tokyo", daily="1000", monthly="10000")
    campaign = make_campaign(tokyo)
    # 2026-06-30 16:00 UTC is 2026-07-01 01:00 in Tokyo: a new day and a new month there.
    spend(campaign, "7", at=datetime(2026, 6, 30, 16, 0, tzinfo=UTC))

    assert total(campaign.pk, SpendPeriod.DAY, date(2026, 7, 1)) == Decimal("7.00")
    assert total(campaign.pk, SpendPeriod.MONTH, date(2026, 7, 1)) == Decimal("7.00")
    assert SpendEvent.objects.get().local_date == date(2026, 7, 1)


def test_totals_always_equal_the_ledger() -> None:
    brand = make_brand(daily="100000", monthly="1000000")
    campaigns = [make_campaign(brand) for _ in range(3)]
    amounts = ["0.01", "0.02", "19.99", "0.000001", "1234.5"]
    events = [
        event(c.pk, amount, external_id=f"{c.pk}-{i}", occurred_at=NOON - timedelta(hours=5 * i))
        for c in campaigns
        for i, amount in enumerate(amounts)
    ]
    spend_record(events=events, at=NOON)

    for campaign in campaigns:
        by_day: dict[date, Decimal] = {}
        for row in SpendEvent.objects.filter(campaign=campaign):
            by_day[row.local_date] = by_day.get(row.local_date, Decimal(0)) + row.amount
        stored = {
            row.period_start: row.amount
            for row in CampaignPeriodSpend.objects.filter(campaign=campaign, period="day")
        }
        assert stored == by_day
    brand_month = BrandPeriodSpend.objects.get(brand=brand, period="month")
    assert brand_month.amount == Decimal("3763.560003")
