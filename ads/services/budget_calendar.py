"""The budget calendar: budget changes planned ahead for a brand, a campaign or a shared
budget. A change effective today applies at once (with its transitions); future ones can be
changed or deleted; past ones (and today's, which already applied) are history. The engine
reads the calendar itself (``ads.services.rule_plans``): nothing has to run at midnight for
a change to take effect."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ads.models import (
    Brand,
    BudgetChange,
    BudgetTarget,
    Campaign,
    ConfigAction,
    SharedBudget,
    Trigger,
)
from ads.services.config_audit import snapshot
from ads.services.locks import brands_lock_for_change
from ads.services.plan_checks import brand_enforce, brand_today, plan_budgets, plan_record
from ads.services.reconcile import log_transitions
from ads.services.rule import Transition

FIELDS = ("target", "campaign", "shared_budget", "effective_on", "daily_budget", "monthly_budget")
CHANGEABLE = frozenset({"effective_on", "daily_budget", "monthly_budget"})


def _effective_on(value: object, brand: Brand, at: datetime) -> date:
    if not isinstance(value, date):
        raise ValidationError({"effective_on": "Give a date (YYYY-MM-DD)."})
    today = brand_today(brand, at)
    if value < today:
        raise ValidationError(
            {
                "effective_on": f"{value} is in the past for this brand (today is {today} in "
                f"{brand.timezone}): past budget changes are history and cannot be planned."
            }
        )
    return value


def _save(change: BudgetChange) -> None:
    try:
        with transaction.atomic():
            change.save()
    except IntegrityError:
        raise ValidationError(
            {
                "effective_on": f"A budget change for {change.target_label()} from "
                f"{change.effective_on} exists already: change that one instead."
            }
        ) from None


def budget_change_create(
    *,
    brand_id: int,
    target: BudgetTarget | str,
    target_id: int | None,
    effective_on: date,
    daily_budget: object,
    monthly_budget: object,
    at: datetime,
    actor: str,
) -> tuple[BudgetChange, list[Transition]]:
    """Plan: from ``effective_on`` (brand-local) the target has these budgets. Today or
    later; one change per target and date."""
    if target not in BudgetTarget.values:
        raise ValidationError({"target": "The target is the brand, a campaign or a shared budget."})
    with transaction.atomic():
        brands_lock_for_change([brand_id], at)
        brand = Brand.objects.get(pk=brand_id)
        day, month = plan_budgets(brand, daily_budget, monthly_budget)
        change = BudgetChange(
            brand=brand,
            target=target,
            effective_on=_effective_on(effective_on, brand, at),
            daily_budget=day,
            monthly_budget=month,
            created_by=actor,
            created_at=at,
            updated_at=at,
        )
        if target != BudgetTarget.BRAND and target_id is None:
            raise ValidationError({"target": f"Name the {target.replace('_', ' ')} by its id."})
        if target == BudgetTarget.CAMPAIGN:
            assert target_id is not None
            change.campaign = Campaign.objects.filter(pk=target_id, brand_id=brand_id).first()
            if change.campaign is None:
                raise ValidationError({"target": f"No campaign of this brand has id {target_id}."})
        elif target == BudgetTarget.SHARED_BUDGET:
            assert target_id is not None
            change.shared_budget = SharedBudget.objects.filter(
                pk=target_id, brand_id=brand_id
            ).first()
            if change.shared_budget is None:
                raise ValidationError(
                    {"target": f"No shared budget of this brand has id {target_id}."}
                )
        _save(change)
        plan_record(
            change,
            change.brand_id,
            "budget_change",
            ConfigAction.CREATED,
            None,
            snapshot(change, FIELDS),
            at,
            actor,
        )
        transitions = brand_enforce(change.brand_id, at, actor)
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return change, transitions


def _future(change: BudgetChange, at: datetime, verb: str) -> None:
    today = brand_today(change.brand, at)
    if change.effective_on <= today:
        raise ValidationError(
            {
                "effective_on": f"This change took effect on {change.effective_on} (today is "
                f"{today} in {change.brand.timezone}): it is history and cannot be {verb}. "
                "Plan a new change instead."
            }
        )


def budget_change_update(
    *, change_id: int, changes: Mapping[str, Any], at: datetime, actor: str
) -> tuple[BudgetChange, list[Transition]]:
    """Change a future budget change's date or budgets."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed."})
    brand_id = BudgetChange.objects.values_list("brand_id", flat=True).get(pk=change_id)
    with transaction.atomic():
        brands_lock_for_change([brand_id], at)
        change = BudgetChange.objects.select_related("brand").get(pk=change_id)
        _future(change, at, "changed")
        before = snapshot(change, FIELDS)
        if "effective_on" in changes:
            change.effective_on = _effective_on(changes["effective_on"], change.brand, at)
        change.daily_budget, change.monthly_budget = plan_budgets(
            change.brand,
            changes.get("daily_budget", change.daily_budget),
            changes.get("monthly_budget", change.monthly_budget),
        )
        change.updated_at = at
        _save(change)
        plan_record(
            change,
            change.brand_id,
            "budget_change",
            ConfigAction.CHANGED,
            before,
            snapshot(change, FIELDS),
            at,
            actor,
        )
        transitions = brand_enforce(change.brand_id, at, actor)
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return change, transitions


