"""Shared budgets: the sum of their campaigns' spend in the brand-local day or month
pauses them all, in the same call as the crossing spend, and resets with the brand's day
and month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ads.models import PauseReason, SharedBudgetPeriodSpend, SpendPeriod
from ads.services.selectors.explain import campaign_explain
from ads.services.shared_budgets import (
    campaign_shared_budget_set,
    shared_budget_create,
    shared_budget_delete,
    shared_budget_update,
)
from ads.services.sweeps import ResetPeriod, spend_reset
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
RUNNING = ("running", None)


def paused(reason: PauseReason) -> tuple[str, str]:
    return ("paused", reason.value)


def test_the_shared_daily_budget_pauses_its_campaigns_and_resets_at_the_brands_midnight() -> None:
    brand = make_brand(timezone="Europe/Berlin", daily="1000", monthly="10000")
    first, second, alone = make_campaign(brand), make_campaign(brand), make_campaign(brand)
    shared, _ = shared_budget_create(
        brand_id=brand.pk,
        name="Search pot",
        daily_budget="100",
        monthly_budget=None,
        campaign_ids=[first.pk, second.pk],
        at=NOON,
        actor="alice",
    )
    spend(first, "70", at=NOON)
    spend(alone, "500", at=NOON)  # not in it: counts for the brand only
    assert state(first) == RUNNING
    result = spend(second, "30", at=NOON + timedelta(minutes=1))
    assert state(first) == paused(PauseReason.SHARED_DAILY_BUDGET)
    assert state(second) == paused(PauseReason.SHARED_DAILY_BUDGET)
    assert state(alone) == RUNNING
    assert {t.campaign_id for t in result.transitions} == {first.pk, second.pk}
    explained = campaign_explain(campaign_id=first.pk, at=NOON)
    assert explained is not None
    (line,) = [line for line in explained.budgets if line.scope == "shared_budget"]
    assert (line.name, line.spend, line.budget) == ("Search pot", Decimal("100"), Decimal("100"))

    # Midnight in Berlin (summer time) is 22:00 UTC.
    spend_reset(period=ResetPeriod.DAILY, at=datetime(2026, 6, 10, 22, 0, tzinfo=UTC))
    assert state(first) == RUNNING and state(second) == RUNNING
    assert shared.pk


def test_the_shared_monthly_budget_outlasts_the_day() -> None:
    brand = make_brand(daily="1000", monthly="10000")
    campaign = make_campaign(brand)
    shared_budget_create(
        brand_id=brand.pk,
        name="Pot",
        daily_budget=None,
        monthly_budget="150",
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="alice",
    )
    spend(campaign, "150", at=NOON)
    assert state(campaign) == paused(PauseReason.SHARED_MONTHLY_BUDGET)
    spend_reset(period=ResetPeriod.DAILY, at=datetime(2026, 6, 11, 0, 0, tzinfo=UTC))
    assert state(campaign) == paused(PauseReason.SHARED_MONTHLY_BUDGET)
    spend_reset(period=ResetPeriod.MONTHLY, at=datetime(2026, 7, 1, 0, 0, tzinfo=UTC))
    assert state(campaign) == RUNNING


def test_a_campaign_in_another_shared_budget_is_refused_by_either_side_never_moved() -> None:
    brand = make_brand()
    campaign = make_campaign(brand, name="Brand search")
    first, _ = shared_budget_create(
        brand_id=brand.pk,
        name="First",
        daily_budget="50",
        monthly_budget=None,
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="alice",
    )
    second, _ = shared_budget_create(
        brand_id=brand.pk,
        name="Second",
        daily_budget="50",
        monthly_budget=None,
        campaign_ids=[],
        at=NOON,
        actor="alice",
    )
    with pytest.raises(ValidationError) as raised:
        shared_budget_update(
            shared_budget_id=second.pk,
            changes={"campaign_ids": [campaign.pk]},
            at=NOON,
            actor="alice",
        )
    assert "'Brand search' is already in shared budget 'First'" in str(raised.value)
    with pytest.raises(ValidationError):
        campaign_shared_budget_set(
            campaign_id=campaign.pk, shared_budget_id=second.pk, at=NOON, actor="alice"
        )
    campaign.refresh_from_db()
    assert campaign.shared_budget_id == first.pk
    # Leaving, then joining, works; the totals follow the campaign.
    spend(campaign, "20", at=NOON)
    campaign_shared_budget_set(campaign_id=campaign.pk, shared_budget_id=None, at=NOON, actor="a")
    campaign_shared_budget_set(
        campaign_id=campaign.pk, shared_budget_id=second.pk, at=NOON, actor="a"
    )
    totals = dict(
        SharedBudgetPeriodSpend.objects.filter(period=SpendPeriod.DAY).values_list(
            "shared_budget_id", "amount"
        )
    )
    assert totals == {second.pk: Decimal("20")}


@pytest.mark.parametrize(
    ("daily", "monthly", "field", "words"),
    [
        (None, None, "daily_budget", "daily budget, a monthly budget or both"),
        ("0", None, "daily_budget", "above zero"),
        ("100", "50", "monthly_budget", "below the daily"),
        ("1.001", None, "daily_budget", "at most 2 decimals"),
    ],
)
def test_bad_shared_budgets_get_a_clear_error_and_change_nothing(
    daily: str | None, monthly: str | None, field: str, words: str
) -> None:
    brand = make_brand()
    with pytest.raises(ValidationError) as raised:
        shared_budget_create(
            brand_id=brand.pk,
            name="Pot",
            daily_budget=daily,
            monthly_budget=monthly,
            campaign_ids=[],
            at=NOON,
            actor="alice",
        )
    assert words in " ".join(raised.value.message_dict[field])
    assert not brand.shared_budgets.exists()


def test_a_yen_budget_takes_no_decimals_and_deleting_frees_the_campaigns() -> None:
    brand = make_brand(currency="JPY", daily="100000", monthly="1000000")
    campaign = make_campaign(brand)
    with pytest.raises(ValidationError, match="no decimals"):
        shared_budget_create(
            brand_id=brand.pk,
            name="Pot",
            daily_budget="100.5",
            monthly_budget=None,
            campaign_ids=[],
            at=NOON,
            actor="alice",
        )
    shared, _ = shared_budget_create(
        brand_id=brand.pk,
        name="Pot",
        daily_budget="100",
        monthly_budget=None,
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="alice",
    )
    spend(campaign, "100", at=NOON)
    assert state(campaign) == paused(PauseReason.SHARED_DAILY_BUDGET)
    shared_budget_delete(shared_budget_id=shared.pk, at=NOON, actor="alice")
    assert state(campaign) == RUNNING
    campaign.refresh_from_db()
    assert campaign.shared_budget_id is None
