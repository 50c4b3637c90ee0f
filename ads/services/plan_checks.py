"""Checks the planning services share: the campaigns named belong to the brand, a planned
budget suits the brand's currency, and the brand-local today a change is judged against."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError

from ads.core.currency import budget_problem
from ads.core.money import MoneyError, parse_money
from ads.core.periods import local_date
from ads.models import Brand, Campaign


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
