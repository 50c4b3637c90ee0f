"""Property: whatever mix of events, resends, conflicting resends, daily totals,
restatements and rejects arrives, after every step the period totals equal the ledger and
every campaign's status is what the rule gives."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ads.models import Brand, BrandPeriodSpend, Campaign, CampaignPeriodSpend, SpendEvent, Trigger
from ads.services.daily_totals import TotalStatus, daily_totals_ingest
from ads.services.reconcile import reconcile
from ads.services.rule import Scope
from ads.services.spend import spend_record
from ads.services.spend_events import EventStatus, SpendEventInput
from tests.factories import make_brand, make_campaign

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
_runs = itertools.count(1)

# Amounts that are taken, and ones that must be refused without changing anything.
GOOD_AMOUNTS = ["0.01", "1", "7.5", "12.345678", "20", "33.33"]
BAD_AMOUNTS = ["0", "-5", "1e3", "1_000", "1.0000001", "NaN", "99999999999999999999999.0000001"]

event_step = st.tuples(
    st.just("event"),
    st.integers(0, 2),  # campaign
    st.sampled_from(GOOD_AMOUNTS + BAD_AMOUNTS),
    st.integers(0, 5),  # event key: a small space, so that resends and conflicts happen
    st.integers(0, 1),  # days ago
)
total_step = st.tuples(
    st.just("total"),
    st.integers(0, 2),  # campaign
    st.sampled_from(["0", "5", "18.50", "40", "75", "-1", "1e2"]),
    st.integers(0, 3),  # report time: minutes before now (the same again: a stale report)
    st.integers(0, 1),  # days ago
)
steps = st.lists(st.one_of(event_step, total_step), min_size=1, max_size=12)


def _ledger_sums(campaign_ids: list[int]) -> tuple[dict[Any, Decimal], dict[Any, Decimal]]:
    per_campaign: dict[Any, Decimal] = defaultdict(Decimal)
    per_brand: dict[Any, Decimal] = defaultdict(Decimal)
    rows = SpendEvent.objects.filter(campaign_id__in=campaign_ids).values_list(
        "campaign_id", "campaign__brand_id", "local_date", "amount"
    )
    for campaign_id, brand_id, day, amount in rows:
        for period, start in (("day", day), ("month", day.replace(day=1))):
            per_campaign[(campaign_id, period, start)] += amount
            per_brand[(brand_id, period, start)] += amount
    return per_campaign, per_brand


def _assert_totals_equal_ledger(brand: Brand, campaigns: list[Campaign]) -> None:
    ids = [c.pk for c in campaigns]
    ledger_campaign, ledger_brand = _ledger_sums(ids)
    stored_campaign = {
        (row.campaign_id, row.period, row.period_start): row.amount
        for row in CampaignPeriodSpend.objects.filter(campaign_id__in=ids)
    }
    stored_brand = {
        (row.brand_id, row.period, row.period_start): row.amount
        for row in BrandPeriodSpend.objects.filter(brand=brand)
    }
    # A stored total of zero with no ledger rows is the same as no total.
    assert {k: v for k, v in stored_campaign.items() if v} == {
        k: v for k, v in ledger_campaign.items() if v
    }
    assert {k: v for k, v in stored_brand.items() if v} == {
        k: v for k, v in ledger_brand.items() if v
    }


def _assert_statuses_follow_the_rule(brand: Brand) -> None:
    planned = reconcile(
        at=NOON, trigger=Trigger.CHECK_BUDGET, scope=Scope(brand_ids=(brand.pk,)), dry_run=True
    )
    assert planned.transitions == []


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_totals_equal_the_ledger_and_statuses_the_rule_after_every_step(
    steps: list[tuple[Any, ...]],
) -> None:
    # Each example gets its own brand (examples share the test's transaction).
    run = next(_runs)
    brand = make_brand(f"Property {run}", daily="60", monthly="150")
    campaigns = [
        make_campaign(brand, daily="45"),
        make_campaign(brand, monthly="90"),
        make_campaign(brand),
    ]
    sent: dict[str, tuple[int, str, int]] = {}
    for step in steps:
        before = SpendEvent.objects.filter(campaign__brand=brand).count()
        if step[0] == "event":
            _, index, amount, key, days_ago = step
            campaign = campaigns[index]
            external_id = f"p{run}-k{key}"
            result = spend_record(
                events=[
                    SpendEventInput(
                        campaign_id=campaign.pk,
                        amount=amount,
                        occurred_at=NOON - timedelta(days=days_ago),
                        source="property",
                        external_id=external_id,
                    )
                ],
                at=NOON,
            )
            status = result.outcomes[0].status
            after = SpendEvent.objects.filter(campaign__brand=brand).count()
            if amount in BAD_AMOUNTS:
                assert status == EventStatus.REJECTED
            elif external_id not in sent:
                assert status == EventStatus.ACCEPTED
                sent[external_id] = (campaign.pk, amount, days_ago)
            elif sent[external_id] == (campaign.pk, amount, days_ago) or (
                sent[external_id][0] == campaign.pk
                and Decimal(sent[external_id][1]) == Decimal(amount)
                and sent[external_id][2] == days_ago
            ):
                assert status == EventStatus.DUPLICATE
            else:
                assert status == EventStatus.CONFLICT
            assert after == before + (1 if status == EventStatus.ACCEPTED else 0)
        else:
            _, index, total, minutes, days_ago = step
            day: date = (NOON - timedelta(days=days_ago)).date()
            # Before NOON, after the day began; the same minutes again make a stale report.
            reported_at = NOON - timedelta(minutes=minutes)
            result_totals = daily_totals_ingest(
                items=[
                    {
                        "campaign": campaigns[index].pk,
                        "date": day.isoformat(),
                        "total": total,
                        "reported_at": reported_at.isoformat(),
                        "source": "platform",
                    }
                ],
                at=NOON,
            )
            outcome = result_totals.outcomes[0]
            if total in ("-1", "1e2"):
                assert outcome.status == TotalStatus.REJECTED
                assert SpendEvent.objects.filter(campaign__brand=brand).count() == before
        _assert_totals_equal_ledger(brand, campaigns)
        _assert_statuses_follow_the_rule(brand)
