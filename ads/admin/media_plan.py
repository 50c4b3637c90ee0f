"""The media plan in the console: upload a planner's sheet, see what it will change (a
preview, nothing changed yet), confirm; and export a brand's plan as the same sheet. The
reading, checking and applying are ``ads.services.media_plan*``'s; this only shows them."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify

from ads.admin.common import actor
from ads.admin.display import request_now
from ads.core.periods import local_date
from ads.models import Brand, Flight
from ads.services.access import allowed_brand_ids
from ads.services.media_plan import media_plan_export
from ads.services.media_plan_apply import (
    PlanChanged,
    PlanOutcome,
    media_plan_import,
    summary_fingerprint,
)
from ads.services.media_plan_csv import COLUMNS, MAX_BYTES, PlanInvalid
from ads.services.media_plan_summary import PlanSummary

# What applying a plan creates and changes.
PLAN_PERMISSIONS = (
    "ads.add_flight",
    "ads.change_flight",
    "ads.add_budgetchange",
    "ads.change_budgetchange",
)


class UploadForm(forms.Form):
    sheet = forms.FileField(
        label="Planner's sheet (CSV)",
        help_text=f"UTF-8 CSV with a header row: {', '.join(COLUMNS)} (month and "
        "monthly_budget optional). Nothing changes until you confirm the preview.",
    )


def _allowed(request: HttpRequest) -> list[int] | None:
    allowed = allowed_brand_ids(request.user)
    return None if allowed is None else list(allowed)


def _decoded(request: HttpRequest) -> bytes | None:
    try:
        return base64.b64decode(request.POST.get("content", ""), validate=True)
    except (binascii.Error, ValueError):
        return None


def import_view(model_admin: admin.ModelAdmin[Flight], request: HttpRequest) -> HttpResponse:
    if not request.user.has_perms(PLAN_PERMISSIONS):
        raise PermissionDenied
    at = request_now(request)
    context: dict[str, Any] = {"errors": [], "summary": None, "notice": None}
    form = UploadForm()
    data: bytes | None = None
    if request.method == "POST" and "confirm" in request.POST:
        data = _decoded(request)
        if data is None:
            context["errors"] = ["The sheet did not come back intact: upload it again."]
        else:
            try:
                outcome = media_plan_import(
                    data=data,
                    at=at,
                    actor=actor(request),
                    brand_ids=_allowed(request),
                    expected=request.POST.get("fingerprint", ""),
                )
            except PlanChanged as exc:
                context["summary"] = exc.summary
                context["notice"] = (
                    "The stored plan changed since your preview: nothing was applied. Here is "
                    "what the sheet would change now; confirm again if it is still right."
                )
            except PlanInvalid as exc:
                context["errors"] = exc.lines()
            else:
                _applied(model_admin, request, outcome)
                return HttpResponseRedirect(reverse("admin:ads_flight_changelist"))
    elif request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["sheet"]
            data = upload.read(MAX_BYTES + 1)
            try:
                preview = media_plan_import(
                    data=data,
                    at=at,
                    actor=actor(request),
                    brand_ids=_allowed(request),
                    dry_run=True,
                )
            except PlanInvalid as exc:
                context["errors"] = exc.lines()
                data = None
            else:
                context["summary"] = preview.summary
    summary: PlanSummary | None = context["summary"]
    return TemplateResponse(
        request,
        "admin/ads/flight/import_plan.html",
        {
            **model_admin.admin_site.each_context(request),
            **context,
            "title": "Import a media plan",
            "form": form,
            "opts": Flight._meta,
            "content": base64.b64encode(data).decode() if data and summary else "",
            "fingerprint": summary_fingerprint(summary) if summary else "",
        },
    )


def _applied(
    model_admin: admin.ModelAdmin[Flight], request: HttpRequest, outcome: PlanOutcome
) -> None:
    summary = outcome.summary
    if summary.nothing:
        model_admin.message_user(
            request, "Nothing to change: the stored plan is the sheet's.", messages.INFO
        )
        return
    model_admin.message_user(
        request,
        f"Media plan applied ({summary.headline()}) and enforced at once: "
        f"{len(outcome.transitions)} campaign(s) changed state.",
        messages.SUCCESS,
    )


def export_view(
    model_admin: admin.ModelAdmin[Brand], request: HttpRequest, object_id: str
) -> HttpResponse:
    brand = model_admin.get_object(request, object_id)  # scoped: 404 outside access
    if brand is None:
        raise Http404("No such brand.")
    export = media_plan_export(brand_id=brand.pk)
    today = local_date(request_now(request), brand.timezone)
    response = HttpResponse(export.text, content_type="text/csv; charset=utf-8")
    name = f"media-plan-{slugify(brand.name) or brand.pk}-{today}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    if export.left_out:
        # Said where a script can see it; the sheet itself stays importable as it is.
        response["X-Plan-Left-Out"] = str(len(export.left_out))
    return response