def budget_change_delete(*, change_id: int, at: datetime, actor: str) -> list[Transition]:
    """Delete a future budget change."""
    brand_id = BudgetChange.objects.values_list("brand_id", flat=True).get(pk=change_id)
    with transaction.atomic():
        brands_lock_for_change([brand_id], at)
        change = BudgetChange.objects.select_related("brand").get(pk=change_id)
        _future(change, at, "deleted")
        plan_record(
            change,
            change.brand_id,
            "budget_change",
            ConfigAction.DELETED,
            snapshot(change, FIELDS),
            None,
            at,
            actor,
        )
        change.delete()
        transitions = brand_enforce(change.brand_id, at, actor)
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return transitions


def stored_budget_edited(
    *,
    brand: Brand,
    target: BudgetTarget,
    owner_id: int,
    daily: tuple[Any, Any],
    monthly: tuple[Any, Any],
    at: datetime,
    actor: str,
) -> None:
    """Staff edited a stored budget (``daily`` and ``monthly``: before and after). Where the
    calendar already has a change of that budget in force, the stored value would no longer
    apply; the edit then becomes the calendar's entry from today, so what staff typed is
    what the engine uses. Amounts as Decimals or as the audit's decimal strings. Helper:
    inside the caller's transaction, brand locked."""
    today = brand_today(brand, at)
    changes = BudgetChange.objects.filter(brand=brand, target=target, effective_on__lte=today)
    if target == BudgetTarget.CAMPAIGN:
        changes = changes.filter(campaign_id=owner_id)
    elif target == BudgetTarget.SHARED_BUDGET:
        changes = changes.filter(shared_budget_id=owner_id)
    values: dict[str, Any] = {}
    for field, pair in (("daily_budget", daily), ("monthly_budget", monthly)):
        before, after = (None if value is None else Decimal(str(value)) for value in pair)
        overridden = changes.filter(**{f"{field}__isnull": False}).exists()
        if before != after and overridden and after is not None:
            values[field] = after
    if not values:
        return
    entry = changes.filter(effective_on=today).first()
    if entry is None:
        entry = BudgetChange(
            brand=brand,
            target=target,
            campaign_id=owner_id if target == BudgetTarget.CAMPAIGN else None,
            shared_budget_id=owner_id if target == BudgetTarget.SHARED_BUDGET else None,
            effective_on=today,
            created_by=actor,
            created_at=at,
        )
    before_entry = None if entry.pk is None else snapshot(entry, FIELDS)
    for field, value in values.items():
        setattr(entry, field, value)
    entry.updated_at = at
    entry.save()
    action = ConfigAction.CREATED if before_entry is None else ConfigAction.CHANGED
    plan_record(
        entry, brand.pk, "budget_change", action, before_entry, snapshot(entry, FIELDS), at, actor
    )
