"""The campaign page's "spend correction" form: a view on the Campaign admin."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ads.admin.common import actor
from ads.admin.display import local_time, money, request_now
from ads.core.money import MONEY_DECIMAL_PLACES
from ads.core.periods import local_date
from ads.models import Campaign
from ads.services.corrections import spend_correct


class CorrectionForm(forms.Form):
    day = forms.DateField(widget=AdminDateWidget, help_text="The brand-local day it belongs to.")
    amount = forms.DecimalField(
        max_digits=13 + MONEY_DECIMAL_PLACES,
        decimal_places=MONEY_DECIMAL_PLACES,
        help_text="Positive adds spend, negative takes it away.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Required: why.")


def correction_view(
    model_admin: admin.ModelAdmin[Campaign], request: HttpRequest, object_id: str
) -> HttpResponse:
    campaign = model_admin.get_object(request, object_id)  # scoped: 404 outside access
    if campaign is None:
        raise Http404("No such campaign.")
    if not model_admin.has_change_permission(request, campaign):
        raise PermissionDenied
    at = request_now(request)
    tz_name = campaign.brand.timezone
    form = CorrectionForm(
        request.POST if request.method == "POST" else None,
        initial={"day": local_date(at, tz_name)},
    )
    if form.is_valid():
        try:
            result = spend_correct(
                campaign_id=campaign.pk,
                day=form.cleaned_data["day"],
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
                actor=actor(request),
                at=at,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            moved = len(result.transitions)
            model_admin.message_user(
                request,
                f"Correction of {money(form.cleaned_data['amount'], campaign.brand.currency)} "
                f"for {form.cleaned_data['day']} recorded and enforced at once: {moved} "
                "campaign(s) of the brand changed state.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:ads_campaign_change", args=[campaign.pk]))
    return TemplateResponse(
        request,
        "admin/ads/campaign/correct_spend.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": f"Spend correction: {campaign}",
            "campaign": campaign,
            "form": form,
            "media": model_admin.media + form.media,
            "opts": Campaign._meta,
            "local_now": local_time(at, tz_name),
        },
    )


def _add_errors(form: CorrectionForm, exc: ValidationError) -> None:
    """The service's errors, each at its field (day, amount, note) where it names one."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def correction_link(campaign: Campaign) -> SafeString:
    return format_html(
        '<a class="button" href="{}">Enter a spend correction…</a>',
        reverse("admin:ads_campaign_correct_spend", args=[campaign.pk]),
    )
