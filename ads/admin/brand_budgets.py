"""The brand action "set or raise budgets": a form page, then one service call."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from ads.admin.common import actor
from ads.admin.display import money, request_now
from ads.core.money import MONEY_DECIMAL_PLACES
from ads.models import Brand
from ads.services.budgets import BudgetChange, Budgets, brands_budgets_change

BRANDS_LISTED = 30


class BudgetsForm(forms.Form):
    budgets = forms.ChoiceField(
        choices=[
            (Budgets.DAILY, "Daily budget"),
            (Budgets.MONTHLY, "Monthly budget"),
            (Budgets.BOTH, "Both"),
        ],
        widget=forms.RadioSelect,
        initial=Budgets.DAILY,
    )
    change = forms.ChoiceField(
        choices=[
            (BudgetChange.SET, "Set to this amount"),
            (BudgetChange.RAISE_BY, "Raise by this amount"),
            (BudgetChange.RAISE_PERCENT, "Raise by this %"),
        ],
        widget=forms.RadioSelect,
        initial=BudgetChange.RAISE_PERCENT,
    )
    amount = forms.DecimalField(
        max_digits=13 + MONEY_DECIMAL_PLACES,
        decimal_places=MONEY_DECIMAL_PLACES,
        help_text="In each brand's own currency (or a % for a raise by %).",
    )


@admin.action(description="Set or raise budgets of selected brands…")
def change_budgets(
    model_admin: admin.ModelAdmin[Brand], request: HttpRequest, queryset: QuerySet[Brand]
) -> TemplateResponse | None:
    form = BudgetsForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        try:
            result = brands_budgets_change(
                brand_ids=list(queryset.values_list("pk", flat=True)),
                budgets=Budgets(form.cleaned_data["budgets"]),
                change=BudgetChange(form.cleaned_data["change"]),
                amount=form.cleaned_data["amount"],
                at=request_now(request),
                actor=actor(request),
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            moved = len(result.transitions)
            model_admin.message_user(
                request,
                f"Budgets changed on {result.brands} brand(s) and enforced at once: "
                f"{moved} campaign(s) changed state.",
                messages.SUCCESS,
            )
            return None
    brands = list(queryset.order_by("name")[:BRANDS_LISTED])
    return TemplateResponse(
        request,
        "admin/ads/brand/change_budgets.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": "Set or raise budgets",
            "form": form,
            "brands": [
                (b.name, money(b.daily_budget, b.currency), money(b.monthly_budget, b.currency))
                for b in brands
            ],
            "total": queryset.count(),
            "ids": list(queryset.values_list("pk", flat=True)),
            "action": request.POST.get("action"),
            "opts": model_admin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        },
    )
