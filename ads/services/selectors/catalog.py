"""What the management API lists and shows: brands and their campaigns, as stored (their
figures come from ``budgets``, ``explain`` and ``plans``)."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import QuerySet

from ads.models import Brand, BudgetChange, Campaign, DaypartSchedule, SharedBudget


def brands_visible(*, brand_ids: Collection[int] | None) -> QuerySet[Brand]:
    """The brands, or those of ``brand_ids`` (None: every brand), by name."""
    brands = Brand.objects.order_by("name", "id")
    return brands if brand_ids is None else brands.filter(pk__in=brand_ids)


def brand_get(*, brand_id: int) -> Brand | None:
    return Brand.objects.filter(pk=brand_id).first()


def campaigns_of_brand(*, brand_id: int) -> QuerySet[Campaign]:
    """A brand's campaigns with their schedule and shared budget, by id: one query."""
    return (
        Campaign.objects.filter(brand_id=brand_id)
        .select_related("schedule", "shared_budget")
        .order_by("id")
    )


def campaign_get(*, campaign_id: int) -> Campaign | None:
    return (
        Campaign.objects.select_related("brand", "schedule", "shared_budget")
        .filter(pk=campaign_id)
        .first()
    )


def schedule_get(*, schedule_id: int) -> DaypartSchedule | None:
    return DaypartSchedule.objects.filter(pk=schedule_id).first()


def shared_budget_brand(*, shared_budget_id: int) -> int | None:
    """The brand of a shared budget, or None if there is none with that id."""
    return (
        SharedBudget.objects.filter(pk=shared_budget_id).values_list("brand_id", flat=True).first()
    )


def budget_changes_of_brand(*, brand_id: int) -> QuerySet[BudgetChange]:
    """The brand's budget calendar, past and future, by date."""
    return BudgetChange.objects.filter(brand_id=brand_id).order_by("effective_on", "id")


def budget_change_get(*, change_id: int) -> BudgetChange | None:
    return BudgetChange.objects.select_related("brand").filter(pk=change_id).first()
