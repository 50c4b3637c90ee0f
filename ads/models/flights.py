"""Flights: a total budget a brand buys over brand-local dates (both inclusive) for some of
its campaigns (Google's campaign total budgets, Meta's lifetime budgets). A campaign in any
flight may run only on the dates of one of its flights, and its flights' dates never
overlap (``ads.services.flights`` refuses it under the brand's lock), so each ledger row
counts toward at most one flight."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from ads.core.money import MoneyField
from ads.models.base import Timestamped
from ads.models.brands import Brand
from ads.models.campaigns import Campaign


class Flight(Timestamped):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="flights")
    name = models.CharField(max_length=200)
    starts_on = models.DateField(help_text="First brand-local date of the flight.")
    ends_on = models.DateField(help_text="Last brand-local date of the flight (inclusive).")
    budget = MoneyField(help_text="Spend of its campaigns over all of its dates.")
    campaigns = models.ManyToManyField(
        Campaign, through="FlightCampaign", related_name="flights", blank=True
    )

    class Meta:
        ordering = ["brand__name", "starts_on", "name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="flight_unique_name"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="flight_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(budget__gt=0), name="flight_budget_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (
            isinstance(self.starts_on, date)
            and isinstance(self.ends_on, date)
            and self.ends_on < self.starts_on
        ):
            raise ValidationError({"ends_on": "The flight cannot end before it starts."})

    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


class FlightCampaign(models.Model):
    flight = models.ForeignKey(
        Flight, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="flight_memberships"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flight", "campaign"], name="flight_campaign_unique")
        ]

    def __str__(self) -> str:
        return f"{self.flight_id}:{self.campaign_id}"
