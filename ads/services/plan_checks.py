"""What the planning services (flights, shared budgets, the calendar) share: the campaigns
named belong to the brand, a name and a planned budget are acceptable, the brand-local today
a change is judged against, and enforcing and auditing a change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from ads.core.currency import budget_problem
from ads.core.money import MoneyError, parse_money
from ads.core.periods import local_date
from ads.models import Brand, Campaign, ConfigAction, Trigger
from ads.services.config_audit import config_change_record
from ads.services.reconcile import reconcile_locked
from ads.services.rule import Scope, Transition


def brand_campaigns(brand_id: int, campaign_ids: Sequence[int], field: str) -> list[Campaign]:
    """The brand's campaigns with these ids, or ValidationError on ``field`` naming the ids
    that are not the brand's (another brand's campaign is not named: it is not known here)."""
    ids = sorted(set(campaign_ids))
    found = list(Campaign.objects.filter(brand_id=brand_id, id__in=ids).order_by("id"))
    missing = sorted(set(ids) - {campaign.pk for campaign in found})
    if missing:
        listed = ", ".join(str(value) for value in missing)
        raise ValidationError({field: f"No campaign of this brand has id {listed}."})
    return found


def planned_budget(value: object, brand: Brand, field: str, *, required: bool) -> Decimal | None:
    """A budget as staff or a planning tool gave it, checked: exact, above zero and with no
    more decimals than the brand's currency has."""
    if value is None or value == "":
        if required:
            raise ValidationError({field: "This budget is required."})
        return None
    try:
        amount = parse_money(value)
    except MoneyError as exc:
        raise ValidationError({field: str(exc)}) from None
    problem = budget_problem(amount, brand.currency)
    if problem is not None:
        raise ValidationError({field: f"The budget {problem}."})
    return amount


def brand_today(brand: Brand, at: datetime) -> date:
    return local_date(at, brand.timezone)


def monthly_not_below_daily(daily: Decimal | None, monthly: Decimal | None) -> None:
    if daily is not None and monthly is not None and monthly < daily:
        raise ValidationError(
            {"monthly_budget": "The monthly budget cannot be below the daily budget."}
        )


def plan_name(value: object, what: str) -> str:
    name = str(value or "").strip()
    if not name:
        raise ValidationError({"name": f"Give the {what} a name."})
    if len(name) > 200:
        raise ValidationError({"name": "A name has at most 200 characters."})
    return name


def plan_budgets(brand: Brand, daily: object, monthly: object) -> tuple[Decimal | None, ...]:
    """An optional daily and an optional monthly budget, at least one, monthly not below
    daily."""
    day = planned_budget(daily, brand, "daily_budget", required=False)
    month = planned_budget(monthly, brand, "monthly_budget", required=False)
    if day is None and month is None:
        raise ValidationError({"daily_budget": "Give a daily budget, a monthly budget or both."})
    monthly_not_below_daily(day, month)
    return day, month


def brand_enforce(brand_id: int, at: datetime, actor: str) -> list[Transition]:
    """Reconcile the brand after a change of its plans (its locks held by the caller)."""
    return reconcile_locked(
        at=at, trigger=Trigger.SETUP, actor=actor, scope=Scope(brand_ids=(brand_id,))
    )


def plan_record(
    obj: models.Model,
    brand_id: int,
    object_type: str,
    action: ConfigAction,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime,
    actor: str,
) -> None:
    config_change_record(
        brand_id=brand_id,
        obj=obj,
        object_type=object_type,
        action=action,
        before=before,
        after=after,
        actor=actor,
        at=at,
    )
