"""Bulk pause and resume, behind a confirmation page with counts per brand (the model is
Django's own "delete selected" page)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from ads.admin.common import actor
from ads.admin.display import request_now
from ads.models import Campaign, CampaignStatus, PauseReason
from ads.services.campaigns import campaigns_set_enabled

BRANDS_LISTED = 30  # on the confirmation page; the rest are summed up in one line


def confirm_or_apply(
    model_admin: admin.ModelAdmin[Campaign],
    request: HttpRequest,
    queryset: QuerySet[Campaign],
    *,
    enabled: bool,
) -> TemplateResponse | None:
    """First call: the confirmation page. Confirmed (``post``): pause or resume."""
    if request.POST.get("post") == "yes":
        apply(model_admin, request, queryset, enabled=enabled)
        return None
    per_brand = list(
        queryset.order_by()
        .values("brand__name")
        .annotate(
            total=Count("id"),
            running=Count("id", filter=Q(status=CampaignStatus.RUNNING)),
            staff_paused=Count("id", filter=Q(enabled=False)),
        )
        .order_by("-total", "brand__name")
    )
    verb = "resume" if enabled else "pause"
    select_across = request.POST.get("select_across", "0")
    return TemplateResponse(
        request,
        "admin/ads/campaign/confirm_bulk.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": f"Are you sure you want to {verb} these campaigns?",
            "verb": verb,
            "action": request.POST.get("action"),
            # With "select all" the page posts the changelist's filters back, not the ids
            # (Django refuses more than 1,000 fields in a request).
            "ids": [] if select_across == "1" else list(queryset.values_list("pk", flat=True)),
            "total": sum(row["total"] for row in per_brand),
            "brands": per_brand[:BRANDS_LISTED],
            "more_brands": max(len(per_brand) - BRANDS_LISTED, 0),
            "brand_count": len(per_brand),
            "opts": model_admin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": select_across,
        },
    )


def apply(
    model_admin: admin.ModelAdmin[Campaign],
    request: HttpRequest,
    queryset: QuerySet[Campaign],
    *,
    enabled: bool,
) -> None:
    ids = list(queryset.values_list("id", flat=True))
    campaigns_set_enabled(
        campaign_ids=ids, enabled=enabled, at=request_now(request), actor=actor(request)
    )
    if not enabled:
        model_admin.message_user(
            request, f"{len(ids)} campaign(s) paused by staff.", messages.SUCCESS
        )
        return
    paused: dict[str | None, int] = dict(
        Campaign.objects.filter(id__in=ids, status=CampaignStatus.PAUSED)
        .values_list("pause_reason")
        .annotate(n=Count("id"))
        .values_list("pause_reason", "n")
    )  # a paused campaign always has a reason (a check constraint)
    still = sum(paused.values())
    why = "; ".join(
        f"{count} {PauseReason(reason or PauseReason.MANUAL).label.lower()}"
        for reason, count in sorted(paused.items(), key=lambda item: str(item[0]))
    )
    text = f"Staff pause lifted on {len(ids)} campaign(s): {len(ids) - still} now run"
    if still:
        text += f"; {still} stay paused ({why}) and resume by themselves when that ends"
    model_admin.message_user(request, text + ".", messages.SUCCESS)


def bulk_actions() -> list[Any]:
    @admin.action(description="Pause selected campaigns (staff pause)…")
    def pause_campaigns(
        model_admin: admin.ModelAdmin[Campaign], request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> TemplateResponse | None:
        return confirm_or_apply(model_admin, request, queryset, enabled=False)

    @admin.action(description="Resume selected campaigns (lift the staff pause)…")
    def resume_campaigns(
        model_admin: admin.ModelAdmin[Campaign], request: HttpRequest, queryset: QuerySet[Campaign]
    ) -> TemplateResponse | None:
        return confirm_or_apply(model_admin, request, queryset, enabled=True)

    return [pause_campaigns, resume_campaigns]
