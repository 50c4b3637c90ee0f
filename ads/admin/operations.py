"""The staff console's operations pages: the job-run history (and, with the alerts, the
alerts and each brand's recipients). Read-only: the jobs and the alert rule write these; the
one action sends failed alert deliveries again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped
from ads.admin.common import ReadOnlyAdmin
from ads.admin.display import local_time, server_time
from ads.models import (
    Alert,
    AlertDelivery,
    AlertDeliveryState,
    AlertKind,
    AlertPeriod,
    BrandAlertSettings,
    JobOutcome,
    JobRun,
)
from ads.services.alerts import alert_deliveries_retry

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
        "started",
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
    fields = (
        "job",
        "trigger",
        "actor",
        "outcome",
        "started",
        "finished",
        "duration_seconds",
        "checked",
        "paused",
        "resumed",
        "reason_changed",
        "details",
        "error",
    )
    readonly_fields = fields

    @admin.display(description="Started", ordering="started_at")
    def started(self, run: JobRun) -> str:
        return server_time(run.started_at)

    @admin.display(description="Finished", ordering="finished_at")
    def finished(self, run: JobRun) -> str:
        return server_time(run.finished_at)

    @admin.display(description="Details")
    def details(self, run: JobRun) -> SafeString:
        """The job's own figures (ranges of a split sweep, partitions created, ...) as a
        table of labelled values, not raw JSON."""
        if not run.detail:
            return format_html("{}", "—")
        return format_html(
            '<table class="job-detail">{}</table>',
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td></tr>",
                ((_label(key), _value(value)) for key, value in sorted(run.detail.items())),
            ),
        )

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


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _value(value: Any) -> str:
    """One detail value as text: lists joined, mappings as ``key: value`` pairs, brand
    ranges ``[lo, hi]`` as written by the split sweep."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{_label(str(k))}: {_value(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(_value(item) for item in value) or "none"
    return "—" if value is None else str(value)


# --- Alerts ---------------------------------------------------------------------------------

_DELIVERY_COLOURS = {
    AlertDeliveryState.SENT: "#2e7d32",
    AlertDeliveryState.PENDING: "#8a6d3b",
    AlertDeliveryState.SENDING: "#1565c0",
    AlertDeliveryState.FAILED: "#ba2121",
}


class AlertDeliveryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AlertDelivery
    extra = 0
    can_delete = False
    fields = ("channel", "target", "state", "attempts", "sent", "last_error")
    readonly_fields = fields

    @admin.display(description="Sent", ordering="sent_at")
    def sent(self, delivery: AlertDelivery) -> str:
        return server_time(delivery.sent_at)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(BrandScoped, OperationsReadOnly):
    list_display = (
        "raised",
        "brand",
        "kind",
        "period",
        "period_start",
        "flight",
        "threshold",
        "spend",
        "budget",
        "projected",
        "delivery_state",
        "sent_at",
    )
    list_filter = ("kind", "period", "deliveries__state")
    list_select_related = ("brand", "flight")
    search_fields = ("brand__name",)
    date_hierarchy = "created_at"
    inlines = [AlertDeliveryInline]
    fields = (
        "brand",
        "kind",
        "period",
        "period_start",
        "flight",
        "local_day",
        "threshold",
        "spend",
        "budget",
        "projected",
        "raised",
    )
    readonly_fields = fields

    @admin.display(description="Raised", ordering="created_at")
    def raised(self, alert: Alert) -> str:
        return local_time(alert.created_at, alert.brand.timezone)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alert]:
        # Delivery states for the whole page in the same query (no query per row).
        queryset: QuerySet[Alert] = super().get_queryset(request)
        return queryset.annotate(
            sent_count=Count("deliveries", filter=Q(deliveries__state=AlertDeliveryState.SENT)),
            failed_count=Count("deliveries", filter=Q(deliveries__state=AlertDeliveryState.FAILED)),
            pending_count=Count(
                "deliveries",
                filter=Q(
                    deliveries__state__in=(AlertDeliveryState.PENDING, AlertDeliveryState.SENDING)
                ),
            ),
            last_sent_at=Max("deliveries__sent_at"),
        )

    @admin.display(description="Sent", ordering="last_sent_at")
    def sent_at(self, alert: Alert) -> str:
        sent = getattr(alert, "last_sent_at", None)
        return "—" if sent is None else local_time(sent, alert.brand.timezone)

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
    list_display = ("for_alert", "channel", "target", "state", "attempts", "when", "error")
    list_filter = ("state", "channel")
    list_select_related = ("alert__brand", "alert__flight")
    fields = (
        "alert",
        "channel",
        "target",
        "state",
        "attempts",
        "queued",
        "next_attempt",
        "sent",
        "last_error",
    )
    readonly_fields = fields
    actions = ["retry"]

    @admin.display(description="Alert", ordering="alert__created_at")
    def for_alert(self, delivery: AlertDelivery) -> str:
        alert = delivery.alert
        if alert.kind == AlertKind.THRESHOLD:
            what = f"{alert.threshold.normalize():f}%"
        else:
            what = alert.kind
        if alert.period == AlertPeriod.FLIGHT:
            period = f"flight {alert.flight.name}" if alert.flight else "deleted flight"
        else:
            period = alert.get_period_display().lower()
        return f"{alert.brand.name}: {period} {what}"

    @admin.display(description="Last error", ordering="last_error")
    def error(self, delivery: AlertDelivery) -> SafeString:
        # Long host names in an error must wrap, not push the column out of the page.
        return format_html('<span style="overflow-wrap:anywhere">{}</span>', delivery.last_error)

    @admin.display(description="Sent, or next attempt")
    def when(self, delivery: AlertDelivery) -> str:
        if delivery.state == AlertDeliveryState.SENT:
            return server_time(delivery.sent_at)
        if delivery.state == AlertDeliveryState.PENDING:
            return f"next {server_time(delivery.next_attempt_at)}"
        return "—"

    @admin.display(description="Next attempt", ordering="next_attempt_at")
    def next_attempt(self, delivery: AlertDelivery) -> str:
        if delivery.state != AlertDeliveryState.PENDING:
            return "—"
        return server_time(delivery.next_attempt_at)

    @admin.action(description="Send selected failed deliveries again", permissions=["view"])
    def retry(self, request: HttpRequest, queryset: QuerySet[AlertDelivery]) -> None:
        count = alert_deliveries_retry(
            delivery_ids=list(queryset.values_list("id", flat=True)), at=timezone.now()
        )
        self.message_user(request, f"{count} failed delivery(ies) queued again.", messages.SUCCESS)

    @admin.display(description="Queued", ordering="created_at")
    def queued(self, delivery: AlertDelivery) -> str:
        return server_time(delivery.created_at)

    @admin.display(description="Sent", ordering="sent_at")
    def sent(self, delivery: AlertDelivery) -> str:
        return server_time(delivery.sent_at)


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
        "underspend_margin",
    )
    list_select_related = ("brand",)
    search_fields = ("brand__name", "emails")
    autocomplete_fields = ("brand",)
