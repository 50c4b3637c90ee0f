"""The domain model: brands, campaigns, dayparting, the spend ledger and the audit trail.

Only fields, constraints, indexes and small pure calculations live here. Anything that
writes several rows, takes a lock or enqueues work is a service (`ads/services/`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Upper
from django.db.models.lookups import Exact

from ad_budget_system.config import is_valid_timezone
from ads.money import MoneyField

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


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


class Timestamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


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
        if (
            self.daily_budget is not None
            and self.monthly_budget is not None
            and self.monthly_budget < self.daily_budget
        ):
            raise ValidationError(
                {"monthly_budget": "The monthly budget cannot be below the daily budget."}
            )


class DaypartSchedule(Timestamped):
    """A named weekly timetable; many campaigns may share one."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


@dataclass(frozen=True)
class WeekSpan:
    """A window as minutes from Monday 00:00: [start, start + length)."""

    start: int
    length: int

    def overlaps(self, other: WeekSpan) -> bool:
        # Compare on a circle of one week, so Sunday 22:00-02:00 meets Monday 01:00.
        offset = (other.start - self.start) % MINUTES_PER_WEEK
        back = (self.start - other.start) % MINUTES_PER_WEEK
        return offset < self.length or back < other.length


class DaypartWindow(models.Model):
    """One allowed period: from ``start_time`` on ``weekday`` until ``end_time`` (exclusive).

    ``end_time <= start_time`` means the window runs past midnight and ends on the next day;
    it still belongs to its start weekday (Monday 22:00-06:00 covers Tuesday 02:00). Equal
    times make a 24-hour window, so 00:00-00:00 is the whole day. Times are brand-local
    wall-clock times.
    """

    # db_index=False here and below: a composite index or unique constraint starting with
    # this column already serves its lookups, so a second index would only slow writes.
    schedule = models.ForeignKey(
        DaypartSchedule, on_delete=models.CASCADE, related_name="windows", db_index=False
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField(help_text="Exclusive. At or before the start: ends next day.")

    class Meta:
        ordering = ["schedule", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="window_weekday_range"
            ),
            models.UniqueConstraint(
                fields=["schedule", "weekday", "start_time"], name="window_unique_start"
            ),
        ]

    def __str__(self) -> str:
        day = Weekday(self.weekday).label
        return f"{day} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    @property
    def runs_past_midnight(self) -> bool:
        return self.end_time <= self.start_time

    def span(self) -> WeekSpan:
        start = _minutes(self.start_time)
        length = (_minutes(self.end_time) - start) % MINUTES_PER_DAY or MINUTES_PER_DAY
        return WeekSpan(start=self.weekday * MINUTES_PER_DAY + start, length=length)

    def contains(self, local_dt: datetime) -> bool:
        """Whether the wall-clock time of ``local_dt`` (already in the brand's zone) is inside.

        Works on the wall clock only, so daylight-saving days need no special case: a local
        time that does not exist never occurs, and a repeated one is inside both times.
        """
        weekday, clock = local_dt.weekday(), local_dt.time().replace(tzinfo=None)
        if weekday == self.weekday and clock >= self.start_time:
            return self.runs_past_midnight or clock < self.end_time
        if weekday == (self.weekday + 1) % 7 and self.runs_past_midnight:
            return clock < self.end_time
        return False


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def find_overlaps(windows: Iterable[DaypartWindow]) -> list[tuple[DaypartWindow, DaypartWindow]]:
    """Pairs of windows of one schedule that share any minute."""
    items = list(windows)
    return [
        (first, second)
        for index, first in enumerate(items)
        for second in items[index + 1 :]
        if first.span().overlaps(second.span())
    ]


def schedule_is_open(windows: Iterable[DaypartWindow], local_dt: datetime) -> bool:
    return any(window.contains(local_dt) for window in windows)


@dataclass(frozen=True)
class WindowOccurrence:
    """One concrete opening of a window, on the brand-local wall clock (naive times)."""

    window: DaypartWindow
    opens: datetime
    closes: datetime


