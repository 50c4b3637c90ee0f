"""The budget calendar: from a brand-local date on, a brand, campaign or shared budget has
this daily and/or monthly budget. The budget in force on a day is the latest change
effective on or before it (for each of the two budgets on its own), and the stored budget
where no change is in force yet; the engine reads the calendar itself (``ads.services.
budget_calendar``), so a beat that was down at midnight cannot miss a change."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from ads.core.money import MoneyField
from ads.models.brands import Brand
from ads.models.campaigns import Campaign
from ads.models.shared_budgets import SharedBudget


class BudgetTarget(models.TextChoices):
    BRAND = "brand", "Brand"
    CAMPAIGN = "campaign", "Campaign"
    SHARED_BUDGET = "shared_budget", "Shared budget"


class BudgetChange(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="budget_changes")
    target = models.CharField(max_length=16, choices=BudgetTarget.choices)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="budget_changes"
    )
    shared_budget = models.ForeignKey(
        SharedBudget,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="budget_changes",
    )
    effective_on = models.DateField(help_text="Brand-local date the budgets apply from.")
    daily_budget = MoneyField(null=True, blank=True)
    monthly_budget = MoneyField(null=True, blank=True)
    created_by = models.CharField(max_length=150, help_text="Who planned it.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["effective_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(target=BudgetTarget.BRAND, campaign__isnull=True, shared_budget__isnull=True)
                    | Q(
                        target=BudgetTarget.CAMPAIGN,
                        campaign__isnull=False,
                        shared_budget__isnull=True,
                    )
                    | Q(
                        target=BudgetTarget.SHARED_BUDGET,
                        campaign__isnull=True,
                        shared_budget__isnull=False,
                    )
                ),
                name="budget_change_one_target",
            ),
            models.CheckConstraint(
                condition=Q(daily_budget__isnull=False) | Q(monthly_budget__isnull=False),
                name="budget_change_has_a_budget",
            ),
            models.CheckConstraint(
                condition=(Q(daily_budget__isnull=True) | Q(daily_budget__gt=0))
                & (Q(monthly_budget__isnull=True) | Q(monthly_budget__gt=0)),
                name="budget_change_positive",
            ),
            models.CheckConstraint(
                condition=Q(daily_budget__isnull=True)
                | Q(monthly_budget__isnull=True)
                | Q(monthly_budget__gte=F("daily_budget")),
                name="budget_change_monthly_gte_daily",
            ),
            models.UniqueConstraint(
                fields=["brand", "effective_on"],
                condition=Q(target=BudgetTarget.BRAND),
                name="budget_change_brand_date_unique",
            ),
            models.UniqueConstraint(
                fields=["campaign", "effective_on"],
                condition=Q(target=BudgetTarget.CAMPAIGN),
                name="budget_change_campaign_date_unique",
            ),
            models.UniqueConstraint(
                fields=["shared_budget", "effective_on"],
                condition=Q(target=BudgetTarget.SHARED_BUDGET),
                name="budget_change_shared_date_unique",
            ),
        ]
        indexes = [models.Index(fields=["brand", "effective_on"], name="budget_change_brand_idx")]

    def __str__(self) -> str:
        return f"{self.target_label()} from {self.effective_on}"

    def target_label(self) -> str:
        if self.target == BudgetTarget.CAMPAIGN and self.campaign_id is not None:
            return f"campaign {self.campaign}"
        if self.target == BudgetTarget.SHARED_BUDGET and self.shared_budget_id is not None:
            return f"shared budget {self.shared_budget}"
        return "brand"
