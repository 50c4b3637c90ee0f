"""Shared budgets: one pot several campaigns of a brand draw on (Google Ads' shared
budgets), with an optional daily and an optional monthly budget over the brand-local day
and month. A campaign belongs to at most one (``Campaign.shared_budget``)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from ads.core.money import MoneyField
from ads.models.base import Timestamped
from ads.models.brands import Brand


class SharedBudget(Timestamped):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="shared_budgets")
    name = models.CharField(max_length=200)
    daily_budget = MoneyField(
        null=True, blank=True, help_text="Spend of its campaigns per brand-local day."
    )
    monthly_budget = MoneyField(
        null=True, blank=True, help_text="Spend of its campaigns per brand-local month."
    )

    class Meta:
        ordering = ["brand__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="shared_budget_unique_name"),
            models.CheckConstraint(
                condition=Q(daily_budget__isnull=False) | Q(monthly_budget__isnull=False),
                name="shared_budget_has_a_budget",
            ),
            models.CheckConstraint(
                condition=Q(daily_budget__isnull=True) | Q(daily_budget__gt=0),
                name="shared_budget_daily_positive",
            ),
            models.CheckConstraint(
                condition=Q(monthly_budget__isnull=True) | Q(monthly_budget__gt=0),
                name="shared_budget_monthly_positive",
            ),
            models.CheckConstraint(
                condition=Q(daily_budget__isnull=True)
                | Q(monthly_budget__isnull=True)
                | Q(monthly_budget__gte=F("daily_budget")),
                name="shared_budget_monthly_gte_daily",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        daily, monthly = self.daily_budget, self.monthly_budget
        if daily is None and monthly is None:
            raise ValidationError("Give a daily budget, a monthly budget or both.")
        if isinstance(daily, Decimal) and isinstance(monthly, Decimal) and monthly < daily:
            raise ValidationError(
                {"monthly_budget": "The monthly budget cannot be below the daily budget."}
            )
