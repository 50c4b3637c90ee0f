"""Shared budgets: created, changed and deleted by staff or the management API, and
campaigns joining or leaving one, each enforced at once. A campaign is in at most one: one
already in another is refused, never moved silently. The shared budget's day and month
totals are rebuilt from its campaigns' totals whenever its campaigns change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ads.models import Brand, BudgetTarget, Campaign, ConfigAction, SharedBudget, Trigger
from ads.services.budget_calendar import stored_budget_edited
from ads.services.config_audit import snapshot
from ads.services.locks import brands_lock_for_change
from ads.services.plan_checks import (
    brand_campaigns,
    brand_enforce,
    plan_budgets,
    plan_name,
    plan_record,
)
from ads.services.plan_totals import shared_totals_rebuild
from ads.services.reconcile import log_transitions
from ads.services.rule import Transition

FIELDS = ("name", "daily_budget", "monthly_budget")
CHANGEABLE = frozenset(FIELDS) | {"campaign_ids"}


def _state(shared: SharedBudget) -> dict[str, Any]:
    values = snapshot(shared, FIELDS)
    values["campaigns"] = sorted(shared.campaigns.values_list("id", flat=True))
    return values


def _members_check(shared_id: int | None, campaigns: Sequence[Campaign]) -> None:
    for campaign in campaigns:
        if campaign.shared_budget_id is not None and campaign.shared_budget_id != shared_id:
            other = SharedBudget.objects.get(pk=campaign.shared_budget_id)
            raise ValidationError(
                {
                    "campaigns": f"Campaign {campaign.name!r} is already in shared budget "
                    f"{other.name!r}: remove it there first (a campaign shares at most one)."
                }
            )


def _members_set(shared: SharedBudget, ids: Sequence[int], at: datetime) -> None:
    shared.campaigns.exclude(id__in=ids).update(shared_budget=None, updated_at=at)
    Campaign.objects.filter(id__in=ids, shared_budget__isnull=True).update(
        shared_budget=shared, updated_at=at
    )


def _save(shared: SharedBudget) -> None:
    try:
        with transaction.atomic():
            shared.save()
    except IntegrityError:
        raise ValidationError(
            {"name": f"This brand already has a shared budget named {shared.name!r}."}
        ) from None


def shared_budget_create(
    *,
    brand_id: int,
    name: str,
    daily_budget: object,
    monthly_budget: object,
    campaign_ids: Sequence[int],
    at: datetime,
    actor: str,
) -> tuple[SharedBudget, list[Transition]]:
    """A new shared budget for some of the brand's campaigns, enforced at once."""
    with transaction.atomic():
        brands_lock_for_change([brand_id], at)
        brand = Brand.objects.get(pk=brand_id)
        daily, monthly = plan_budgets(brand, daily_budget, monthly_budget)
        shared = SharedBudget(
            brand=brand,
            name=plan_name(name, "shared budget"),
            daily_budget=daily,
            monthly_budget=monthly,
        )
        campaigns = brand_campaigns(brand_id, campaign_ids, "campaigns")
        _members_check(None, campaigns)
        _save(shared)
        _members_set(shared, [campaign.pk for campaign in campaigns], at)
        shared_totals_rebuild([shared.pk])
        plan_record(
            shared,
            shared.brand_id,
            "shared_budget",
            ConfigAction.CREATED,
            None,
            _state(shared),
            at,
            actor,
        )
        transitions = brand_enforce(brand_id, at, actor)
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return shared, transitions


