"""Campaigns and their dayparting: the weekly schedules and their windows (with the pure
calculations of which minutes a window covers), the campaign with its caps and the status
the engine owns, and the campaign's audit trail of status changes and what triggered them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from ads.core.money import MoneyField
from ads.models.ad_accounts import AdAccount
from ads.models.base import Timestamped
from ads.models.brands import Brand
from ads.models.shared_budgets import SharedBudget

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


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


class CampaignStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"


class PauseReason(models.TextChoices):
    """Why a campaign is paused. When several hold, the rule shows the one that lasts longest
    (``ads.services.rule.DESIRED_REASON``); this declaration order is not that
    precedence, and is kept because the database check constraint lists the values."""

    MANUAL = "manual", "Paused by staff"
    BRAND_MONTHLY_BUDGET = "brand_monthly_budget", "Brand monthly budget reached"
    BRAND_DAILY_BUDGET = "brand_daily_budget", "Brand daily budget reached"
    CAMPAIGN_MONTHLY_BUDGET = "campaign_monthly_budget", "Campaign monthly cap reached"
    CAMPAIGN_DAILY_BUDGET = "campaign_daily_budget", "Campaign daily cap reached"
    OUTSIDE_SCHEDULE = "outside_schedule", "Outside its schedule"
    OUTSIDE_FLIGHT = "outside_flight", "Outside its flights' dates"
    FLIGHT_BUDGET = "flight_budget", "Flight budget reached"
    SHARED_DAILY_BUDGET = "shared_daily_budget", "Shared daily budget reached"
    SHARED_MONTHLY_BUDGET = "shared_monthly_budget", "Shared monthly budget reached"


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
    shared_budget = models.ForeignKey(
        SharedBudget,
        on_delete=models.PROTECT,  # leaving one goes through ads.services.shared_budgets
        null=True,
        blank=True,
        related_name="campaigns",
        help_text="A budget it shares with other campaigns of its brand. Empty: none.",
    )
    # The ad platform account its pauses and resumes are pushed to. Empty: nowhere.
    ad_account = models.ForeignKey(
        AdAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        db_index=False,  # the unique constraint below starts with it
    )
    platform_campaign_id = models.CharField(
        max_length=64, null=True, blank=True, help_text="The campaign's id in that account."
    )
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
            models.UniqueConstraint(
                fields=["ad_account", "platform_campaign_id"], name="campaign_unique_platform_id"
            ),
            models.CheckConstraint(
                condition=Q(ad_account__isnull=True, platform_campaign_id__isnull=True)
                | Q(ad_account__isnull=False, platform_campaign_id__isnull=False),
                name="campaign_platform_id_with_account",
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
        if self.platform_campaign_id == "":
            self.platform_campaign_id = None
        # Not tied to a field: the campaign form of ads/admin/campaigns.py does not show these two,
        # and a form may only attach errors to fields it has.
        if (self.ad_account_id is None) != (self.platform_campaign_id is None):
            raise ValidationError("Give both an ad account and its campaign id, or neither.")
        if self.ad_account_id is not None and self.brand_id is not None:
            account_brand = AdAccount.objects.filter(pk=self.ad_account_id).values_list(
                "brand_id", flat=True
            )
            if list(account_brand) != [self.brand_id]:
                raise ValidationError(
                    "The campaign's ad account belongs to another brand: unlink it first."
                )
        if (
            isinstance(self.daily_budget, Decimal)
            and isinstance(self.monthly_budget, Decimal)
            and self.monthly_budget < self.daily_budget
        ):
            raise ValidationError(
                {"monthly_budget": "The monthly cap cannot be below the daily cap."}
            )


class Trigger(models.TextChoices):
    """What caused a transition. A periodic job's trigger is the job's own name (JobName,
    the beat entry, the task and the command use it too)."""

    SPEND = "spend", "Spend recorded"
    CHECK_BUDGET = "check_budget", "Budget check"
    ENFORCE_DAYPARTING = "enforce_dayparting", "Dayparting"
    RESET_SPEND_DAILY = "reset_spend_daily", "Daily reset"
    RESET_SPEND_MONTHLY = "reset_spend_monthly", "Monthly reset"
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
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    actor = models.CharField(max_length=150, help_text="A username, or 'system'.")
    # Spend and budgets as the engine saw them (amounts as strings), plus the local time.
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["campaign", "-at"], name="status_change_campaign_idx"),
            # The admin dashboard's "last run of each periodic job" (latest row per trigger).
            models.Index(fields=["trigger", "-at"], name="status_change_trigger_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.campaign_id} {self.from_status}->{self.to_status} at {self.at:%Y-%m-%d %H:%M}"
        )
