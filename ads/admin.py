"""The staff's console. Every save and action goes through a service, so it is enforced at
once and never writes the engine's fields (status, pause reason)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from ads.models import (
    ApiToken,
    Brand,
    BrandPeriodSpend,
    Campaign,
    CampaignPeriodSpend,
    CampaignStatusChange,
    DaypartSchedule,
    DaypartWindow,
    ReportedDailyTotal,
    SpendEvent,
)
from ads.services.campaigns import (
    brand_change_check,
    brand_save,
    campaign_change_check,
    campaign_save,
    campaigns_set_enabled,
    schedule_changed,
    schedule_windows_validate,
)
from ads.services.tokens import token_create, tokens_revoke


def _actor(request: HttpRequest) -> str:
    return request.user.get_username() or "staff"


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Ledger, totals and audit: visible to staff, written only by the engine."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BrandForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Brand
        fields = ["name", "timezone", "currency", "daily_budget", "monthly_budget"]

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        timezone_name = self.cleaned_data.get("timezone")
        if timezone_name is not None:
            brand_change_check(brand_id=self.instance.pk, timezone=timezone_name)
        return cleaned


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin[Brand]):
    form = BrandForm
    list_display = [
        "name",
        "timezone",
        "currency",
        "daily_budget",
        "monthly_budget",
        "campaign_count",
    ]
    list_filter = ["timezone", "currency"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Brand]:
        return super().get_queryset(request).annotate(campaign_total=Count("campaigns"))

    @admin.display(description="Campaigns", ordering="campaign_total")
    def campaign_count(self, obj: Brand) -> int:
        return int(getattr(obj, "campaign_total", 0))

    def save_model(self, request: HttpRequest, obj: Brand, form: Any, change: bool) -> None:
        transitions = brand_save(brand=obj, at=timezone.now(), actor=_actor(request))
        _report(request, self, len(transitions))


def _report(request: HttpRequest, model_admin: admin.ModelAdmin[Any], moved: int) -> None:
    if moved:
        model_admin.message_user(
            request, f"Enforced at once: {moved} campaign(s) changed state.", messages.INFO
        )


class StatusChangeInline(admin.TabularInline[CampaignStatusChange, Campaign]):
    model = CampaignStatusChange
    fields = ("at", "from_status", "from_reason", "to_status", "reason", "trigger", "actor")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-at", "-id"]
    verbose_name_plural = "Status history"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
        ]

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        brand = self.cleaned_data.get("brand")
        if brand is not None:
            campaign_change_check(campaign_id=self.instance.pk, brand_id=brand.pk)
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin[Campaign]):
    form = CampaignForm
    list_display = [
        "name",
        "brand",
        "status",
        "pause_reason",
        "enabled",
        "schedule",
        "daily_budget",
        "monthly_budget",
        "status_changed_at",
    ]
    list_filter = ["status", "pause_reason", "enabled", "brand", "schedule"]
    list_select_related = ["brand", "schedule"]
    search_fields = ["name", "external_id", "brand__name"]
    readonly_fields = ["status", "pause_reason", "status_changed_at"]
    fields = [
        "brand",
        "name",
        "external_id",
        "enabled",
        "schedule",
        "daily_budget",
        "monthly_budget",
        "status",
        "pause_reason",
        "status_changed_at",
    ]
    autocomplete_fields = ["brand"]
    inlines = [StatusChangeInline]
    actions = ["pause_campaigns", "resume_campaigns"]

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        transitions = campaign_save(campaign=obj, at=timezone.now(), actor=_actor(request))
        _report(request, self, len(transitions))

    @admin.action(description="Pause selected campaigns (manual)")
    def pause_campaigns(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._set_enabled(request, queryset, enabled=False)

    @admin.action(description="Resume selected campaigns (if budgets and schedule allow)")
    def resume_campaigns(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._set_enabled(request, queryset, enabled=True)

    def _set_enabled(
        self, request: HttpRequest, queryset: QuerySet[Campaign], *, enabled: bool
    ) -> None:
        ids = list(queryset.values_list("id", flat=True))
        transitions = campaigns_set_enabled(
            campaign_ids=ids, enabled=enabled, at=timezone.now(), actor=_actor(request)
        )
        running = sum(1 for t in transitions if t.kind == "resumed")
        still_paused = Campaign.objects.filter(id__in=ids, status="paused").count()
        self.message_user(
            request,
            f"{len(ids)} campaign(s) {'resumed' if enabled else 'paused'} by staff; "
            f"{running} now running, {still_paused} paused.",
            messages.SUCCESS,
        )


class WindowFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return  # incomplete windows cannot be compared; their own errors are shown
        windows = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        schedule_windows_validate(windows)


class DaypartWindowInline(admin.TabularInline[DaypartWindow, DaypartSchedule]):
    model = DaypartWindow
    formset = WindowFormSet
    extra = 1


@admin.register(DaypartSchedule)
class DaypartScheduleAdmin(admin.ModelAdmin[DaypartSchedule]):
    list_display = ["name", "window_count", "campaign_count"]
    search_fields = ["name"]
    inlines = [DaypartWindowInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DaypartSchedule]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                window_total=Count("windows", distinct=True),
                campaign_total=Count("campaigns", distinct=True),
            )
        )

    @admin.display(description="Windows", ordering="window_total")
    def window_count(self, obj: DaypartSchedule) -> int:
        return int(getattr(obj, "window_total", 0))

    @admin.display(description="Campaigns", ordering="campaign_total")
    def campaign_count(self, obj: DaypartSchedule) -> int:
        return int(getattr(obj, "campaign_total", 0))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        transitions = schedule_changed(
            schedule=form.instance, at=timezone.now(), actor=_actor(request)
        )
        _report(request, self, len(transitions))


@admin.register(SpendEvent)
class SpendEventAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "campaign",
        "amount",
        "local_date",
        "source",
        "external_id",
        "recorded_at",
    ]
    list_filter = ["source", "local_date"]
    list_select_related = ["campaign__brand"]
    search_fields = ["external_id", "campaign__name", "campaign__brand__name"]
    date_hierarchy = "occurred_at"


@admin.register(CampaignStatusChange)
class CampaignStatusChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "campaign",
        "from_status",
        "from_reason",
        "to_status",
        "reason",
        "trigger",
        "actor",
    ]
    list_filter = ["trigger", "to_status", "reason"]
    list_select_related = ["campaign__brand"]
    search_fields = ["campaign__name", "campaign__brand__name", "actor"]
    date_hierarchy = "at"


@admin.register(CampaignPeriodSpend)
class CampaignPeriodSpendAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "period", "period_start", "amount"]
    list_filter = ["period", "period_start"]
    list_select_related = ["campaign__brand"]
    search_fields = ["campaign__name", "campaign__brand__name"]


@admin.register(BrandPeriodSpend)
class BrandPeriodSpendAdmin(ReadOnlyAdmin):
    list_display = ["brand", "period", "period_start", "amount"]
    list_filter = ["period", "period_start"]
    list_select_related = ["brand"]
    search_fields = ["brand__name"]


@admin.register(ReportedDailyTotal)
class ReportedDailyTotalAdmin(ReadOnlyAdmin):
    list_display = ["day", "campaign", "source", "total", "reported_at", "recorded_at"]
    list_filter = ["source", "day"]
    list_select_related = ["campaign__brand"]
    search_fields = ["campaign__name", "campaign__brand__name", "source"]


class ApiTokenForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ApiToken
        fields = ["name", "brands", "expires_at"]
        help_texts = {
            "brands": "The brands this token may write to. Empty: every brand (superusers only)."
        }

    by_superuser = False  # set per request by ApiTokenAdmin.get_form

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if not self.cleaned_data.get("brands") and not self.by_superuser:
            self.add_error(
                "brands",
                "Choose at least one brand; only superusers can create a " "token for every brand.",
            )
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Create (the secret is shown once, on the page after saving) and revoke tokens."""

    list_display = ["name", "prefix", "scope", "state", "created_by", "created_at", "last_used_at"]
    list_filter = ["all_brands", "revoked_at"]
    search_fields = ["name", "prefix"]
    filter_horizontal = ["brands"]
    actions = ["revoke"]
    readonly_fields = [
        "prefix",
        "all_brands",
        "brands",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "brands", "expires_at")
        return ("name", *self.readonly_fields)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return type(
                "ApiTokenAddForm", (ApiTokenForm,), {"by_superuser": request.user.is_superuser}
            )
        return form

    @admin.display(description="May write to")
    def scope(self, obj: ApiToken) -> str:
        return "every brand" if obj.all_brands else ", ".join(b.name for b in obj.brands.all())

    @admin.display(description="State")
    def state(self, obj: ApiToken) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        return "active" if obj.is_usable(timezone.now()) else "expired"

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        token, secret = token_create(
            name=form.cleaned_data["name"],
            brand_ids=[brand.pk for brand in form.cleaned_data["brands"]],
            by_superuser=request.user.is_superuser,
            at=timezone.now(),
            created_by_id=request.user.pk,
            expires_at=form.cleaned_data["expires_at"],
        )
        obj.pk = token.pk
        # Kept on the request only, for the page shown right after this save.
        request._created_token_secret = secret  # type: ignore[attr-defined]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)  # brands were set by the service

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        token = ApiToken.objects.get(pk=obj.pk)
        return TemplateResponse(
            request,
            "admin/ads/apitoken/created.html",
            {
                **self.admin_site.each_context(request),
                "token": token,
                "brands": [brand.name for brand in token.brands.all()],
                "secret": getattr(request, "_created_token_secret"),
                "changelist_url": reverse("admin:ads_apitoken_changelist"),
                "title": "API token created",
            },
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = tokens_revoke(
            token_ids=list(queryset.values_list("id", flat=True)), at=timezone.now()
        )
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)


import ads.admin_platforms  # noqa: E402,F401  (ad platforms' pages; issue 11)
from ads import admin_operations  # noqa: E402,F401  (JobRun, alerts: ads/admin_operations.py)
