"""The ledger, the period totals and the audit trail: read-only, written by the engine."""

from __future__ import annotations

from django.contrib import admin

from ads.admin.access import BrandScoped
from ads.admin.common import ReadOnlyAdmin
from ads.models import (
    BrandPeriodSpend,
    CampaignPeriodSpend,
    CampaignStatusChange,
    ReportedDailyTotal,
    SpendEvent,
)


@admin.register(SpendEvent)
class SpendEventAdmin(BrandScoped, ReadOnlyAdmin):
    brand_path = "campaign__brand"
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
class CampaignStatusChangeAdmin(BrandScoped, ReadOnlyAdmin):
    brand_path = "campaign__brand"
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
class CampaignPeriodSpendAdmin(BrandScoped, ReadOnlyAdmin):
    brand_path = "campaign__brand"
    list_display = ["campaign", "period", "period_start", "amount"]
    list_filter = ["period", "period_start"]
    list_select_related = ["campaign__brand"]
    search_fields = ["campaign__name", "campaign__brand__name"]


@admin.register(BrandPeriodSpend)
class BrandPeriodSpendAdmin(BrandScoped, ReadOnlyAdmin):
    brand_path = "brand"
    list_display = ["brand", "period", "period_start", "amount"]
    list_filter = ["period", "period_start"]
    list_select_related = ["brand"]
    search_fields = ["brand__name"]


@admin.register(ReportedDailyTotal)
class ReportedDailyTotalAdmin(BrandScoped, ReadOnlyAdmin):
    brand_path = "campaign__brand"
    list_display = ["day", "campaign", "source", "total", "reported_at", "recorded_at"]
    list_filter = ["source", "day"]
    list_select_related = ["campaign__brand"]
    search_fields = ["campaign__name", "campaign__brand__name", "source"]
