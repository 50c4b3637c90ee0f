"""Spend corrections: a signed ledger row with a note and an actor, enforced at once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ads.models import BrandPeriodSpend, CampaignPeriodSpend, SpendCorrection, SpendEvent
from ads.services.corrections import spend_correct
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def totals(campaign_id: int, day: date) -> tuple[Decimal, Decimal]:
    return (
        CampaignPeriodSpend.objects.get(
            campaign_id=campaign_id, period="day", period_start=day
        ).amount,
        BrandPeriodSpend.objects.get(period="day", period_start=day).amount,
    )


def test_a_negative_correction_resumes_a_campaign_paused_for_the_budget() -> None:
    campaign = make_campaign(make_brand(daily="100"))
    spend(campaign, "100", at=NOON)
    assert state(campaign) == ("paused", "brand_daily_budget")

    result = spend_correct(
        campaign_id=campaign.pk,
        day=date(2026, 6, 10),
        amount=Decimal("-30"),
        note="double-counted click batch",
        actor="alice",
        at=NOON,
    )

    assert state(campaign) == ("running", None)
    assert [t.kind for t in result.transitions] == ["resumed"]
    assert totals(campaign.pk, date(2026, 6, 10)) == (Decimal("70"), Decimal("70"))
    row = SpendEvent.objects.get(kind="correction")
    assert (row.amount, row.source, row.local_date) == (Decimal("-30"), "staff", date(2026, 6, 10))
    assert row.external_id.startswith("correction:")
    correction = SpendCorrection.objects.get()
    assert (correction.actor, correction.note, correction.spend_event) == (
        "alice",
        "double-counted click batch",
        row,
    )


def test_a_positive_correction_for_an_earlier_day_lands_on_that_brand_local_day() -> None:
    campaign = make_campaign(make_brand(daily="100", timezone="Asia/Tokyo"))

    spend_correct(
        campaign_id=campaign.pk,
        day=date(2026, 6, 8),
        amount="12.5",
        note="late",
        actor="a",
        at=NOON,
    )

    row = SpendEvent.objects.get()
    assert row.local_date == date(2026, 6, 8)
    assert row.occurred_at == datetime(2026, 6, 8, 14, 59, 59, 999999, tzinfo=UTC)
    assert totals(campaign.pk, date(2026, 6, 8))[0] == Decimal("12.5")


@pytest.mark.parametrize(
    ("day", "amount", "note", "field"),
    [
        (date(2026, 6, 10), "5", "  ", "note"),
        (date(2026, 6, 10), "0", "why", "amount"),
        (date(2026, 6, 10), "-1", "why", "amount"),  # below zero for the day
        (date(2026, 6, 11), "5", "why", "day"),  # not begun yet
        (date(2025, 1, 1), "5", "why", "day"),  # too old
    ],
)
def test_a_correction_that_breaks_a_rule_is_refused_at_its_field(
    day: date, amount: str, note: str, field: str
) -> None:
    campaign = make_campaign(make_brand())

    with pytest.raises(ValidationError) as raised:
        spend_correct(
            campaign_id=campaign.pk, day=day, amount=amount, note=note, actor="a", at=NOON
        )

    assert field in raised.value.message_dict
    assert not SpendEvent.objects.exists()
