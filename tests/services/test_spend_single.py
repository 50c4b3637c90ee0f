"""Single events: on PostgreSQL one statement records a known campaign's event; every
answer (accepted, duplicate, conflict, rejected, refused overflow, the pause) stays the
general path's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ads.core.money import MAX_AMOUNT, MAX_TOTAL_MICROS
from ads.models import Brand, CampaignPeriodSpend, PauseReason, SpendEvent
from ads.services.spend import spend_record
from ads.services.spend_events import EventStatus, SpendBatchResult, SpendEventInput
from tests.factories import make_brand, make_campaign, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def one(campaign_id: int, amount: str, key: str, **extra: object) -> SpendEventInput:
    fields: dict[str, object] = {
        "campaign_id": campaign_id,
        "amount": amount,
        "occurred_at": NOON,
        "source": "single",
        "external_id": key,
    }
    fields.update(extra)
    return SpendEventInput(**fields)  # type: ignore[arg-type]


def record(event: SpendEventInput, **kwargs: Any) -> SpendBatchResult:
    return spend_record(events=[event], at=NOON, **kwargs)


@pytest.mark.postgres
def test_a_known_campaigns_event_is_written_by_one_statement_on_postgresql() -> None:
    campaign = make_campaign(make_brand())
    record(one(campaign.pk, "1", "warm"))

    with CaptureQueriesContext(connection) as captured:
        result = record(one(campaign.pk, "2", "fast"))

    assert result.accepted == 1
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    # The ledger and every total in one statement; after it only the alert rule's reads
    # (3 % of the budget: no alert is due, so nothing else is written).
    assert "ads_spendevent" in statements[0]
    writes = [sql for sql in statements if sql.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []
    assert all("ads_spendevent" not in sql for sql in statements[1:])
    assert CampaignPeriodSpend.objects.get(campaign=campaign, period="day").amount == Decimal(3)


def test_resends_are_duplicates_or_conflicts_and_change_nothing() -> None:
    campaign = make_campaign(make_brand())
    assert record(one(campaign.pk, "1.50", "k")).accepted == 1

    same = record(one(campaign.pk, "1.50", "k"))
    different = record(one(campaign.pk, "1.51", "k"))

    assert same.outcomes[0].status == EventStatus.DUPLICATE
    assert different.outcomes[0].status == EventStatus.CONFLICT
    assert different.outcomes[0].differs == ("amount",)
    assert CampaignPeriodSpend.objects.get(campaign=campaign, period="day").amount == Decimal(
        "1.50"
    )


def test_wrong_currency_and_other_brands_are_rejected_without_writing() -> None:
    brand, other = make_brand(currency="EUR"), make_brand()
    campaign = make_campaign(brand)
    record(one(campaign.pk, "1", "warm"))

    wrong_currency = record(one(campaign.pk, "1", "usd", currency="USD"))
    foreign = record(one(campaign.pk, "1", "foreign"), allowed_brand_ids=frozenset({other.pk}))
    missing = record(one(campaign.pk + 1000, "1", "missing"))

    assert wrong_currency.outcomes[0].status == EventStatus.REJECTED
    assert "does not match the brand's currency 'EUR'" in (wrong_currency.outcomes[0].reason or "")
    assert foreign.outcomes[0].reason == f"unknown campaign {campaign.pk}"
    assert missing.outcomes[0].reason == f"unknown campaign {campaign.pk + 1000}"
    assert SpendEvent.objects.count() == 1


def test_an_event_after_the_brand_changed_zone_counts_on_the_new_local_day() -> None:
    brand = make_brand(timezone="UTC")
    campaign = make_campaign(brand)
    record(one(campaign.pk, "1", "warm"))
    Brand.objects.filter(pk=brand.pk).update(timezone="Pacific/Kiritimati")  # UTC+14

    late = one(campaign.pk, "2", "late", occurred_at=NOON + timedelta(hours=11))
    spend_record(events=[late], at=NOON + timedelta(hours=11))

    assert SpendEvent.objects.get(external_id="late").local_date == date(2026, 6, 11)


def test_the_event_that_reaches_the_budget_pauses_before_the_call_returns() -> None:
    brand = make_brand(daily="10", monthly="100")
    first, second = make_campaign(brand), make_campaign(brand)
    record(one(first.pk, "4", "a"))

    result = record(one(first.pk, "6", "b"))

    assert state(first) == ("paused", PauseReason.BRAND_DAILY_BUDGET)
    assert state(second) == ("paused", PauseReason.BRAND_DAILY_BUDGET)
    assert {t.campaign_id for t in result.transitions} == {first.pk, second.pk}


def test_a_single_event_that_would_overflow_a_total_is_refused() -> None:
    campaign = make_campaign(make_brand(daily=str(MAX_AMOUNT), monthly=str(MAX_AMOUNT)))
    for n in range(MAX_TOTAL_MICROS // 10**18):
        assert record(one(campaign.pk, str(MAX_AMOUNT), f"max-{n}")).accepted == 1

    refused = record(one(campaign.pk, str(MAX_AMOUNT), "too-many"))
    small = record(one(campaign.pk, "1", "small"))

    assert refused.outcomes[0].status == EventStatus.REJECTED
    assert "the most a period total can hold" in (refused.outcomes[0].reason or "")
    assert small.accepted == 1
    assert not SpendEvent.objects.filter(external_id="too-many").exists()
