"""The staff console's operations pages: the job-run history (and, with the alerts, the
alerts and each brand's recipients). Read-only: the jobs and the alert rule write these."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ads.models import JobOutcome, JobRun

_OUTCOME_COLOURS = {
    JobOutcome.SUCCEEDED: "#2e7d32",
    JobOutcome.FAILED: "#ba2121",
    JobOutcome.SKIPPED: "#8a6d3b",
    JobOutcome.RUNNING: "#1565c0",
}


class OperationsReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
