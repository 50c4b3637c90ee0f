"""Brands: where each stands against its budgets, today and this month, brand-local."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped
from ads.admin.brand_budgets import change_budgets
from ads.admin.brand_plans import (
    BrandPlan,
    brand_plan,
    flights_table,
    plan_links,
    shared_table,
    upcoming_table,
)
from ads.admin.common import actor, report
from ads.admin.display import FULL, WARN, bar, local_time, money, request_now
from ads.admin.forms import TimezoneInput, budgets_in_currency, positive
from ads.admin.media_plan import export_view
from ads.admin.pacing_chart import pacing_charts
from ads.admin.spend_sources import sources_table
from ads.models import Brand, Campaign, SpendEvent
from ads.services.campaigns import brand_change_check, brand_save
from ads.services.selectors.budgets import (
    BrandBudgetReport,
    PeriodBudget,
    brand_report_of,
    brands_with_spend,
)
from ads.services.selectors.pacing import flight_series, month_series


class BrandForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Brand
        fields = ["name", "timezone", "currency", "daily_budget", "monthly_budget"]
        widgets = {"timezone": TimezoneInput}

    def clean_daily_budget(self) -> Decimal | None:
        return positive(self.cleaned_data.get("daily_budget"), "daily budget")

    def clean_monthly_budget(self) -> Decimal | None:
        return positive(self.cleaned_data.get("monthly_budget"), "monthly budget")

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        timezone_name = self.cleaned_data.get("timezone")
        if timezone_name is not None:
            brand_change_check(brand_id=self.instance.pk, timezone=timezone_name)
        currency = self.cleaned_data.get("currency") or self.instance.currency
        if currency:
            budgets_in_currency(self, currency, ("daily_budget", "monthly_budget"))
        return cleaned


class BudgetUseFilter(admin.SimpleListFilter):
    title = "budget used"
    parameter_name = "budget_used"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("warn", f"At or above {WARN} % of a budget"), ("full", f"At {FULL} % (paused)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "warn":
            return queryset.filter(top_pct__gte=WARN)
        if self.value() == "full":
            return queryset.filter(top_pct__gte=FULL)
        return queryset


class BrandChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        at = request_now(request)
        for brand in self.result_list:
            brand.budget_report = brand_report_of(brand, at=at)


def _report_of(brand: Brand) -> BrandBudgetReport | None:
    return getattr(brand, "budget_report", None)


def _plan_of(brand: Brand) -> BrandPlan | None:
    return getattr(brand, "plan", None)


def period_cell(period: PeriodBudget, currency: str) -> SafeString:
    """A budget period in one cell: the bar, then what is left and the projection."""
    projected = "—" if period.projected is None else money(period.projected, currency)
    return format_html(
        "{}<br><small>left {} · projected {}</small>",
        bar(period.spend, period.budget, currency),
        money(period.remaining, currency),
        projected,
    )


@admin.register(Brand)
class BrandAdmin(BrandScoped, admin.ModelAdmin[Brand]):
    form = BrandForm
    brand_path = ""
    list_display = ["name", "local_now", "today", "this_month", "campaign_count"]
    list_filter = [BudgetUseFilter, "currency"]
    search_fields = ["name"]
    actions = [change_budgets]
    readonly_fields = [
        "local_now",
        "today",
        "this_month",
        "timezone_fixed",
        "flights",
        "shared_budgets",
        "upcoming_changes",
        "media_plan",
        "spend_sources",
        "pacing",
    ]
    fieldsets = [
        (None, {"fields": ["name", "timezone", "currency", "daily_budget", "monthly_budget"]}),
        ("Where it stands (brand-local)", {"fields": ["local_now", "today", "this_month"]}),
        ("Pacing", {"fields": ["pacing"]}),
        (
            "Its plan",
            {"fields": ["flights", "shared_budgets", "upcoming_changes", "media_plan"]},
        ),
        ("How late its spend arrives", {"fields": ["spend_sources"]}),
    ]

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "<path:object_id>/export-plan/",
            self.admin_site.admin_view(partial(export_view, self)),
            name="ads_brand_export_plan",
        )
        return [export, *super().get_urls()]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Brand]:
        # A subquery, not a join and GROUP BY: only the rows on the page are counted.
        campaigns = (
            Campaign.objects.filter(brand_id=OuterRef("pk"))
            .order_by()
            .values("brand_id")
            .annotate(total=Count("*"))
            .values("total")
        )
        queryset = (
            super()
            .get_queryset(request)
            .annotate(campaign_total=Subquery(campaigns, output_field=IntegerField()))
        )
        return brands_with_spend(queryset, at=request_now(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A brand a staff member added would be outside their own access at once.
        return bool(request.user.is_superuser) and super().has_add_permission(request)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return BrandChangeList

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        brand = super().get_object(request, object_id, from_field)
        if brand is not None:
            setattr(brand, "budget_report", brand_report_of(brand, at=request_now(request)))
            has_spend = SpendEvent.objects.filter(campaign__brand_id=brand.pk).exists()
            setattr(brand, "has_spend", has_spend)
            setattr(brand, "plan", brand_plan(brand, at=request_now(request)))
            setattr(brand, "pacing_at", request_now(request))
        return brand

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.fieldsets[:1]
        if not getattr(obj, "has_spend", False):
            return self.fieldsets
        fields = [
            "timezone_fixed" if f == "timezone" else f for f in self.fieldsets[0][1]["fields"]
        ]
        return [(None, {"fields": fields}), *self.fieldsets[1:]]

    @admin.display(description="Timezone")
    def timezone_fixed(self, obj: Brand) -> SafeString:
        return format_html(
            '{}<div class="help">Fixed: the brand has recorded spend, which is kept by '
            "brand-local day and month; another zone would move it between days.</div>",
            obj.timezone,
        )

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        spent = Brand.objects.filter(
            pk__in=[brand.pk for brand in objs],
            campaigns__spend_events__isnull=False,
        ).distinct()
        reasons = [
            f"{brand.name}: has recorded spend. The spend ledger is never deleted (it is the "
            "record of what was spent), so this brand cannot be deleted; pause its campaigns "
            "instead."
            for brand in spent
        ]
        if reasons:
            # Said instead of "no permission to delete brand period spend": the totals
            # only exist because of the spend, and the spend is the reason.
            return deleted, counts, set(), [*reasons, *protected]
        return deleted, counts, perms_needed, protected

    @admin.display(description="Local time now")
    def local_now(self, obj: Brand) -> str:
        found = _report_of(obj)
        return "—" if found is None else local_time(found.local_time, obj.timezone)

    # The bar shows the % of the daily budget, so the column sorts by it (a column of its
    # own would repeat the figure).
    @admin.display(description="Today", ordering="-day_pct")
    def today(self, obj: Brand) -> SafeString | str:
        found = _report_of(obj)
        return "—" if found is None else period_cell(found.day, obj.currency)

    @admin.display(description="This month")
    def this_month(self, obj: Brand) -> SafeString | str:
        found = _report_of(obj)
        return "—" if found is None else period_cell(found.month, obj.currency)

    @admin.display(description="Flights")
    def flights(self, obj: Brand) -> SafeString | str:
        found = _plan_of(obj)
        return "—" if found is None else flights_table(found, obj)

    @admin.display(description="Shared budgets")
    def shared_budgets(self, obj: Brand) -> SafeString | str:
        found = _plan_of(obj)
        return "—" if found is None else shared_table(found, obj)

    @admin.display(description="Upcoming budget changes")
    def upcoming_changes(self, obj: Brand) -> SafeString | str:
        found = _plan_of(obj)
        return "—" if found is None else upcoming_table(found, obj)

    @admin.display(description="Media plan")
    def media_plan(self, obj: Brand) -> SafeString:
        return plan_links(obj)

    @admin.display(description="This month and running flights")
    def pacing(self, obj: Brand) -> SafeString | str:
        plan = _plan_of(obj)
        at = getattr(obj, "pacing_at", None)
        if plan is None or at is None:
            return "—"
        charts = [month_series(brand=obj, at=at)]
        charts += flight_series(brand=obj, reports=plan.flights, at=at)
        return pacing_charts(charts)

    @admin.display(description="Spend sources")
    def spend_sources(self, obj: Brand) -> SafeString | str:
        return sources_table(obj)

    @admin.display(description="Campaigns", ordering="campaign_total")
    def campaign_count(self, obj: Brand) -> int:
        return int(getattr(obj, "campaign_total", None) or 0)

    def save_model(self, request: HttpRequest, obj: Brand, form: Any, change: bool) -> None:
        transitions = brand_save(brand=obj, at=timezone.now(), actor=actor(request))
        report(request, self, len(transitions))
