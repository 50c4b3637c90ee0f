"""Staff changes to many brands' budgets at once, enforced at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import transaction

from ads.core.currency import budget_problem, minor_units
from ads.core.money import MAX_AMOUNT, QUANTUM
from ads.models import Brand
from ads.models import BudgetChange as CalendarChange  # this module's BudgetChange: set/raise
from ads.models import BudgetTarget, Trigger
from ads.services.budget_calendar import stored_budget_edited
from ads.services.locks import brands_lock
from ads.services.reconcile import log_transitions, reconcile_locked
from ads.services.rule import Scope, Transition


class BudgetChange(StrEnum):
    SET = "set"  # to the amount given
    RAISE_BY = "raise_by"  # by the amount given
    RAISE_PERCENT = "raise_percent"  # by the % given


class Budgets(StrEnum):
    DAILY = "daily"
    MONTHLY = "monthly"
    BOTH = "both"


@dataclass(frozen=True)
class BudgetsResult:
    brands: int
    transitions: list[Transition]


def _changed(value: Decimal, change: BudgetChange, amount: Decimal, currency: str) -> Decimal:
    if change == BudgetChange.SET:
        return amount
    if change == BudgetChange.RAISE_BY:
        return value + amount
    # A derived amount: rounded half-even to the currency's minor unit (a JPY budget raised
    # by 5.5 % stays whole yen), never finer than money precision (ads.core.money).
    quantum = max(QUANTUM, Decimal(1).scaleb(-minor_units(currency)))
    return (value * (100 + amount) / 100).quantize(quantum, rounding=ROUND_HALF_EVEN)


def brands_budgets_change(
    *,
    brand_ids: Sequence[int],
    budgets: Budgets,
    change: BudgetChange,
    amount: Decimal,
    at: datetime,
    actor: str,
) -> BudgetsResult:
    """Set or raise the daily and/or monthly budget of several brands, then enforce them at
    once (campaigns paused for a budget now above their spend resume). All or nothing: if
    one brand would break a rule (a budget not above zero, a monthly budget below the daily
    one), nothing changes and the error names it. Not safe to run twice for raises (each
    run raises again); safe for SET."""
    if change != BudgetChange.SET and amount <= 0:
        raise ValidationError("A raise must be greater than zero.")
    with transaction.atomic():
        ids = sorted(set(brand_ids))
        brands_lock(ids)
        brands = list(Brand.objects.filter(id__in=ids).order_by("id"))
        problems = []
        stored = {brand.pk: (brand.daily_budget, brand.monthly_budget) for brand in brands}
        for brand in brands:
            if budgets in (Budgets.DAILY, Budgets.BOTH):
                brand.daily_budget = _changed(brand.daily_budget, change, amount, brand.currency)
            if budgets in (Budgets.MONTHLY, Budgets.BOTH):
                brand.monthly_budget = _changed(
                    brand.monthly_budget, change, amount, brand.currency
                )
            decimals = [
                problem
                for value in (brand.daily_budget, brand.monthly_budget)
                if value > 0 and (problem := budget_problem(value, brand.currency))
            ]
            if not 0 < brand.daily_budget <= MAX_AMOUNT or brand.monthly_budget > MAX_AMOUNT:
                problems.append(f"{brand.name}: a budget would be zero, negative or too large")
            elif decimals:
                problems.append(f"{brand.name}: {decimals[0]}")
            elif brand.monthly_budget < brand.daily_budget:
                problems.append(
                    f"{brand.name}: the monthly budget ({brand.monthly_budget}) would be "
                    f"below the daily budget ({brand.daily_budget})"
                )
            brand.updated_at = at
        if problems:
            raise ValidationError(["Nothing was changed."] + problems)
        Brand.objects.bulk_update(
            brands, ["daily_budget", "monthly_budget", "updated_at"], batch_size=1000
        )
        # Only brands whose calendar has a brand budget change can have one in force.
        planned = set(
            CalendarChange.objects.filter(brand_id__in=ids, target=BudgetTarget.BRAND).values_list(
                "brand_id", flat=True
            )
        )
        for brand in (brand for brand in brands if brand.pk in planned):
            stored_budget_edited(
                brand=brand,
                target=BudgetTarget.BRAND,
                owner_id=brand.pk,
                daily=(stored[brand.pk][0], brand.daily_budget),
                monthly=(stored[brand.pk][1], brand.monthly_budget),
                at=at,
                actor=actor,
            )
        transitions = reconcile_locked(
            at=at, trigger=Trigger.STAFF, actor=actor, scope=Scope(brand_ids=tuple(ids))
        )
    log_transitions(transitions, at=at, trigger=Trigger.STAFF, actor=actor)
    return BudgetsResult(brands=len(brands), transitions=transitions)
