"""Dayparting schedules and their windows (brand-local wall-clock times)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone

from ads.admin.common import actor, report
from ads.models import DaypartSchedule, DaypartWindow
from ads.services.access import allowed_brand_ids
from ads.services.campaigns import (
    schedule_changed,
    schedule_windows_validate,
    window_times_problem,
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


class WindowForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = DaypartWindow
        fields = ["weekday", "start_time", "end_time"]
        help_texts = {"end_time": "Exclusive; at or before the start: ends the next day."}

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        start, end = self.cleaned_data.get("start_time"), self.cleaned_data.get("end_time")
        if start is not None and end is not None:
            problem = window_times_problem(DaypartWindow(start_time=start, end_time=end))
            if problem is not None:
                self.add_error("end_time", problem)
        return cleaned


class DaypartWindowInline(admin.TabularInline[DaypartWindow, DaypartSchedule]):
    model = DaypartWindow
    form = WindowForm
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

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Schedules are shared between brands: a staff member may change one only if every
        # campaign using it is of their brands (else they could pause another brand's).
        return super().has_change_permission(request, obj) and not self._used_elsewhere(
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not self._used_elsewhere(
            request, obj
        )

    @staticmethod
    def _used_elsewhere(request: HttpRequest, obj: DaypartSchedule | None) -> bool:
        allowed = allowed_brand_ids(request.user)
        if obj is None or allowed is None:
            return False
        return obj.campaigns.exclude(brand_id__in=allowed).exists()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        transitions = schedule_changed(
            schedule=form.instance, at=timezone.now(), actor=actor(request)
        )
        report(request, self, len(transitions))