def shared_budget_update(
    *, shared_budget_id: int, changes: Mapping[str, Any], at: datetime, actor: str
) -> tuple[SharedBudget, list[Transition]]:
    """Change a shared budget's name, budgets and/or campaigns (``campaign_ids`` replaces
    the set), enforced at once."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed."})
    brand_id = SharedBudget.objects.values_list("brand_id", flat=True).get(pk=shared_budget_id)
    with transaction.atomic():
        brands_lock_for_change([brand_id], at)
        shared = SharedBudget.objects.select_related("brand").get(pk=shared_budget_id)
        before = _state(shared)
        if "name" in changes:
            shared.name = plan_name(changes["name"], "shared budget")
        shared.daily_budget, shared.monthly_budget = plan_budgets(
            shared.brand,
            changes.get("daily_budget", shared.daily_budget),
            changes.get("monthly_budget", shared.monthly_budget),
        )
        if "campaign_ids" in changes:
            campaigns = brand_campaigns(brand_id, changes["campaign_ids"], "campaigns")
            _members_check(shared.pk, campaigns)
            ids = [campaign.pk for campaign in campaigns]
        else:
            ids = before["campaigns"]
        _save(shared)
        stored_budget_edited(
            brand=shared.brand,
            target=BudgetTarget.SHARED_BUDGET,
            owner_id=shared.pk,
            daily=(before["daily_budget"], shared.daily_budget),
            monthly=(before["monthly_budget"], shared.monthly_budget),
            at=at,
            actor=actor,
        )
        _members_set(shared, ids, at)
        shared_totals_rebuild([shared.pk])
        plan_record(
            shared,
            shared.brand_id,
            "shared_budget",
            ConfigAction.CHANGED,
            before,
            _state(shared),
            at,
            actor,
        )
        transitions = brand_enforce(brand_id, at, actor)
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return shared, transitions


def shared_budget_delete(*, shared_budget_id: int, at: datetime, actor: str) -> list[Transition]:
    """Delete a shared budget; its campaigns leave it (and run on their other budgets)."""
    brand_id = SharedBudget.objects.values_list("brand_id", flat=True).get(pk=shared_budget_id)
    with transaction.atomic():
        brands_lock_for_change([brand_id], at)
        shared = SharedBudget.objects.get(pk=shared_budget_id)
        plan_record(
            shared,
            shared.brand_id,
            "shared_budget",
            ConfigAction.DELETED,
            _state(shared),
            None,
            at,
            actor,
        )
        _members_set(shared, [], at)
        shared.delete()
        transitions = brand_enforce(brand_id, at, actor)
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return transitions


def campaign_shared_budget_set(
    *, campaign_id: int, shared_budget_id: int | None, at: datetime, actor: str
) -> list[Transition]:
    """A campaign joins a shared budget of its brand (or leaves its own, with None). One
    already in another shared budget is refused, never moved silently. Safe to run twice."""
    brand_id = Campaign.objects.values_list("brand_id", flat=True).get(pk=campaign_id)
    with transaction.atomic():
        brands_lock_for_change([brand_id], at)
        campaign = Campaign.objects.get(pk=campaign_id)
        current = campaign.shared_budget_id
        if current == shared_budget_id:
            return []
        if shared_budget_id is not None:
            target = SharedBudget.objects.filter(pk=shared_budget_id, brand_id=brand_id).first()
            if target is None:
                raise ValidationError(
                    {"shared_budget": f"No shared budget of this brand has id {shared_budget_id}."}
                )
            if current is not None:
                other = SharedBudget.objects.get(pk=current)
                raise ValidationError(
                    {
                        "shared_budget": f"Campaign {campaign.name!r} is already in shared "
                        f"budget {other.name!r}: remove it there first (a campaign shares at "
                        "most one)."
                    }
                )
        Campaign.objects.filter(pk=campaign_id).update(
            shared_budget_id=shared_budget_id, updated_at=at
        )
        shared_totals_rebuild([value for value in (current, shared_budget_id) if value])
        plan_record(
            campaign,
            brand_id,
            "campaign",
            ConfigAction.CHANGED,
            {"shared_budget": current},
            {"shared_budget": shared_budget_id},
            at,
            actor,
        )
        transitions = brand_enforce(brand_id, at, actor)
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return transitions
