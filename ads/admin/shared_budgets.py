"""Shared budgets: one daily and/or monthly pot several campaigns of a brand draw on. Saved
and deleted through ``ads.services.shared_budgets``, enforced at once."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped, brand_filter
from ads.admin.common import actor, report
from ads.admin.display import bar, money_cell, request_now
from ads.admin.plan_filters import BrandFilter
from ads.admin.plan_forms import CampaignSetForm, campaigns_field
from ads.models import Campaign, SharedBudget
from ads.services.rule import Transition
from ads.services.selectors.plans import SharedBudgetReport, shared_budget_report
from ads.services.shared_budgets import (
    shared_budget_create,
    shared_budget_delete,
    shared_budget_update,
)


def shared_figures(found: SharedBudgetReport, currency: str) -> SafeString:
    """Today's and this month's spend of its campaigns against the budgets in force, as the
    brand's bars; a budget it does not have says so."""
    return format_html(
        "<div>Today: {}</div><div>This month: {}</div>",
        bar(found.day_spend, found.daily_budget, currency),
        bar(found.month_spend, found.monthly_budget, currency),
    )


class SharedBudgetForm(CampaignSetForm):
    class Meta:
        model = SharedBudget
        fields = ["brand", "name", "daily_budget", "monthly_budget"]
        help_texts = {
            "daily_budget": "Spend of its campaigns per brand-local day. Empty: none.",
            "monthly_budget": "Spend of its campaigns per brand-local month. Empty: none.",
        }

    def apply(self) -> tuple[Model, list[Transition]]:
        data = self.cleaned_data
        ids = self.member_ids()
        if self.instance.pk is None:
            return shared_budget_create(
                brand_id=data["brand"].pk,
                name=data["name"],
                daily_budget=data.get("daily_budget"),
                monthly_budget=data.get("monthly_budget"),
                campaign_ids=ids,
                at=self.request_at,
                actor=self.request_actor,
            )
        changes = {
            "name": data["name"],
            "daily_budget": data.get("daily_budget"),
            "monthly_budget": data.get("monthly_budget"),
            "campaign_ids": ids,
        }
        return shared_budget_update(
            shared_budget_id=self.instance.pk,
            changes=changes,
            at=self.request_at,
            actor=self.request_actor,
        )


@admin.register(SharedBudget)
class SharedBudgetAdmin(BrandScoped, admin.ModelAdmin[SharedBudget]):
    form = SharedBudgetForm
    list_display = ["name", "brand", "daily", "monthly", "campaign_count"]
    list_filter = [BrandFilter]
    list_select_related = ["brand"]
    search_fields = ["name", "brand__name"]
    autocomplete_fields = ["brand"]
    fieldsets = [
        (None, {"fields": ["brand", "name", "daily_budget", "monthly_budget", "campaigns"]}),
        ("Where it stands (brand-local)", {"fields": ["figures"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SharedBudget]:
        queryset: QuerySet[SharedBudget] = super().get_queryset(request)
        # Explicit order: Meta.ordering does not apply to a query with an aggregate.
        return queryset.annotate(campaign_total=Count("campaigns")).order_by("brand__name", "name")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        campaigns = brand_filter(Campaign.objects.select_related("brand"), request, "brand")
        if obj is not None:
            campaigns = campaigns.filter(brand_id=obj.brand_id)
        kwargs["fields"] = ["name", "daily_budget", "monthly_budget"] + (
            [] if obj is not None else ["brand"]
        )
        base = super().get_form(request, obj, change, **kwargs)
        field = campaigns_field(
            campaigns,
            "Its campaigns (each shares at most one budget): their spend counts toward it, "
            "and all of them pause when it is reached.",
            self.admin_site,
        )
        return type(base)(  # type: ignore[misc]  # the ModelForm metaclass, as Django's factory
            "SharedBudgetFormFor",
            (base,),
            {"campaigns": field, "request_actor": actor(request), "request_at": timezone.now()},
        )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fieldsets if obj is not None else self.fieldsets[:1]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["brand", "figures"] if obj is not None else ["figures"]

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        shared = super().get_object(request, object_id, from_field)
        found = shared_budget_report(shared_budget_id=shared.pk, at=request_now(request))
        setattr(shared, "report", found)
        return shared

    @admin.display(description="Daily budget", ordering="daily_budget")
    def daily(self, obj: SharedBudget) -> SafeString:
        return money_cell(obj.daily_budget, obj.brand.currency)

    @admin.display(description="Monthly budget", ordering="monthly_budget")
    def monthly(self, obj: SharedBudget) -> SafeString:
        return money_cell(obj.monthly_budget, obj.brand.currency)

    @admin.display(description="Campaigns", ordering="campaign_total")
    def campaign_count(self, obj: SharedBudget) -> int:
        return int(getattr(obj, "campaign_total", 0) or 0)

    @admin.display(description="Spend against the budgets in force")
    def figures(self, obj: SharedBudget) -> SafeString | str:
        found = getattr(obj, "report", None)
        if found is None:
            return "—"
        names = Campaign.objects.filter(pk__in=found.campaign_ids).order_by("name")
        return format_html(
            "{}<div><small>Campaigns: {}</small></div>",
            shared_figures(found, obj.brand.currency),
            format_html_join(", ", "{}", ((c.name,) for c in names)) or "none",
        )

    def save_model(self, request: HttpRequest, obj: SharedBudget, form: Any, change: bool) -> None:
        # Saved by the service in the form's validation (ads/admin/plan_forms.py).
        report(request, self, len(form.transitions))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Its campaigns were set by the service with the rest."""

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, perms_needed, _protected = super().get_deleted_objects(objs, request)
        # Its campaigns protect it only from a plain delete: the service makes them leave
        # first (they keep running on their other budgets), so nothing is in the way.
        return deleted, counts, perms_needed, []

    def delete_model(self, request: HttpRequest, obj: SharedBudget) -> None:
        moved = shared_budget_delete(
            shared_budget_id=obj.pk, at=timezone.now(), actor=actor(request)
        )
        report(request, self, len(moved))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SharedBudget]) -> None:
        at, moved = timezone.now(), 0
        with transaction.atomic():
            for shared_id in queryset.order_by("pk").values_list("pk", flat=True):
                moved += len(
                    shared_budget_delete(shared_budget_id=shared_id, at=at, actor=actor(request))
                )
        report(request, self, moved)
