"""The admin index as a dashboard: what needs attention now, each figure a link to the
filtered list behind it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse

from ads.admin.access import visible_brands
from ads.admin.display import bar, local_time, money, request_now
from ads.models import CampaignStatus, JobName, PauseReason
from ads.services.selectors.budgets import brand_report_of
from ads.services.selectors.console import NEAR_BUDGET_PCT, dashboard

admin.site.index_template = "admin/ads/dashboard.html"
# The lists' figures need the width more than a second copy of the index's links does.
admin.site.enable_nav_sidebar = False


def _url(name: str, **params: str) -> str:
    return reverse(f"admin:ads_{name}_changelist") + ("?" + urlencode(params) if params else "")


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    at = request_now(request)
    found = dashboard(brands=visible_brands(request), at=at)
    return {
        "threshold": NEAR_BUDGET_PCT,
        "near_budget": [
            {
                "name": brand.name,
                "url": reverse("admin:ads_brand_change", args=[brand.pk]),
                "today": bar(report.day.spend, report.day.budget, brand.currency),
                "month": bar(report.month.spend, report.month.budget, brand.currency),
            }
            for brand, report in (
                (brand, brand_report_of(brand, at=at)) for brand in found.near_budget
            )
        ],
        "near_budget_count": found.near_budget_count,
        "near_budget_url": _url("brand", budget_used="warn", o="4"),
        "paused": [
            {
                "reason": PauseReason(reason).label,
                "count": count,
                "url": _url(
                    "campaign",
                    status__exact=CampaignStatus.PAUSED,
                    pause_reason__exact=reason,
                    changed="hour",
                ),
            }
            for reason, count in found.paused_last_hour
        ],
        "spend_today": [
            {
                "amount": money(amount, currency),
                "brands": brands,
                "url": _url("brand", currency__exact=currency),
            }
            for currency, amount, brands in found.spend_today
        ],
        "last_runs": [
            {
                "job": JobName(job).label,
                "at": local_time(last, settings.TIME_ZONE) if last else "no successful run yet",
                "url": _url("jobrun", job__exact=job),
            }
            for job, last in found.last_runs
        ],
    }
