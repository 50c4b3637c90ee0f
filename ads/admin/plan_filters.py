"""Campaign list filters by flight and by shared budget. Their choices are the flights and
shared budgets of the brands the user may see (``visible_brands``), and what they filter is
the list's own, already brand-scoped, queryset."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ads.admin.access import visible_brands
from ads.models import Flight, SharedBudget

NONE = "none"


def _chosen_id(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


class FlightFilter(admin.SimpleListFilter):
    title = "flight"
    parameter_name = "flight"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        flights = Flight.objects.filter(brand__in=visible_brands(request)).select_related("brand")
        return [(NONE, "In no flight")] + [
            (
                str(flight.pk),
                f"{flight.brand.name} · {flight.name} ({flight.starts_on:%Y-%m-%d} to "
                f"{flight.ends_on:%Y-%m-%d})",
            )
            for flight in flights.order_by("brand__name", "-starts_on", "name")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == NONE:
            return queryset.filter(flight_memberships__isnull=True)
        chosen = _chosen_id(self.value())
        if chosen is None:
            return queryset
        # (flight, campaign) is unique: one row per campaign, no duplicates to remove.
        return queryset.filter(flight_memberships__flight_id=chosen)


class SharedBudgetFilter(admin.SimpleListFilter):
    title = "shared budget"
    parameter_name = "shared_budget"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        shared = SharedBudget.objects.filter(brand__in=visible_brands(request)).select_related(
            "brand"
        )
        return [(NONE, "In no shared budget")] + [
            (str(pot.pk), f"{pot.brand.name} · {pot.name}")
            for pot in shared.order_by("brand__name", "name")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == NONE:
            return queryset.filter(shared_budget__isnull=True)
        chosen = _chosen_id(self.value())
        if chosen is None:
            return queryset
        return queryset.filter(shared_budget_id=chosen)


class BrandFilter(admin.SimpleListFilter):
    """By brand, offering only the user's brands (the related-field filter would list
    every brand's name)."""

    title = "brand"
    parameter_name = "brand"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(brand.pk), brand.name) for brand in visible_brands(request).order_by("name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        chosen = _chosen_id(self.value())
        return queryset if chosen is None else queryset.filter(brand_id=chosen)
