"""The ledger, the period totals and the audit trail: read-only, written by the engine."""

from __future__ import annotations

from django.contrib import admin
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped
from ads.admin.common import ReadOnlyAdmin
from ads.admin.display import local_time
from ads.admin.history import snapshot_table
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
        "occurred",
        "campaign",
        "amount",
        "local_date",
        "kind",
        "source",
        "external_id",
        "recorded",
    ]
    list_filter = ["kind", "source", "local_date"]

    @admin.display(description="Occurred (brand-local)", ordering="occurred_at")
    def occurred(self, obj: SpendEvent) -> str:
        return local_time(obj.occurred_at, obj.campaign.brand.timezone)

    @admin.display(description="Recorded (brand-local)", ordering="recorded_at")
    def recorded(self, obj: SpendEvent) -> str:
        return local_time(obj.recorded_at, obj.campaign.brand.timezone)

    list_select_related = ["campaign__brand"]
    search_fields = ["external_id", "campaign__name", "campaign__brand__name"]
    date_hierarchy = "occurred_at"


_CHANGE_FIELDS = [
    "when",
    "campaign",
    "from_status",
    "from_reason",
    "to_status",
    "reason",
    "trigger",
    "actor",
    "figures",
]


@admin.register(CampaignStatusChange)
class CampaignStatusChangeAdmin(BrandScoped, ReadOnlyAdmin):
    brand_path = "campaign__brand"
    list_display = [
        "when",
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
    fields = tuple(_CHANGE_FIELDS)
    readonly_fields = _CHANGE_FIELDS

    @admin.display(description="When (brand-local)", ordering="at")
    def when(self, obj: CampaignStatusChange) -> str:
        return local_time(obj.at, obj.campaign.brand.timezone)

    @admin.display(description="Figures the engine saw")
    def figures(self, obj: CampaignStatusChange) -> SafeString:
        return snapshot_table(obj.snapshot or {}, obj.campaign.brand.currency)


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
    list_display = ["day", "campaign", "source", "total", "reported", "recorded"]
    list_filter = ["source", "day"]
    list_select_related = ["campaign__brand"]
    search_fields = ["campaign__name", "campaign__brand__name", "source"]

    @admin.display(description="Reported (brand-local)", ordering="reported_at")
    def reported(self, obj: ReportedDailyTotal) -> str:
        return local_time(obj.reported_at, obj.campaign.brand.timezone)

    @admin.display(description="Recorded (brand-local)", ordering="recorded_at")
    def recorded(self, obj: ReportedDailyTotal) -> str:
        return local_time(obj.recorded_at, obj.campaign.brand.timezone)