def _occurrence(window: DaypartWindow, day: date) -> WindowOccurrence:
    opens = datetime.combine(day, window.start_time)
    return WindowOccurrence(window, opens, opens + timedelta(minutes=window.span().length))


def current_occurrence(
    windows: Iterable[DaypartWindow], local_dt: datetime
) -> WindowOccurrence | None:
    """The opening in force at ``local_dt`` (wall clock), if any."""
    for window in windows:
        if window.contains(local_dt):
            clock_day = local_dt.date()
            start_day = (
                clock_day if local_dt.weekday() == window.weekday else clock_day - timedelta(1)
            )
            return _occurrence(window, start_day)
    return None


def next_occurrence(
    windows: Iterable[DaypartWindow], local_dt: datetime
) -> WindowOccurrence | None:
    """The first opening strictly after ``local_dt`` (wall clock) within a week."""
    naive = local_dt.replace(tzinfo=None)
    candidates = [
        _occurrence(window, naive.date() + timedelta(days=offset))
        for window in windows
        for offset in range(8)
        if (naive.date() + timedelta(days=offset)).weekday() == window.weekday
    ]
    upcoming = [c for c in candidates if c.opens > naive]
    return min(upcoming, key=lambda c: c.opens) if upcoming else None


class CampaignStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"


class PauseReason(models.TextChoices):
    """Why a campaign is paused. When several hold, the rule shows the one that lasts longest
    (ads/services/reconcile.py, ``_DESIRED_REASON``); this declaration order is not that
    precedence, and is kept because the database check constraint lists the values."""

    MANUAL = "manual", "Paused by staff"
    BRAND_MONTHLY_BUDGET = "brand_monthly_budget", "Brand monthly budget reached"
    BRAND_DAILY_BUDGET = "brand_daily_budget", "Brand daily budget reached"
    CAMPAIGN_MONTHLY_BUDGET = "campaign_monthly_budget", "Campaign monthly cap reached"
    CAMPAIGN_DAILY_BUDGET = "campaign_daily_budget", "Campaign daily cap reached"
    OUTSIDE_SCHEDULE = "outside_schedule", "Outside its schedule"


class Campaign(Timestamped):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    external_id = models.CharField(
        max_length=128, null=True, blank=True, help_text="The ad platform's id for it."
    )
    daily_budget = MoneyField(
        null=True, blank=True, help_text="Optional cap per brand-local day, for this campaign."
    )
    monthly_budget = MoneyField(
        null=True, blank=True, help_text="Optional cap per brand-local month, for this campaign."
    )
    schedule = models.ForeignKey(
        DaypartSchedule,
        on_delete=models.PROTECT,  # deleting a schedule must not let its campaigns run 24/7
        null=True,
        blank=True,
        related_name="campaigns",
        help_text="Empty: may run at any time.",
    )
    enabled = models.BooleanField(default=True, help_text="Off means paused by staff.")
    # Owned by the engine (ads.services.reconcile); nothing else writes these three.
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.RUNNING
    )
    pause_reason = models.CharField(
        max_length=32, choices=PauseReason.choices, null=True, blank=True
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)

    ENGINE_FIELDS = ("status", "pause_reason", "status_changed_at")

    class Meta:
        ordering = ["brand__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="campaign_unique_name"),
            models.UniqueConstraint(
                fields=["brand", "external_id"], name="campaign_unique_external_id"
            ),
            models.CheckConstraint(
                condition=Q(daily_budget__isnull=True) | Q(daily_budget__gt=0),
                name="campaign_daily_budget_positive",
            ),
            models.CheckConstraint(
                condition=Q(monthly_budget__isnull=True) | Q(monthly_budget__gt=0),
                name="campaign_monthly_budget_positive",
            ),
            models.CheckConstraint(
                condition=Q(daily_budget__isnull=True)
                | Q(monthly_budget__isnull=True)
                | Q(monthly_budget__gte=F("daily_budget")),
                name="campaign_monthly_budget_gte_daily",
            ),
            models.CheckConstraint(
                condition=(Q(status=CampaignStatus.RUNNING) & Q(pause_reason__isnull=True))
                # IS NOT NULL spelled out: `NULL IN (...)` is unknown, and a CHECK lets unknown
                # through.
                | (
                    Q(status=CampaignStatus.PAUSED)
                    & Q(pause_reason__isnull=False)
                    & Q(pause_reason__in=PauseReason.values)
                ),
                name="campaign_status_reason_consistent",
            ),
        ]
        # No index on status or pause_reason: the engine rewrites them in every sweep that
        # moves campaigns, and with no index covering them PostgreSQL can update those rows
        # in place (a "HOT" update, helped by the free space migration 0005 leaves in each
        # page) instead of adding an entry to every index of the table.

    def __str__(self) -> str:
        return f"{self.brand.name} / {self.name}" if self.brand_id else self.name

    def clean(self) -> None:
        if self.external_id == "":
            self.external_id = None
        if (
            self.daily_budget is not None
            and self.monthly_budget is not None
            and self.monthly_budget < self.daily_budget
        ):
            raise ValidationError(
                {"monthly_budget": "The monthly cap cannot be below the daily cap."}
            )


