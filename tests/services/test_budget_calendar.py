"""The budget calendar: the budget in force on a day is the latest change effective on or
before it, read by the engine itself, so a beat that was down at midnight misses nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ads.models import BudgetChange, BudgetTarget, ConfigChange, PauseReason, Trigger
from ads.services.budget_calendar import (
    budget_change_create,
    budget_change_delete,
    budget_change_update,
)
from ads.services.reconcile import reconcile
from ads.services.selectors.plans import upcoming_budget_changes
from ads.services.shared_budgets import shared_budget_create
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
RUNNING = ("running", None)


def paused(reason: PauseReason) -> tuple[str, str]:
    return ("paused", reason.value)


def test_a_change_effective_today_applies_at_once_with_its_transitions() -> None:
    brand = make_brand(daily="100", monthly="1000")
    campaign = make_campaign(brand)
    spend(campaign, "80", at=NOON)
    change, transitions = budget_change_create(
        brand_id=brand.pk,
        target=BudgetTarget.BRAND,
        target_id=None,
        effective_on=date(2026, 6, 10),
        daily_budget="80",
        monthly_budget=None,
        at=NOON,
        actor="planner",
    )
    assert state(campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)
    assert [t.to_reason for t in transitions] == ["brand_daily_budget"]
    assert ConfigChange.objects.get(object_type="budget_change").actor == "planner"
    assert change.created_by == "planner"


def test_a_future_change_takes_effect_on_its_day_without_any_job_at_midnight() -> None:
    brand = make_brand(timezone="America/New_York", daily="100", monthly="1000")
    campaign = make_campaign(brand)
    budget_change_create(
        brand_id=brand.pk,
        target=BudgetTarget.BRAND,
        target_id=None,
        effective_on=date(2026, 6, 12),
        daily_budget="50",
        monthly_budget="2000",
        at=NOON,
        actor="planner",
    )
    assert [c.effective_on for c in upcoming_budget_changes(brand_id=brand.pk, at=NOON)] == [
        date(2026, 6, 12)
    ]
    # Beat was down at midnight; a sweep hours later reads the calendar and decides with
    # the new budget (60 spent of a 50 daily budget in force from June 12).
    later = datetime(2026, 6, 12, 15, 0, tzinfo=UTC)
    spend(campaign, "40", at=later)
    assert state(campaign) == RUNNING
    spend(campaign, "20", at=later)
    assert state(campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)
    # The day before it, the stored budget applied: the same spend would not have paused.
    reconcile(at=datetime(2026, 6, 11, 15, 0, tzinfo=UTC), trigger=Trigger.CHECK_BUDGET)
    assert upcoming_budget_changes(brand_id=brand.pk, at=later) == []


def test_campaign_and_shared_budget_targets_follow_the_calendar_too() -> None:
    brand = make_brand(daily="1000", monthly="10000")
    campaign = make_campaign(brand, daily="500")
    pooled = make_campaign(brand)
    shared, _ = shared_budget_create(
        brand_id=brand.pk,
        name="Pot",
        daily_budget="500",
        monthly_budget=None,
        campaign_ids=[pooled.pk],
        at=NOON,
        actor="a",
    )
    spend(campaign, "30", at=NOON)
    spend(pooled, "30", at=NOON)
    budget_change_create(
        brand_id=brand.pk,
        target=BudgetTarget.CAMPAIGN,
        target_id=campaign.pk,
        effective_on=date(2026, 6, 10),
        daily_budget="30",
        monthly_budget=None,
        at=NOON,
        actor="a",
    )
    assert state(campaign) == paused(PauseReason.CAMPAIGN_DAILY_BUDGET)
    budget_change_create(
        brand_id=brand.pk,
        target=BudgetTarget.SHARED_BUDGET,
        target_id=shared.pk,
        effective_on=date(2026, 6, 10),
        daily_budget="30",
        monthly_budget=None,
        at=NOON,
        actor="a",
    )
    assert state(pooled) == paused(PauseReason.SHARED_DAILY_BUDGET)


def test_past_changes_are_refused_future_ones_edited_and_deleted_todays_kept() -> None:
    brand = make_brand(timezone="Pacific/Kiritimati")  # UTC+14: already June 11 there
    with pytest.raises(ValidationError) as raised:
        budget_change_create(
            brand_id=brand.pk,
            target=BudgetTarget.BRAND,
            target_id=None,
            effective_on=date(2026, 6, 10),
            daily_budget="50",
            monthly_budget=None,
            at=NOON,
            actor="a",
        )
    assert "past for this brand (today is 2026-06-11" in str(raised.value)
    today, _ = budget_change_create(
        brand_id=brand.pk,
        target=BudgetTarget.BRAND,
        target_id=None,
        effective_on=date(2026, 6, 11),
        daily_budget="50",
        monthly_budget=None,
        at=NOON,
        actor="a",
    )
    future, _ = budget_change_create(
        brand_id=brand.pk,
        target=BudgetTarget.BRAND,
        target_id=None,
        effective_on=date(2026, 7, 1),
        daily_budget="60",
        monthly_budget=None,
        at=NOON,
        actor="a",
    )
    budget_change_update(change_id=future.pk, changes={"daily_budget": "70"}, at=NOON, actor="a")
    future.refresh_from_db()
    assert str(future.daily_budget) == "70.00"
    with pytest.raises(ValidationError, match="history"):
        budget_change_delete(change_id=today.pk, at=NOON, actor="a")
    with pytest.raises(ValidationError, match="exists already"):
        budget_change_create(
            brand_id=brand.pk,
            target=BudgetTarget.BRAND,
            target_id=None,
            effective_on=date(2026, 7, 1),
            daily_budget="60",
            monthly_budget=None,
            at=NOON,
            actor="a",
        )
    budget_change_delete(change_id=future.pk, at=NOON, actor="a")
    assert list(BudgetChange.objects.values_list("pk", flat=True)) == [today.pk]


@pytest.mark.parametrize(
    ("daily", "monthly", "words"),
    [("0", None, "above zero"), ("1.234", None, "at most 2 decimals"), (None, None, "or both")],
)
def test_bad_budget_changes_are_refused(daily: str | None, monthly: str | None, words: str) -> None:
    brand = make_brand()
    with pytest.raises(ValidationError, match=words):
        budget_change_create(
            brand_id=brand.pk,
            target=BudgetTarget.BRAND,
            target_id=None,
            effective_on=date(2026, 7, 1),
            daily_budget=daily,
            monthly_budget=monthly,
            at=NOON,
            actor="a",
        )
    assert not BudgetChange.objects.exists()


def test_another_brands_campaign_cannot_be_a_target() -> None:
    brand, other = make_brand(), make_brand()
    foreign = make_campaign(other, name="Hidden")
    with pytest.raises(ValidationError) as raised:
        budget_change_create(
            brand_id=brand.pk,
            target=BudgetTarget.CAMPAIGN,
            target_id=foreign.pk,
            effective_on=date(2026, 7, 1),
            daily_budget="5",
            monthly_budget=None,
            at=NOON,
            actor="a",
        )
    assert "Hidden" not in str(raised.value)


def test_editing_a_stored_budget_the_calendar_overrides_becomes_todays_entry() -> None:
    from ads.services.budgets import BudgetChange as Change
    from ads.services.budgets import Budgets, brands_budgets_change
    from ads.services.campaigns import brand_save

    brand = make_brand(daily="100", monthly="1000")
    campaign = make_campaign(brand)
    budget_change_create(
        brand_id=brand.pk,
        target=BudgetTarget.BRAND,
        target_id=None,
        effective_on=date(2026, 6, 10),
        daily_budget="50",
        monthly_budget=None,
        at=NOON,
        actor="planner",
    )
    spend(campaign, "60", at=NOON)
    assert state(campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)  # 50 in force
    # Staff raise the daily budget on the brand itself: what they typed applies.
    brand.refresh_from_db()
    brand.daily_budget = Decimal("80")
    brand_save(brand=brand, at=NOON, actor="alice")
    assert state(campaign) == RUNNING
    today = BudgetChange.objects.get(brand=brand, effective_on=date(2026, 6, 10))
    assert str(today.daily_budget) == "80.00" and today.monthly_budget is None
    # The bulk action too; the monthly budget, which no change sets, stays stored only.
    brands_budgets_change(
        brand_ids=[brand.pk],
        budgets=Budgets.DAILY,
        change=Change.SET,
        amount=Decimal("55"),
        at=NOON,
        actor="alice",
    )
    assert state(campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)
    assert BudgetChange.objects.filter(brand=brand).count() == 1
    today.refresh_from_db()
    assert str(today.daily_budget) == "55.00" and today.monthly_budget is None
