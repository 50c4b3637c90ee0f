"""The spend ledger: the append-only events with their idempotency keys (the database
refuses UPDATE and DELETE on both, ``ads.models.ledger_guard``), the archived months, the
running day and month totals derived from it, the totals each source last reported for a
day, and who made each staff correction and why."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from ads.core.money import MoneyField
from ads.models.brands import Brand
from ads.models.campaigns import Campaign
from ads.models.flights import Flight
from ads.models.shared_budgets import SharedBudget


class SpendPeriod(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"


class SpendKind(models.TextChoices):
    EVENT = "event", "Spend event"
    ADJUSTMENT = "adjustment", "Adjustment to a reported daily total"
    CORRECTION = "correction", "Correction by staff"


class SpendEvent(models.Model):
    """The immutable ledger. Totals are derived from it; nothing updates or deletes a row,
    and database triggers refuse UPDATE and DELETE (migration 0008,
    ``ads.models.ledger_guard``).

    Spend events are positive. Adjustments (positive or negative) bring a source's sum for
    a campaign and day to the total that source last reported; they are the only way spend
    goes down, and they keep the history of every restatement.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="spend_events", db_index=False
    )
    kind = models.CharField(max_length=16, choices=SpendKind.choices, default=SpendKind.EVENT)
    amount = MoneyField()
    occurred_at = models.DateTimeField()
    # The brand-local date of occurred_at, fixed when recorded (a brand's time zone cannot
    # change once it has spend), so totals can be rebuilt and checked with plain SQL.
    local_date = models.DateField()
    source = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)
    recorded_at = models.DateTimeField()
    # Recorded by a backfill (``manage.py import_spend``): old spend loaded late on purpose,
    # which says nothing of how late the source reports (``ads.services.lags`` skips it).
    backfill = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-occurred_at"]
        # No unique key here: on PostgreSQL the table is partitioned by month (migration
        # 0017), and a unique constraint on it would have to include local_date, letting a
        # resend with another date in. Idempotency lives in SpendEventKey, on both databases.
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=SpendKind.EVENT) & Q(amount__gt=0))
                | (Q(kind__in=[SpendKind.ADJUSTMENT, SpendKind.CORRECTION]) & ~Q(amount=0)),
                name="spend_event_amount_by_kind",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "local_date"], name="spend_event_day_idx")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} {self.amount}"


class SpendEventKey(models.Model):
    """The ledger's idempotency key, one row per ledger row, in a table that is not
    partitioned: ``(source, external_id, kind)`` is unique across every month. Writers
    insert the key first (``ON CONFLICT DO NOTHING``) and only rows whose key was new go
    into the ledger and the totals; a resend finds the key and is compared with the event it
    points at (``event_id`` and ``local_date``: the partition and the row). Append-only like
    the ledger (``ads.models.ledger_guard``); archiving a month deletes its keys with it."""

    pk = models.CompositePrimaryKey("source", "external_id", "kind")
    # The kind is part of the key so that rows the system writes (adjustments,
    # corrections) can never take, or be taken by, a client's event id.
    source = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=SpendKind.choices)
    local_date = models.DateField()
    # No foreign key: PostgreSQL cannot reference a partitioned table by id alone.
    event_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} ({self.kind}) -> {self.event_id}"


class LedgerArchive(models.Model):
    """A month of the ledger detached by ``manage.py ledger_archive``: where its rows went,
    how many, and what they summed to. ``verify_totals`` checks only months after the
    newest archived one (their totals are kept; their rows are no longer attached)."""

    month = models.DateField(unique=True)
    table = models.CharField(max_length=128, help_text="Schema-qualified archived table.")
    rows = models.BigIntegerField()
    amount = MoneyField(default=0)
    archived_at = models.DateTimeField()
    actor = models.CharField(max_length=150)

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} -> {self.table} ({self.rows} rows)"


class PeriodTotal(models.Model):
    """Running total of spend for one brand-local day or month, kept from the ledger in the
    same transaction. Subclasses add the owner (a campaign or a brand)."""

    period = models.CharField(max_length=8, choices=SpendPeriod.choices)
    period_start = models.DateField()
    amount = MoneyField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.period} {self.period_start}: {self.amount}"


class CampaignPeriodSpend(PeriodTotal):
    # No database constraint on this derived table (the ledger's own constraint already
    # guarantees the campaign: totals exist only for campaigns with spend events, and the
    # ledger keeps those from being deleted). It saves a referential check per new total
    # row, a tenth of the cost of recording a batch.
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="period_spend",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "period", "period_start"], name="campaign_period_unique"
            ),
        ]


class BrandPeriodSpend(PeriodTotal):
    """All of a brand's campaigns together."""

    # No database constraint, as for campaign totals: a brand with totals has campaigns
    # with spend, and the database keeps such a brand from being deleted.
    brand = models.ForeignKey(
        Brand,
        on_delete=models.CASCADE,
        related_name="period_spend",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "period", "period_start"], name="brand_period_unique"
            ),
        ]


class SharedBudgetPeriodSpend(PeriodTotal):
    """All of a shared budget's campaigns together: the sum of their campaign totals,
    kept by the ledger's write path and rebuilt from the campaign totals when a campaign
    joins or leaves (``ads.services.shared_budgets``)."""

    # No database constraint, as for the other totals (written in the spend statement).
    shared_budget = models.ForeignKey(
        SharedBudget,
        on_delete=models.CASCADE,
        related_name="period_spend",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shared_budget", "period", "period_start"], name="shared_period_unique"
            ),
        ]


class FlightSpend(models.Model):
    """Spend of a flight's campaigns on the flight's dates: one running total per flight,
    kept by the ledger's write path and rebuilt from the campaign day totals when the
    flight's dates or campaigns change (``ads.services.flights``)."""

    flight = models.OneToOneField(
        Flight,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="spend",
        db_constraint=False,
    )
    amount = MoneyField(default=0)

    def __str__(self) -> str:
        return f"flight {self.flight_id}: {self.amount}"


class ReportedDailyTotal(models.Model):
    """The latest total a source reported for one campaign and brand-local day.

    Only a newer report (by ``reported_at``) changes anything; the ledger holds the
    adjustments that brought the day to each total.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="reported_daily_totals", db_index=False
    )
    source = models.CharField(max_length=64)
    day = models.DateField(help_text="Brand-local date.")
    total = MoneyField()
    reported_at = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "campaign"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "source", "day"], name="reported_daily_total_unique"
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0), name="reported_daily_total_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.campaign_id} {self.day}: {self.total}"


class SpendCorrection(models.Model):
    """Who corrected spend, and why: one per ledger row of kind CORRECTION (the ledger row
    carries the amount, campaign and brand-local day)."""

    # No database constraint: on PostgreSQL the ledger is partitioned and its primary key is
    # (id, local_date), so a foreign key to id alone is impossible; the ledger is append-only,
    # so the row cannot go away (archiving aside, which keeps it in the archive schema).
    spend_event = models.OneToOneField(
        SpendEvent, on_delete=models.PROTECT, related_name="correction", db_constraint=False
    )
    # Denormalised from the ledger row, for the campaign's history (one indexed read).
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="spend_corrections", db_index=False
    )
    note = models.TextField(help_text="Why: required, shown in the campaign's history.")
    actor = models.CharField(max_length=150, help_text="The staff user's username.")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["campaign", "-at"], name="spend_correction_campaign_idx")]

    def __str__(self) -> str:
        return f"correction {self.spend_event_id} by {self.actor}"
