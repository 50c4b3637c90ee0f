"""The staff console's operations pages: the job-run history (and, with the alerts, the
alerts and each brand's recipients). Read-only: the jobs and the alert rule write these."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped
from ads.admin.common import ReadOnlyAdmin
from ads.models import (
    Alert,
    AlertDelivery,
    AlertDeliveryState,
    BrandAlertSettings,
    JobOutcome,
    JobRun,
)

_OUTCOME_COLOURS = {
    JobOutcome.SUCCEEDED: "#2e7d32",
    JobOutcome.FAILED: "#ba2121",
    JobOutcome.SKIPPED: "#8a6d3b",
    JobOutcome.RUNNING: "#1565c0",
}


# Job runs, alerts and their deliveries are written by the services only.
OperationsReadOnly = ReadOnlyAdmin


@admin.register(JobRun)
class JobRunAdmin(OperationsReadOnly):
    list_display = (
        "job",
        "trigger",
        "outcome_badge",
        "started_at",
        "duration_seconds",
        "checked",
        "paused",
        "resumed",
        "reason_changed",
        "short_error",
    )
    list_filter = ("job", "outcome", "trigger")
    date_hierarchy = "started_at"
    search_fields = ("actor", "error")
    readonly_fields = [field.name for field in JobRun._meta.fields]

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_badge(self, run: JobRun) -> SafeString:
        colour = _OUTCOME_COLOURS.get(JobOutcome(run.outcome), "#555")
        return format_html(
            '<span style="color:{};font-weight:bold">{}</span>', colour, run.get_outcome_display()
        )

    @admin.display(description="Seconds")
    def duration_seconds(self, run: JobRun) -> str:
        duration = run.duration
        return "-" if duration is None else f"{duration.total_seconds():.2f}"

    @admin.display(description="Error")
    def short_error(self, run: JobRun) -> str:
        return run.error[:80]


# --- Alerts ---------------------------------------------------------------------------------

_DELIVERY_COLOURS = {
    AlertDeliveryState.SENT: "#2e7d32",
    AlertDeliveryState.PENDING: "#8a6d3b",
    AlertDeliveryState.FAILED: "#ba2121",
}


class AlertDeliveryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AlertDelivery
    extra = 0
    can_delete = False
    fields = ("channel", "target", "state", "attempts", "sent_at", "last_error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(BrandScoped, OperationsReadOnly):
    list_display = (
        "created_at",
        "brand",
        "kind",
        "period",
        "period_start",
        "threshold",
        "spend",
        "budget",
        "projected",
        "delivery_state",
        "sent_at",
    )
    list_filter = ("kind", "period", "deliveries__state")
    list_select_related = ("brand",)
    search_fields = ("brand__name",)
    date_hierarchy = "created_at"
    inlines = [AlertDeliveryInline]
    readonly_fields = [field.name for field in Alert._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alert]:
        # Delivery states for the whole page in the same query (no query per row).
        queryset: QuerySet[Alert] = super().get_queryset(request)
        return queryset.annotate(
            sent_count=Count("deliveries", filter=Q(deliveries__state=AlertDeliveryState.SENT)),
            failed_count=Count("deliveries", filter=Q(deliveries__state=AlertDeliveryState.FAILED)),
            pending_count=Count(
                "deliveries", filter=Q(deliveries__state=AlertDeliveryState.PENDING)
            ),
            last_sent_at=Max("deliveries__sent_at"),
        )

    @admin.display(description="Sent", ordering="last_sent_at")
    def sent_at(self, alert: Alert) -> Any:
        return getattr(alert, "last_sent_at", None)

    @admin.display(description="Delivery")
    def delivery_state(self, alert: Alert) -> SafeString:
        parts = [
            (AlertDeliveryState.FAILED, getattr(alert, "failed_count", 0)),
            (AlertDeliveryState.PENDING, getattr(alert, "pending_count", 0)),
            (AlertDeliveryState.SENT, getattr(alert, "sent_count", 0)),
        ]
        shown = [(state, n) for state, n in parts if n]
        if not shown:
            return format_html("<span>{}</span>", "no channel")
        return format_html_join(
            " ",
            '<span style="color:{};font-weight:bold">{} {}</span>',
            ((_DELIVERY_COLOURS[state], n, state.label) for state, n in shown),
        )


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(BrandScoped, OperationsReadOnly):
    brand_path = "alert__brand"
    list_display = ("alert", "channel", "target", "state", "attempts", "sent_at", "last_error")
    list_filter = ("state", "channel")
    list_select_related = ("alert",)


@admin.register(BrandAlertSettings)
class BrandAlertSettingsAdmin(BrandScoped, admin.ModelAdmin):  # type: ignore[type-arg]
    """Each brand's recipients and thresholds (empty fields use the global settings)."""

    list_display = (
        "brand",
        "emails",
        "email_enabled",
        "webhook_url",
        "webhook_enabled",
        "thresholds",
        "pacing_margin",
    )
    list_select_related = ("brand",)
    search_fields = ("brand__name", "emails")
    autocomplete_fields = ("brand",)
