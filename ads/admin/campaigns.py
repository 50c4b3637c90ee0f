"""Campaigns: their state, why, until when, and their spend against caps and budgets."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped
from ads.admin.brands import period_cell
from ads.admin.bulk import bulk_actions
from ads.admin.common import actor, report
from ads.admin.corrections import correction_link, correction_view
from ads.admin.display import badge, bar, local_time, request_now
from ads.admin.forms import budgets_in_currency, move_unique_errors, positive
from ads.admin.history import history_table
from ads.admin.plan_filters import FlightFilter, SharedBudgetFilter
from ads.models import Campaign, CampaignStatus, DaypartWindow, PauseReason, Weekday
from ads.services.campaigns import (
    campaign_change_check,
    campaign_save,
    campaign_shared_budget_check,
)
from ads.services.selectors.budgets import brand_budget_report
from ads.services.selectors.console import (
    CampaignFigures,
    Resumption,
    campaign_figures,
    windows_by_schedule,
)
from ads.services.selectors.explain import BudgetLine, campaign_explain


class CampaignForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Campaign
        fields = [
            "brand",
            "name",
            "external_id",
            "enabled",
            "schedule",
            "daily_budget",
            "monthly_budget",
            "shared_budget",
        ]

    def clean_daily_budget(self) -> Decimal | None:
        return positive(self.cleaned_data.get("daily_budget"), "daily cap")

    def clean_monthly_budget(self) -> Decimal | None:
        return positive(self.cleaned_data.get("monthly_budget"), "monthly cap")

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        brand = self.cleaned_data.get("brand")
        if brand is not None:
            campaign_change_check(campaign_id=self.instance.pk, brand_id=brand.pk)
            budgets_in_currency(self, brand.currency, ("daily_budget", "monthly_budget"))
            shared = self.cleaned_data.get("shared_budget")
            stored = (
                None
                if self.instance.pk is None
                else Campaign.objects.values_list("shared_budget_id", flat=True).get(
                    pk=self.instance.pk
                )
            )
            candidate = Campaign(brand=brand, shared_budget=shared)
            campaign_shared_budget_check(candidate, stored)
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # ModelForm's, absent from the stubs
        brand = self.cleaned_data.get("brand")
        move_unique_errors(
            self,
            {
                ("brand", "name"): ("name", f"{brand} already has a campaign with this name."),
                ("brand", "external_id"): (
                    "external_id",
                    f"{brand} already has a campaign with this platform id.",
                ),
            },
        )


def _line_label(line: BudgetLine) -> str:
    """What a budget line of the campaign's page is: its own cap, its shared budget or its
    flight (the brand's lines are shown with the brand's bars)."""
    period = "today" if line.period == "day" else "this month"
    if line.scope == "shared_budget":
        return f"Shared budget {line.name!s}, {period}: "
    if line.scope == "flight":
        return f"Flight {line.name!s} ({line.period_start} to {line.period_end}): "
    return f"Own cap, {period}: "


class ChangedFilter(admin.SimpleListFilter):
    title = "state changed"
    parameter_name = "changed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("hour", "In the last hour"), ("day", "In the last 24 hours")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        hours = {"hour": 1, "day": 24}.get(self.value() or "")
        if hours is None:
            return queryset
        return queryset.filter(status_changed_at__gt=request_now(request) - timedelta(hours=hours))


class CampaignChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        figures = campaign_figures(list(self.result_list), at=request_now(request))
        for campaign in self.result_list:
            campaign.figures = figures[campaign.pk]


def _figures(campaign: Campaign) -> CampaignFigures | None:
    return getattr(campaign, "figures", None)


def resumes_text(resumes: Resumption | None, tz_name: str) -> SafeString | str:
    if resumes is None:
        return "—"
    if resumes.at is None:
        return resumes.because
    return format_html(
        '{}<br><small title="{}">{}</small>',
        local_time(resumes.at, tz_name),
        resumes.because,
        resumes.because,
    )


def status_badge(campaign: Campaign) -> SafeString:
    if campaign.status == CampaignStatus.RUNNING:
        return badge("running", "Running")
    reason = PauseReason(campaign.pause_reason).label if campaign.pause_reason else ""
    return format_html("{} {}", badge("paused", "Paused"), reason)


def windows_text(windows: list[DaypartWindow], tz_name: str) -> SafeString | str:
    if not windows:
        return "No windows: it never runs."
    by_day: dict[int, list[str]] = {}
    for window in sorted(windows, key=lambda w: (w.weekday, w.start_time)):
        by_day.setdefault(window.weekday, []).append(
            f"{window.start_time:%H:%M}-{window.end_time:%H:%M}"
        )
    return format_html(
        '<table class="windows">{}</table><small>Brand-local wall-clock times ({}); a window '
        "ending at or before its start ends the next day.</small>",
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td></tr>",
            [(Weekday(day).label, ", ".join(spans)) for day, spans in by_day.items()],
        ),
        tz_name,
    )


@admin.register(Campaign)
class CampaignAdmin(BrandScoped, admin.ModelAdmin[Campaign]):
    form = CampaignForm
    list_display = [
        "name",
        "brand",
        "state",
        "resumes_at",
        "today",
        "this_month",
        "schedule",
        "enabled",
    ]
    list_filter = [
        "status",
        "pause_reason",
        ChangedFilter,
        "enabled",
        "schedule",
        FlightFilter,
        SharedBudgetFilter,
    ]
    list_select_related = ["brand", "schedule"]
    search_fields = ["name", "external_id", "brand__name"]
    readonly_fields = [
        "state",
        "resumes_at",
        "status_since",
        "own_budgets",
        "brand_budgets",
        "windows",
        "correct",
        "history",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "brand",
                    "name",
                    "external_id",
                    "enabled",
                    "schedule",
                    "daily_budget",
                    "monthly_budget",
                    "shared_budget",
                ]
            },
        ),
        ("State (set by the engine)", {"fields": ["state", "resumes_at", "status_since"]}),
        (
            "Spend (brand-local periods)",
            {"fields": ["own_budgets", "brand_budgets", "correct", "windows"]},
        ),
        ("History", {"fields": ["history"], "classes": ["wide"]}),
    ]
    autocomplete_fields = ["brand"]
    actions = bulk_actions()

    def get_urls(self) -> list[URLPattern]:
        correct = path(
            "<path:object_id>/correct-spend/",
            self.admin_site.admin_view(partial(correction_view, self)),
            name="ads_campaign_correct_spend",
        )
        return [correct, *super().get_urls()]

    @admin.display(description="Spend correction")
    def correct(self, obj: Campaign) -> SafeString:
        return correction_link(obj)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CampaignChangeList

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fieldsets if obj is not None else self.fieldsets[:1]

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        campaign = super().get_object(request, object_id, from_field)
        if campaign is not None:
            at = request_now(request)
            # Attached for the read-only fields below, which receive only the object.
            setattr(campaign, "explained", campaign_explain(campaign_id=campaign.pk, at=at))
            setattr(
                campaign, "brand_report", brand_budget_report(brand_id=campaign.brand_id, at=at)
            )
            window_list = (
                windows_by_schedule({campaign.schedule_id})[campaign.schedule_id]
                if campaign.schedule_id
                else None
            )
            setattr(campaign, "window_list", window_list)
            setattr(campaign, "figures", campaign_figures([campaign], at=at)[campaign.pk])
        return campaign

    @admin.display(description="Status", ordering="pause_reason")
    def state(self, obj: Campaign) -> SafeString:
        return status_badge(obj)

    @admin.display(description="Resumes at (brand-local)")
    def resumes_at(self, obj: Campaign) -> SafeString | str:
        found = _figures(obj)
        return "—" if found is None else resumes_text(found.resumes, obj.brand.timezone)

    @admin.display(description="Since")
    def status_since(self, obj: Campaign) -> str:
        return local_time(obj.status_changed_at, obj.brand.timezone)

    @admin.display(description="Today vs cap")
    def today(self, obj: Campaign) -> SafeString | str:
        found = _figures(obj)
        if found is None:
            return "—"
        return bar(found.day_spend, obj.daily_budget, obj.brand.currency)

    @admin.display(description="Month vs cap")
    def this_month(self, obj: Campaign) -> SafeString | str:
        found = _figures(obj)
        if found is None:
            return "—"
        return bar(found.month_spend, obj.monthly_budget, obj.brand.currency)

    @admin.display(description="Its own caps, shared budget and flight")
    def own_budgets(self, obj: Campaign) -> SafeString | str:
        explained = getattr(obj, "explained", None)
        if explained is None:
            return "—"
        lines = [line for line in explained.budgets if line.scope != "brand"]
        if not lines and explained.flight is None:
            return "No caps of its own: only the brand's budgets apply."
        rows = [
            (_line_label(line), bar(line.spend, line.budget, obj.brand.currency)) for line in lines
        ]
        if explained.flight is not None and explained.flight.current_id is None:
            dates = "; ".join(
                f"{name} ({first} to {last})" for name, first, last in explained.flight.flights
            )
            rows.append(("Outside its flights' dates: ", format_html("{}", dates)))
        return format_html_join("", "<div>{}{}</div>", [(label, cell) for label, cell in rows])

    @admin.display(description="Its brand's budgets")
    def brand_budgets(self, obj: Campaign) -> SafeString | str:
        found = getattr(obj, "brand_report", None)
        if found is None:
            return "—"
        return format_html(
            "<div>Today: {}</div><div>This month: {}</div><small>{}: {}</small>",
            period_cell(found.day, obj.brand.currency),
            period_cell(found.month, obj.brand.currency),
            obj.brand.name,
            local_time(found.local_time, obj.brand.timezone),
        )

    @admin.display(description="Schedule windows")
    def windows(self, obj: Campaign) -> SafeString | str:
        found = getattr(obj, "window_list", None)
        if obj.schedule_id is None or found is None:
            return "No schedule: may run at any time."
        return windows_text(found, obj.brand.timezone)

    @admin.display(description="Transitions and staff edits")
    def history(self, obj: Campaign) -> SafeString:
        return history_table(obj)

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        transitions = campaign_save(campaign=obj, at=timezone.now(), actor=actor(request))
        report(request, self, len(transitions))
