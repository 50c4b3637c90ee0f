"""Brands: the time zone their business days and months follow, their currency, and the
budgets all of a brand's campaigns share (with the validators of the zone and currency)."""

from __future__ import annotations

from decimal import Decimal

import pycountry
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Upper
from django.db.models.lookups import Exact

from ads.core.money import MoneyField
from ads.core.periods import is_valid_timezone
from ads.models.base import Timestamped


def validate_timezone(value: str) -> None:
    if not is_valid_timezone(value):
        raise ValidationError(
            "%(value)s is not an IANA time zone name (for example Europe/Berlin).",
            code="invalid_timezone",
            params={"value": value},
        )


def validate_currency(value: str) -> None:
    if pycountry.currencies.get(alpha_3=value) is None or value != value.upper():
        raise ValidationError(
            "%(value)s is not an ISO 4217 currency code (for example USD, EUR, JPY).",
            code="invalid_currency",
            params={"value": value},
        )


class Brand(Timestamped):
    name = models.CharField(max_length=200, unique=True)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="IANA time zone. Business days and months start at midnight here.",
    )
    currency = models.CharField(
        max_length=3, default="USD", validators=[validate_currency], help_text="ISO 4217 code."
    )
    daily_budget = MoneyField(help_text="Spend of all campaigns per brand-local day.")
    monthly_budget = MoneyField(help_text="Spend of all campaigns per brand-local month.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_budget__gt=0), name="brand_daily_budget_positive"
            ),
            models.CheckConstraint(
                condition=Q(monthly_budget__gte=F("daily_budget")),
                name="brand_monthly_budget_gte_daily",
            ),
            models.CheckConstraint(
                condition=Q(currency=Upper("currency")) & Q(Exact(Length("currency"), 3)),
                name="brand_currency_iso_format",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Decimals only: a budget that failed its own field check is not one (the form shows
        # that error already).
        if (
            isinstance(self.daily_budget, Decimal)
            and isinstance(self.monthly_budget, Decimal)
            and self.monthly_budget < self.daily_budget
        ):
            raise ValidationError(
                {"monthly_budget": "The monthly budget cannot be below the daily budget."}
            )