class SpendPeriod(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"


class SpendKind(models.TextChoices):
    EVENT = "event", "Spend event"
    ADJUSTMENT = "adjustment", "Adjustment to a reported daily total"


class SpendEvent(models.Model):
    """The immutable ledger. Totals are derived from it; nothing updates or deletes a row,
    and database triggers refuse UPDATE and DELETE (migration 0008, ``ads.ledger_guard``).

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

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            # The kind is part of the key so that rows the system writes (adjustments,
            # corrections) can never take, or be taken by, a client's event id.
            models.UniqueConstraint(
                fields=["source", "external_id", "kind"], name="spend_event_unique_key"
            ),
            models.CheckConstraint(
                condition=(Q(kind=SpendKind.EVENT) & Q(amount__gt=0))
                | (Q(kind=SpendKind.ADJUSTMENT) & ~Q(amount=0)),
                name="spend_event_amount_by_kind",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "local_date"], name="spend_event_day_idx")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} {self.amount}"


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


class Trigger(models.TextChoices):
    SPEND = "spend", "Spend recorded"
    BUDGET_CHECK = "budget_check", "Budget check"
    DAYPARTING = "dayparting", "Dayparting sweep"
    DAILY_RESET = "daily_reset", "Daily reset"
    MONTHLY_RESET = "monthly_reset", "Monthly reset"
    STAFF = "staff", "Staff action"
    SETUP = "setup", "Created or changed"


class CampaignStatusChange(models.Model):
    """Audit: one row per actual transition of a campaign's status or pause reason."""

    # No database foreign key: the engine writes these rows in the statement that updates
    # the campaign itself, and the deferred check cost 8 us per row at commit (0.2 s of a
    # sweep moving 28,000 campaigns). Django still cascades deletes.
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="status_changes",
        db_index=False,
        db_constraint=False,
    )
    at = models.DateTimeField()
    from_status = models.CharField(max_length=16, choices=CampaignStatus.choices)
    from_reason = models.CharField(max_length=32, choices=PauseReason.choices, null=True)
    to_status = models.CharField(max_length=16, choices=CampaignStatus.choices)
    reason = models.CharField(
        max_length=32, choices=PauseReason.choices, null=True, help_text="Empty when resumed."
    )
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    actor = models.CharField(max_length=150, help_text="A username, or 'system'.")
    # Spend and budgets as the engine saw them (amounts as strings), plus the local time.
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["campaign", "-at"], name="status_change_campaign_idx")]

    def __str__(self) -> str:
        return (
            f"{self.campaign_id} {self.from_status}->{self.to_status} at {self.at:%Y-%m-%d %H:%M}"
        )


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


class ApiToken(models.Model):
    """A credential for the HTTP API. Only a hash of the secret is stored; the secret is
    shown once, when the token is created."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The start of the secret, to recognise it.")
    secret_hash = models.CharField(max_length=64, unique=True)
    all_brands = models.BooleanField(
        default=False, help_text="May write to every brand (only superusers create these)."
    )
    brands = models.ManyToManyField(Brand, blank=True, related_name="api_tokens")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"

    def is_usable(self, at: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or at < self.expires_at)
