"""Spend sources: how late each of a brand's sources reports, learned hourly from the
ledger (``learn_lags``), and the lag an operator sets instead. Saved through
``ads.services.lags`` (audited) under the brand's lock, and enforced at once."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped
from ads.admin.common import actor, report
from ads.admin.display import server_time
from ads.admin.plan_filters import BrandFilter
from ads.models import Brand, SpendSource
from ads.services.lags import LAG_MIN_SAMPLES, lag_problem, source_lag_change, source_problem
from ads.services.preconditions import brand_write

# A source whose quickest row took this long may be batching, or its clock may be behind.
SLOW_CLOCK_MINUTES = 60


def minutes_text(minutes: int | None) -> str:
    """``45 min``, ``3 h 05 min``; a dash when unknown."""
    if minutes is None:
        return "—"
    if abs(minutes) < 60:
        return f"{minutes} min"
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours} h {rest:02d} min"


def clock_note(row: SpendSource) -> str:
    """What the quickest row says of the source's clock, if anything."""
    least = row.learned_min_minutes
    if least is None:
        return ""
    if least < 0:
        return f"Its clock runs up to {-least} min ahead of ours."
    if least >= SLOW_CLOCK_MINUTES:
        return (
            f"Nothing arrived sooner than {minutes_text(least)} after it occurred: it reports "
            "in batches, or its clock is that far behind ours."
        )
    return ""


def lag_in_use_text(row: SpendSource) -> str:
    if row.lag_minutes is not None:
        return f"{minutes_text(row.lag_minutes)} (set)"
    if row.learned_p95_minutes is not None:
        return f"{minutes_text(row.learned_p95_minutes)} (learned p95)"
    return "0 min (nothing learned: treated as real time)"


def learned_text(row: SpendSource) -> str:
    """The learned p50 / p95, or how many rows are still needed."""
    if row.learned_p95_minutes is None:
        return f"not yet ({row.samples} of {LAG_MIN_SAMPLES} rows needed)"
    return f"{minutes_text(row.learned_p50_minutes)} / {minutes_text(row.learned_p95_minutes)}"


def sources_table(brand: Brand) -> SafeString | str:
    """The brand's spend sources on its page: the lag in use of each, linked to its page."""
    rows = list(SpendSource.objects.filter(brand=brand).order_by("source"))
    if not rows:
        return "None seen yet: sources appear once the hourly lag learning has seen their spend."
    cells = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:ads_spendsource_change", args=[row.pk]),
                row.source,
                lag_in_use_text(row),
                learned_text(row),
                clock_note(row) or "—",
            )
            for row in rows
        ),
    )
    return format_html(
        '<table class="brand-sources"><thead><tr><th>Source</th><th>Lag in use</th>'
        "<th>Learned p50 / p95</th><th>Clock</th></tr></thead><tbody>{}</tbody></table>",
        cells,
    )


class SpendSourceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SpendSource
        fields = ["brand", "source", "lag_minutes"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "source" in self.fields and (problem := source_problem(data.get("source"))):
            self.add_error("source", problem)
        if problem := lag_problem(data.get("lag_minutes")):
            self.add_error("lag_minutes", problem)
        return data


@admin.register(SpendSource)
class SpendSourceAdmin(BrandScoped, admin.ModelAdmin[SpendSource]):
    form = SpendSourceForm
    list_display = [
        "source",
        "brand",
        "lag_in_use",
        "operator_lag",
        "learned",
        "quickest",
        "samples",
        "learned_when",
    ]
    list_filter = [BrandFilter]
    list_select_related = ["brand"]
    search_fields = ["source", "brand__name"]
    autocomplete_fields = ["brand"]
    fieldsets = [
        (None, {"fields": ["brand", "source", "lag_minutes"]}),
        (
            "Learned from the last 7 days of the ledger",
            {"fields": ["lag_in_use", "learned", "quickest", "samples", "learned_when"]},
        ),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        shown = ["lag_in_use", "learned", "quickest", "samples", "learned_when"]
        return (["brand", "source"] if obj is not None else []) + shown

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fieldsets if obj is not None else self.fieldsets[:1]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Learned sources come back with their next row; clear the lag to learn it again.
        return False

    @admin.display(description="Lag in use")
    def lag_in_use(self, obj: SpendSource) -> str:
        return lag_in_use_text(obj)

    @admin.display(description="Set by an operator", ordering="lag_minutes")
    def operator_lag(self, obj: SpendSource) -> str:
        return minutes_text(obj.lag_minutes) if obj.lag_minutes is not None else "— (learned)"

    @admin.display(description="Learned p50 / p95")
    def learned(self, obj: SpendSource) -> str:
        return learned_text(obj)

    @admin.display(description="Quickest row")
    def quickest(self, obj: SpendSource) -> SafeString | str:
        note = clock_note(obj)
        text = minutes_text(obj.learned_min_minutes)
        return format_html("{}<div><small>{}</small></div>", text, note) if note else text

    @admin.display(description="Learned at", ordering="learned_at")
    def learned_when(self, obj: SpendSource) -> str:
        return server_time(obj.learned_at) if obj.learned_at else "never"

    def save_model(self, request: HttpRequest, obj: SpendSource, form: Any, change: bool) -> None:
        at, who = timezone.now(), actor(request)
        data = form.cleaned_data
        brand_id = obj.brand_id
        saved, transitions = brand_write(
            brand_id=brand_id,
            write=lambda: source_lag_change(
                brand_id=brand_id,
                source=obj.source if change else data["source"],
                lag_minutes=data.get("lag_minutes"),
                actor=who,
                at=at,
            ),
        )
        obj.pk = saved.pk
        report(request, self, len(transitions))
