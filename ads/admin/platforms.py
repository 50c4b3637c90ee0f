"""The staff console for ad platforms: accounts and their health, the outbox of pushes
(failed and stuck rows easy to find), and each campaign's state on its platform.

Registered from ads/admin.py (one import). Saves and actions go through the services in
ads/platforms/.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped
from ads.admin.common import ReadOnlyAdmin
from ads.models import (
    AccountHealth,
    AdAccount,
    DeliveryState,
    PlatformCampaign,
    PlatformDelivery,
)
from ads.platforms.outbox import deliveries_push
from ads.platforms.sync import platforms_sync
from ads.services.platform_links import campaign_platform_link
from ads.services.platform_queue import LEASE, deliveries_retry

_BADGE = '<span style="padding:1px 6px;border-radius:8px;background:{};color:#fff">{}</span>'
_COLOURS: dict[str, str] = {
    DeliveryState.DELIVERED: "#2e7d32",
    DeliveryState.PENDING: "#757575",
    DeliveryState.SENDING: "#1565c0",
    DeliveryState.FAILED: "#c62828",
    DeliveryState.SKIPPED: "#ef6c00",
    DeliveryState.SUPERSEDED: "#9e9e9e",
    AccountHealth.OK: "#2e7d32",
    AccountHealth.FAILING: "#c62828",
}


def _badge(value: str, label: str) -> SafeString:
    return format_html(_BADGE, _COLOURS.get(value, "#757575"), label)


def _actor(request: HttpRequest) -> str:
    return request.user.get_username() or "staff"


@admin.register(AdAccount)
class AdAccountAdmin(BrandScoped, admin.ModelAdmin[AdAccount]):
    list_display = [
        "name",
        "brand",
        "platform",
        "account_id",
        "enabled",
        "health_badge",
        "pending_count",
        "failed_count",
        "last_sync_at",
        "last_error",
    ]
    list_filter = ["platform", "health", "enabled", ("brand", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["brand"]
    search_fields = ["name", "account_id", "brand__name"]
    fields = [
        "brand",
        "name",
        "platform",
        "account_id",
        "enabled",
        "credentials_env",
        "health",
        "last_error",
        "last_error_at",
        "last_sync_at",
    ]
    readonly_fields = ["health", "last_error", "last_error_at", "last_sync_at"]
    autocomplete_fields = ["brand"]
    actions = ["push_now", "sync_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AdAccount]:
        accounts: QuerySet[AdAccount] = super().get_queryset(request)
        return accounts.annotate(
            pending=Count(
                "deliveries",
                filter=Q(deliveries__state__in=(DeliveryState.PENDING, DeliveryState.SENDING)),
            ),
            failed=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
        )

    @admin.display(description="Health", ordering="health")
    def health_badge(self, obj: AdAccount) -> SafeString:
        return _badge(obj.health, obj.get_health_display())

    @admin.display(description="Waiting pushes", ordering="pending")
    def pending_count(self, obj: AdAccount) -> int:
        return int(getattr(obj, "pending", 0))

    @admin.display(description="Failed pushes", ordering="failed")
    def failed_count(self, obj: AdAccount) -> int:
        return int(getattr(obj, "failed", 0))

    @admin.action(description="Push waiting status changes now")
    def push_now(self, request: HttpRequest, queryset: QuerySet[AdAccount]) -> None:
        for account in queryset:
            report = deliveries_push(at=timezone.now(), account_id=account.pk)
            self.message_user(
                request,
                f"{account}: {report.delivered} delivered, {report.retrying} to retry, "
                f"{report.failed} failed.",
                messages.ERROR if report.errors else messages.SUCCESS,
            )

    @admin.action(description="Sync spend and statuses now")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[AdAccount]) -> None:
        for account in queryset:
            report = platforms_sync(at=timezone.now(), account_id=account.pk)
            self.message_user(
                request,
                f"{account}: {report.totals} daily totals, {report.applied} restated, "
                f"{report.drift_repaired} drift repaired, {report.paused_elsewhere} paused "
                "elsewhere." + (f" Errors: {'; '.join(report.errors)}" if report.errors else ""),
                messages.ERROR if report.errors else messages.SUCCESS,
            )


class StuckFilter(admin.SimpleListFilter):
    title = "attention"
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("failed", "Failed"), ("stuck", f"Waiting longer than {LEASE}")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "failed":
            return queryset.filter(state=DeliveryState.FAILED)
        if self.value() == "stuck":
            return queryset.filter(
                state__in=(DeliveryState.PENDING, DeliveryState.SENDING),
                created_at__lt=timezone.now() - LEASE,
            )
        return queryset


@admin.register(PlatformDelivery)
class PlatformDeliveryAdmin(BrandScoped, ReadOnlyAdmin):
    """Written by the outbox only; staff retry failed rows with the action."""

    brand_path = "account__brand"
    list_display = [
        "id",
        "campaign",
        "account",
        "desired_status",
        "state_badge",
        "attempts",
        "created_at",
        "next_attempt_at",
        "finished_at",
        "last_error",
    ]
    list_filter = [
        StuckFilter,
        "state",
        "desired_status",
        ("account", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["campaign__brand", "account"]
    search_fields = ["campaign__name", "campaign__platform_campaign_id", "last_error"]
    actions = ["retry"]

    @admin.display(description="State", ordering="state")
    def state_badge(self, obj: PlatformDelivery) -> SafeString:
        return _badge(obj.state, obj.get_state_display())

    @admin.action(description="Retry selected failed pushes", permissions=["view"])
    def retry(self, request: HttpRequest, queryset: QuerySet[PlatformDelivery]) -> None:
        count = deliveries_retry(
            delivery_ids=list(queryset.values_list("id", flat=True)), at=timezone.now()
        )
        self.message_user(request, f"{count} failed push(es) queued again.", messages.SUCCESS)


class PlatformCampaignForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = PlatformCampaign
        fields = ["ad_account", "platform_campaign_id"]


@admin.register(PlatformCampaign)
class PlatformCampaignAdmin(BrandScoped, admin.ModelAdmin[PlatformCampaign]):
    """Per campaign: our status, the platform's, the last push and its error. Linking a
    campaign to an account happens here."""

    form = PlatformCampaignForm
    list_display = [
        "name",
        "brand",
        "ad_account",
        "platform_campaign_id",
        "status",
        "platform_status",
        "paused_elsewhere",
        "pushed_at",
        "drift_repairs",
        "last_error",
    ]
    # Related-only filters: a staff member's sidebar lists only their brands and accounts.
    list_filter = [
        ("ad_account", admin.RelatedOnlyFieldListFilter),
        "status",
        "platform_state__paused_elsewhere",
        ("brand", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["brand", "ad_account", "platform_state"]
    search_fields = ["name", "platform_campaign_id", "brand__name"]
    fields = ["name", "brand", "status", "ad_account", "platform_campaign_id"]
    readonly_fields = ["name", "brand", "status"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: PlatformCampaign, form: Any, change: bool
    ) -> None:
        campaign_platform_link(
            campaign_id=obj.pk,
            account=form.cleaned_data.get("ad_account"),
            platform_campaign_id=form.cleaned_data.get("platform_campaign_id"),
            at=timezone.now(),
        )

    def _state(self, obj: PlatformCampaign) -> Any:
        return getattr(obj, "platform_state", None)

    @admin.display(description="On the platform", ordering="platform_state__platform_status")
    def platform_status(self, obj: PlatformCampaign) -> str:
        state = self._state(obj)
        if state is None or state.platform_status is None:
            return "-"
        return str(state.get_platform_status_display())

    @admin.display(description="Paused by someone else", boolean=True)
    def paused_elsewhere(self, obj: PlatformCampaign) -> bool | None:
        state = self._state(obj)
        return None if state is None else bool(state.paused_elsewhere)

    @admin.display(description="Last push", ordering="platform_state__pushed_at")
    def pushed_at(self, obj: PlatformCampaign) -> str:
        state = self._state(obj)
        if state is None or state.pushed_at is None:
            return "-"
        zone = obj.brand.timezone
        local = timezone.localtime(state.pushed_at, timezone=ZoneInfo(zone))
        return f"{state.get_pushed_status_display()} at {local:%Y-%m-%d %H:%M} ({zone})"

    @admin.display(description="Drift repairs")
    def drift_repairs(self, obj: PlatformCampaign) -> int:
        state = self._state(obj)
        return 0 if state is None else int(state.drift_repairs)

    @admin.display(description="Last error")
    def last_error(self, obj: PlatformCampaign) -> str:
        state = self._state(obj)
        return "" if state is None else str(state.last_error)
