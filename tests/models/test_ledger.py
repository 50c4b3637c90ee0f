"""The spend ledger: the database constraints on events and their idempotency keys."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from ads.models import Campaign, SpendEvent, SpendEventKey
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def spend_event(campaign: Campaign, **overrides: Any) -> SpendEvent:
    values: dict[str, Any] = {
        "campaign": campaign,
        "amount": Decimal("1.50"),
        "occurred_at": NOON,
        "local_date": NOON.date(),
        "source": "test",
        "external_id": "evt-1",
        "recorded_at": NOON,
    }
    values.update(overrides)
    return SpendEvent.objects.create(**values)


# Spend ledger constraints


@pytest.mark.parametrize("amount", ["0", "-0.000001", "-10"])
def test_database_refuses_a_spend_event_that_is_not_positive(amount: str) -> None:
    campaign = make_campaign(make_brand())

    with pytest.raises(IntegrityError), transaction.atomic():
        spend_event(campaign, amount=Decimal(amount))

    assert not SpendEvent.objects.exists()


def test_database_refuses_a_duplicate_spend_event_key_from_one_source() -> None:
    # The key lives in its own table since the ledger is partitioned (migration 0017).
    SpendEventKey.objects.create(
        source="meta", external_id="evt-1", kind="event", local_date=NOON.date(), event_id=1
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        SpendEventKey.objects.create(
            source="meta", external_id="evt-1", kind="event", local_date=NOON.date(), event_id=2
        )

    assert SpendEventKey.objects.get().event_id == 1


@pytest.mark.drift  # ledger rows made directly, without totals (verify_totals)
def test_the_same_external_id_from_another_source_is_a_new_event() -> None:
    campaign = make_campaign(make_brand())
    spend_event(campaign, source="meta", external_id="evt-1")
    spend_event(campaign, source="google", external_id="evt-1")

    assert SpendEvent.objects.count() == 2


# PROTECT


def test_deleting_a_campaign_with_spend_is_refused() -> None:
    campaign = make_campaign(make_brand())
    spend(campaign, "5", at=NOON)

    with pytest.raises(ProtectedError), transaction.atomic():
        campaign.delete()

    assert Campaign.objects.filter(pk=campaign.pk).exists()
    assert SpendEvent.objects.filter(campaign=campaign).count() == 1
