"""The budget calendar: from a brand-local date on, a brand, campaign or shared budget has
these budgets. Future changes are planned, changed and deleted through
``ads.services.budget_calendar``; those in force since today or before are history, shown
read only, and an attempt to change or delete one is refused saying why."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped, visible_brands
from ads.admin.common import actor, report
from ads.admin.display import local_time, money_cell, request_now
from ads.admin.plan_filters import BrandFilter
from ads.admin.plan_forms import ServiceForm
from ads.core.periods import local_date
from ads.models import BudgetChange, BudgetTarget
from ads.services.budget_calendar import (
    budget_change_create,
    budget_change_delete,
    budget_change_update,
)
from ads.services.rule import Transition


def brand_today(change: BudgetChange, request: HttpRequest) -> date:
    return local_date(request_now(request), change.brand.timezone)


def history_message(change: BudgetChange, today: date, verb: str) -> str:
    return (
        f"This budget change took effect on {change.effective_on} (today is {today} in "
        f"{change.brand.timezone}): it is history and cannot be {verb}. Plan a new change "
        "from a later date instead."
    )


class WhenFilter(admin.SimpleListFilter):
    """Upcoming or in force: against each brand's own today."""

    title = "when"
    parameter_name = "when"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("upcoming", "Upcoming"), ("history", "In force or past (history)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() not in ("upcoming", "history"):
            return queryset
        at = request_now(request)
        zones = set(visible_brands(request).values_list("timezone", flat=True).distinct())
        upcoming = Q(pk__in=[])
        for zone_name in zones:
            upcoming |= Q(brand__timezone=zone_name, effective_on__gt=local_date(at, zone_name))
        return (
            queryset.filter(upcoming) if self.value() == "upcoming" else queryset.exclude(upcoming)
        )


class BudgetChangeForm(ServiceForm):
    class Meta:
        model = BudgetChange
        fields = [
            "brand",
            "target",
            "campaign",
            "shared_budget",
            "effective_on",
            "daily_budget",
            "monthly_budget",
        ]
        help_texts = {
            "effective_on": "Brand-local date the budgets apply from: today (applies at once) "
            "or later.",
            "daily_budget": "Empty: the daily budget in force stays.",
            "monthly_budget": "Empty: the monthly budget in force stays.",
        }

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.instance.pk is not None:
            return cleaned
        brand = self.cleaned_data.get("brand")
        target = self.cleaned_data.get("target")
        campaign = self.cleaned_data.get("campaign")
        shared = self.cleaned_data.get("shared_budget")
        if target == BudgetTarget.CAMPAIGN and campaign is None:
            self.add_error("campaign", "Choose the campaign whose budgets change.")
        if target == BudgetTarget.SHARED_BUDGET and shared is None:
            self.add_error("shared_budget", "Choose the shared budget whose budgets change.")
        if target != BudgetTarget.CAMPAIGN and campaign is not None:
            self.add_error("campaign", "Only a change of a campaign's budgets names a campaign.")
        if target != BudgetTarget.SHARED_BUDGET and shared is not None:
            self.add_error("shared_budget", "Only a change of a shared budget names one.")
        for field, chosen in (("campaign", campaign), ("shared_budget", shared)):
            if brand is not None and chosen is not None and chosen.brand_id != brand.pk:
                self.add_error(field, f"{chosen.name} is not of {brand.name}.")
        return cleaned

    def apply(self) -> tuple[Model, list[Transition]]:
        data = self.cleaned_data
        if self.instance.pk is None:
            target = data["target"]
            owner = data.get("campaign") if target == BudgetTarget.CAMPAIGN else None
            if target == BudgetTarget.SHARED_BUDGET:
                owner = data.get("shared_budget")
            return budget_change_create(
                brand_id=data["brand"].pk,
                target=target,
                target_id=owner.pk if owner is not None else None,
                effective_on=data["effective_on"],
                daily_budget=data.get("daily_budget"),
                monthly_budget=data.get("monthly_budget"),
                at=self.request_at,
                actor=self.request_actor,
            )
        return budget_change_update(
            change_id=self.instance.pk,
            changes={
                "effective_on": data["effective_on"],
                "daily_budget": data.get("daily_budget"),
                "monthly_budget": data.get("monthly_budget"),
            },
            at=self.request_at,
            actor=self.request_actor,
        )


@admin.register(BudgetChange)
class BudgetChangeAdmin(BrandScoped, admin.ModelAdmin[BudgetChange]):
    form = BudgetChangeForm
    list_display = [
        "effective_from",
        "brand",
        "what",
        "daily",
        "monthly",
        "when_state",
        "planned_by",
        "planned_at",
    ]
    list_filter = [BrandFilter, WhenFilter, "target"]
    list_select_related = ["brand", "campaign", "shared_budget"]
    search_fields = ["brand__name", "campaign__name", "shared_budget__name", "created_by"]
    date_hierarchy = "effective_on"
    ordering = ["effective_on", "brand__name", "id"]
    autocomplete_fields = ["brand", "campaign", "shared_budget"]
    readonly_fields = [
        "what",
        "when_state",
        "planned_by",
        "planned_at",
        "effective_from",
        "daily",
        "monthly",
    ]
    add_fields = ["brand", "target", "campaign", "shared_budget"]
    budget_fields = ["effective_on", "daily_budget", "monthly_budget"]
    history_fields = ["effective_from", "daily", "monthly"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": self.add_fields + self.budget_fields})]
        # History is shown as the lists show it (amounts with their currency, ISO dates),
        # not as disabled inputs.
        budgets = self.budget_fields if self._is_future(request, obj) else self.history_fields
        return [
            (None, {"fields": ["brand", "what", *budgets]}),
            ("Planned", {"fields": ["when_state", "planned_by", "planned_at"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is None else [*self.readonly_fields, "brand"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        base = super().get_form(request, obj, change, **kwargs)
        return type(base)(  # type: ignore[misc]  # the ModelForm metaclass, as Django's factory
            "BudgetChangeFormFor",
            (base,),
            {"request_actor": actor(request), "request_at": timezone.now()},
        )

    def _is_future(self, request: HttpRequest, obj: BudgetChange | None) -> bool:
        return obj is None or obj.effective_on > brand_today(obj, request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._is_future(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._is_future(request, obj)

    def _refused(
        self, request: HttpRequest, object_id: str, verb: str
    ) -> HttpResponseRedirect | None:
        """A change in force since today or before: said so, instead of a bare 403."""
        obj = self.get_object(request, object_id)
        if obj is None or self._is_future(request, obj):
            return None
        self.message_user(
            request,
            history_message(obj, brand_today(obj, request), verb),
            messages.ERROR if request.method == "POST" or verb == "deleted" else messages.WARNING,
        )
        if request.method == "POST" or verb == "deleted":
            return HttpResponseRedirect(reverse("admin:ads_budgetchange_change", args=[obj.pk]))
        return None

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        refused = self._refused(request, object_id, "changed")
        if refused is not None:
            return refused
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        refused = self._refused(request, object_id, "deleted")
        if refused is not None:
            return refused
        return super().delete_view(request, object_id, extra_context)

    @admin.display(description="From (brand-local)", ordering="effective_on")
    def effective_from(self, obj: BudgetChange) -> str:
        return obj.effective_on.isoformat()

    @admin.display(description="Planned by", ordering="created_by")
    def planned_by(self, obj: BudgetChange) -> str:
        return obj.created_by

    @admin.display(description="Budgets of", ordering="target")
    def what(self, obj: BudgetChange) -> str:
        if obj.target == BudgetTarget.CAMPAIGN and obj.campaign is not None:
            return f"Campaign {obj.campaign.name}"
        if obj.target == BudgetTarget.SHARED_BUDGET and obj.shared_budget is not None:
            return f"Shared budget {obj.shared_budget.name}"
        return "The brand"

    @admin.display(description="Daily budget", ordering="daily_budget")
    def daily(self, obj: BudgetChange) -> SafeString | str:
        if obj.daily_budget is None:
            return "unchanged"
        return money_cell(obj.daily_budget, obj.brand.currency)

    @admin.display(description="Monthly budget", ordering="monthly_budget")
    def monthly(self, obj: BudgetChange) -> SafeString | str:
        if obj.monthly_budget is None:
            return "unchanged"
        return money_cell(obj.monthly_budget, obj.brand.currency)

    @admin.display(description="State")
    def when_state(self, obj: BudgetChange) -> str:
        today = local_date(timezone.now(), obj.brand.timezone)
        if obj.effective_on > today:
            days = (obj.effective_on - today).days
            return f"Upcoming (in {days} day{'' if days == 1 else 's'})"
        return "In force since today" if obj.effective_on == today else "History"

    @admin.display(description="Planned at (brand-local)", ordering="created_at")
    def planned_at(self, obj: BudgetChange) -> str:
        return local_time(obj.created_at, obj.brand.timezone)

    def save_model(self, request: HttpRequest, obj: BudgetChange, form: Any, change: bool) -> None:
        # Saved by the service in the form's validation (ads/admin/plan_forms.py).
        report(request, self, len(form.transitions))

    def delete_model(self, request: HttpRequest, obj: BudgetChange) -> None:
        moved = budget_change_delete(change_id=obj.pk, at=timezone.now(), actor=actor(request))
        report(request, self, len(moved))

    def get_actions(self, request: HttpRequest) -> Any:
        # "Delete selected" would meet history among the selection half-way through: one
        # change at a time, each on its page, refused in words when it is history.
        found = super().get_actions(request)
        found.pop("delete_selected", None)
        return found
