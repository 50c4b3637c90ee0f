"""Flights: a total budget over brand-local dates for some of a brand's campaigns. Saved and
deleted through ``ads.services.flights``, enforced at once."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped, brand_filter
from ads.admin.common import actor, report
from ads.admin.display import bar, money, money_cell, request_now
from ads.admin.media_plan import import_view
from ads.admin.plan_filters import BrandFilter
from ads.admin.plan_forms import CampaignSetForm, campaigns_field
from ads.models import Campaign, Flight
from ads.services.flights import flight_create, flight_delete, flight_update
from ads.services.rule import Transition
from ads.services.selectors.plans import FlightReport, flight_report

PACE_WORDS = {
    "not started": "Not started yet",
    "on pace": "On pace",
    "ahead": "Ahead of pace: heading over its budget",
    "behind": "Behind pace: heading below its budget",
    "ended": "Ended",
}


def flight_figures(found: FlightReport, currency: str) -> SafeString:
    """Spent against the budget as a bar, then days left, the projection and the pace."""
    return format_html(
        "{}<br><small>{} · {} day{} left · projected {} · {}</small>",
        bar(found.spend, found.flight.budget, currency),
        (
            f"left {money(found.remaining, currency)}"
            if found.remaining >= 0
            else f"over by {money(-found.remaining, currency)}"
        ),
        found.days_left,
        "" if found.days_left == 1 else "s",
        money(found.projected, currency),
        PACE_WORDS.get(found.pace, found.pace),
    )


class FlightForm(CampaignSetForm):
    # "members", not "campaigns": the admin refuses a many-to-many with its own through
    # model in a form, though the service sets it.
    error_fields = {"campaigns": "members", "campaign_ids": "members"}
    members_field = "members"

    class Meta:
        model = Flight
        fields = ["brand", "name", "starts_on", "ends_on", "budget"]
        help_texts = {
            "starts_on": "Brand-local date: its campaigns may run from this day's midnight.",
            "ends_on": "Brand-local date, inclusive: they pause after this day.",
        }

    def apply(self) -> tuple[Model, list[Transition]]:
        data = self.cleaned_data
        ids = self.member_ids()
        if self.instance.pk is None:
            return flight_create(
                brand_id=data["brand"].pk,
                name=data["name"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                budget=data["budget"],
                campaign_ids=ids,
                at=self.request_at,
                actor=self.request_actor,
            )
        changes = {
            "name": data["name"],
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "budget": data["budget"],
            "campaign_ids": ids,
        }
        return flight_update(
            flight_id=self.instance.pk,
            changes=changes,
            at=self.request_at,
            actor=self.request_actor,
        )


@admin.register(Flight)
class FlightAdmin(BrandScoped, admin.ModelAdmin[Flight]):
    form = FlightForm
    list_display = ["name", "brand", "dates", "budget_shown", "campaign_count"]
    list_filter = [BrandFilter]
    list_select_related = ["brand"]
    search_fields = ["name", "brand__name"]
    date_hierarchy = "starts_on"
    autocomplete_fields = ["brand"]
    fieldsets = [
        (None, {"fields": ["brand", "name", "starts_on", "ends_on", "budget", "members"]}),
        ("Where it stands (brand-local)", {"fields": ["figures"]}),
    ]

    def get_urls(self) -> list[URLPattern]:
        upload = path(
            "import-plan/",
            self.admin_site.admin_view(partial(import_view, self)),
            name="ads_flight_import_plan",
        )
        return [upload, *super().get_urls()]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Flight]:
        queryset: QuerySet[Flight] = super().get_queryset(request)
        # Explicit order: Meta.ordering does not apply to a query with an aggregate.
        return queryset.annotate(campaign_total=Count("memberships")).order_by(
            "brand__name", "starts_on", "name"
        )

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        campaigns = brand_filter(Campaign.objects.select_related("brand"), request, "brand")
        if obj is not None:
            campaigns = campaigns.filter(brand_id=obj.brand_id)
        kwargs["fields"] = ["name", "starts_on", "ends_on", "budget"] + (
            [] if obj is not None else ["brand"]
        )
        base = super().get_form(request, obj, change, **kwargs)
        field = campaigns_field(
            campaigns,
            "Its campaigns: they run only on the dates of one of their flights, whose dates "
            "never overlap.",
            self.admin_site,
        )
        return type(base)(  # type: ignore[misc]  # the ModelForm metaclass, as Django's factory
            "FlightFormFor",
            (base,),
            {"members": field, "request_actor": actor(request), "request_at": timezone.now()},
        )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fieldsets if obj is not None else self.fieldsets[:1]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A flight stays with its brand: its spend and campaigns are that brand's.
        return ["brand", "figures"] if obj is not None else ["figures"]

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        flight = super().get_object(request, object_id, from_field)
        setattr(flight, "report", flight_report(flight_id=flight.pk, at=request_now(request)))
        return flight

    @admin.display(description="Dates (brand-local)", ordering="starts_on")
    def dates(self, obj: Flight) -> str:
        return f"{obj.starts_on} to {obj.ends_on} ({obj.days()} days)"

    @admin.display(description="Budget", ordering="budget")
    def budget_shown(self, obj: Flight) -> SafeString:
        return money_cell(obj.budget, obj.brand.currency)

    @admin.display(description="Campaigns", ordering="campaign_total")
    def campaign_count(self, obj: Flight) -> int:
        return int(getattr(obj, "campaign_total", 0) or 0)

    @admin.display(description="Spent, days left, pace")
    def figures(self, obj: Flight) -> SafeString | str:
        found = getattr(obj, "report", None)
        if found is None:
            return "—"
        names = Campaign.objects.filter(pk__in=found.campaign_ids).order_by("name")
        return format_html(
            "{}<div><small>Campaigns: {}</small></div>",
            flight_figures(found, obj.brand.currency),
            format_html_join(", ", "{}", ((c.name,) for c in names)) or "none",
        )

    def save_model(self, request: HttpRequest, obj: Flight, form: Any, change: bool) -> None:
        # Saved by the service in the form's validation (ads/admin/plan_forms.py).
        report(request, self, len(form.transitions))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Its campaigns were set by the service with the rest."""

    def delete_model(self, request: HttpRequest, obj: Flight) -> None:
        moved = flight_delete(flight_id=obj.pk, at=timezone.now(), actor=actor(request))
        report(request, self, len(moved))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Flight]) -> None:
        at, moved = timezone.now(), 0
        with transaction.atomic():
            for flight_id in queryset.order_by("pk").values_list("pk", flat=True):
                moved += len(flight_delete(flight_id=flight_id, at=at, actor=actor(request)))
        report(request, self, moved)
