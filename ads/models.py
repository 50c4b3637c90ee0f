"""The domain model: brands, campaigns, dayparting, the spend ledger and the audit trail.

Only fields, constraints, indexes and small pure calculations live here. Anything that
writes several rows, takes a lock or enqueues work is a service (`ads/services/`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Upper
from django.db.models.lookups import Exact

from ads.core import credentials, egress
from ads.core.money import MoneyField
from ads.core.percentages import parse_percentage_list
from ads.core.periods import is_valid_timezone

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
    # Ad platforms (issue 11): where its pauses and resumes are pushed. Empty: nowhere.
    ad_account = models.ForeignKey(
        "AdAccount",
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
        # Not tied to a field: the campaign form of ads/admin.py does not show these two,
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


class SpendPeriod(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"


class SpendKind(models.TextChoices):
    EVENT = "event", "Spend event"
    ADJUSTMENT = "adjustment", "Adjustment to a reported daily total"
    CORRECTION = "correction", "Correction by staff"


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
    the ledger (``ads.ledger_guard``); archiving a month deletes its keys with it."""

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
        indexes = [
            models.Index(fields=["campaign", "-at"], name="status_change_campaign_idx"),
            # The admin dashboard's "last run of each periodic job" (latest row per trigger).
            models.Index(fields=["trigger", "-at"], name="status_change_trigger_idx"),
        ]

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


# --- Ad platforms (issue 11) ------------------------------------------------------------------
# Accounts on Google Ads, Meta or a signed webhook; the outbox of status pushes; what each
# platform last said about a campaign. Services: ads/platforms/.


class Platform(models.TextChoices):
    GOOGLE_ADS = "google_ads", "Google Ads"
    META = "meta", "Meta"
    WEBHOOK = "webhook", "Signed webhook"


class AccountHealth(models.TextChoices):
    OK = "ok", "OK"
    FAILING = "failing", "Failing (auth or configuration)"


class AdAccount(Timestamped):
    """One account on an ad platform. Its secrets are never stored here: ``credentials_env``
    names an environment variable holding them as JSON, or (``<NAME>_FILE``) one naming a
    file that does. See README "Connecting ad platforms"."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="ad_accounts")
    name = models.CharField(max_length=200)
    platform = models.CharField(max_length=16, choices=Platform.choices)
    account_id = models.CharField(
        max_length=500,
        help_text="Google Ads customer id (digits), Meta act_... id, or the webhook URL.",
    )
    enabled = models.BooleanField(default=True, help_text="Off: nothing is pushed or synced.")
    credentials_env = models.CharField(
        max_length=100,
        validators=[
            RegexValidator(r"^[A-Z][A-Z0-9_]*$", "Upper-case letters, digits and underscores.")
        ],
        help_text="Environment variable with the credentials as JSON (or NAME_FILE: a path).",
    )
    # Written by the delivery and sync services only.
    health = models.CharField(
        max_length=16, choices=AccountHealth.choices, default=AccountHealth.OK
    )
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["brand__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account_id"], name="ad_account_unique_platform_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()} {self.account_id})"

    def clean(self) -> None:
        """The webhook URL must pass the egress policy and the credentials variable must be
        bound to this account's brand (both are checked again at every send)."""
        errors: dict[str, str] = {}
        if self.platform == Platform.WEBHOOK and self.account_id:
            problem = egress.url_problem(self.account_id)
            if problem is not None:
                errors["account_id"] = f"This URL is refused: {problem}."
        if self.credentials_env and self.brand_id is not None:
            problem = credentials.binding_problem(self.credentials_env, self.brand.name)
            if problem is not None:
                errors["credentials_env"] = f"{problem}."
        if errors:
            raise ValidationError(errors)


class PlatformStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    REMOVED = "removed", "Removed or unknown on the platform"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    SUPERSEDED = "superseded", "Superseded by a newer decision"
    SKIPPED = "skipped", "Not sent: paused on the platform by someone else"


class PlatformDelivery(models.Model):
    """The outbox: one desired platform status for a campaign, written in the transaction of
    the transition that decided it, delivered after commit (ads/platforms/outbox.py)."""

    account = models.ForeignKey(AdAccount, on_delete=models.CASCADE, related_name="deliveries")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="platform_deliveries", db_index=False
    )
    desired_status = models.CharField(max_length=16, choices=CampaignStatus.choices)
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A claimed row whose lease ran out (its worker died) is claimable again.
    lease_until = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "platform deliveries"
        indexes = [
            models.Index(fields=["account", "state", "next_attempt_at"], name="delivery_due_idx"),
            models.Index(fields=["campaign", "state"], name="delivery_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} -> {self.desired_status} ({self.state})"


class CampaignPlatformState(models.Model):
    """What we last pushed to, and last read from, the platform for one campaign.

    A table of its own rather than columns on Campaign: the admin's campaign form saves every
    non-engine column, and would otherwise write back a stale platform state.
    """

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, primary_key=True, related_name="platform_state"
    )
    platform_status = models.CharField(
        max_length=16, choices=PlatformStatus.choices, null=True, blank=True
    )
    platform_status_at = models.DateTimeField(null=True, blank=True)
    # Paused on the platform while we hold it running: someone else paused it. Shown, never
    # overridden.
    paused_elsewhere = models.BooleanField(default=False)
    pushed_status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, null=True, blank=True
    )
    pushed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    drift_repairs = models.PositiveIntegerField(default=0)
    last_drift_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.platform_status or 'unknown'}"


class PlatformCampaign(Campaign):
    """Campaigns as the ad platforms see them: the admin's page for linking a campaign to an
    account and for its platform state (ads/admin_platforms.py)."""

    class Meta:
        proxy = True
        verbose_name = "campaign on a platform"
        verbose_name_plural = "campaigns on platforms"


# --- Operations: job-run history (issue 10) ------------------------------------------------


class JobName(models.TextChoices):
    """The periodic jobs whose runs are recorded; beat and the commands run the same ones."""

    CHECK_BUDGET = "check_budget", "Budget check"
    ENFORCE_DAYPARTING = "enforce_dayparting", "Dayparting"
    RESET_SPEND_DAILY = "reset_spend_daily", "Daily reset"
    RESET_SPEND_MONTHLY = "reset_spend_monthly", "Monthly reset"
    PRUNE_JOB_RUNS = "prune_job_runs", "Prune job history"
    LEDGER_PARTITIONS = "ledger_partitions", "Ledger partitions ahead"


class JobTrigger(models.TextChoices):
    BEAT = "beat", "Celery beat"
    COMMAND = "command", "Management command"
    API = "api", "API or task call"


class JobOutcome(models.TextChoices):
    RUNNING = "running", "Running"  # or died without a word (a killed worker)
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped: another run of this job was in progress"


class JobRun(models.Model):
    """One run of a periodic job, from beat or by hand. Written when the run starts (so a
    run that dies stays visible as ``running``) and completed when it ends; the watchdog
    reads the last success of each job from here."""

    job = models.CharField(max_length=32, choices=JobName.choices)
    trigger = models.CharField(max_length=16, choices=JobTrigger.choices)
    actor = models.CharField(max_length=150)
    outcome = models.CharField(
        max_length=16, choices=JobOutcome.choices, default=JobOutcome.RUNNING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveIntegerField(null=True, blank=True, help_text="Campaigns checked.")
    paused = models.PositiveIntegerField(default=0)
    resumed = models.PositiveIntegerField(default=0)
    reason_changed = models.PositiveIntegerField(default=0)
    # The job's own figures: paused by reason for sweeps, rows deleted for the prune.
    detail = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # A split run's claim holds until then; its ranges push it on as they start and finish
    # (ads.services.sweep_split). Empty for every other run.
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["job", "outcome", "-finished_at"], name="job_run_last_idx"),
            models.Index(fields=["started_at"], name="job_run_started_idx"),
        ]

    def __str__(self) -> str:
        outcome = self.get_outcome_display().split(":")[0].lower()
        return f"{self.get_job_display()} {outcome} at {self.started_at:%Y-%m-%d %H:%M:%S %Z}"

    @property
    def duration(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


# --- Operations: budget alerts (issue 10) ---------------------------------------------------


class AlertKind(models.TextChoices):
    THRESHOLD = "threshold", "Share of budget reached"
    PACING = "pacing", "Projected to exceed budget"


class BrandAlertSettings(models.Model):
    """A brand's alert thresholds and recipients; anything left empty uses the global
    setting (ALERT_THRESHOLDS, ALERT_PACING_MARGIN, ALERT_EMAILS, ALERT_WEBHOOK_URL)."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="alert_settings")
    thresholds = models.CharField(
        max_length=100, blank=True, help_text="Percentages of each budget, e.g. 50,80,100."
    )
    pacing_margin = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Percent over budget the projection may reach before a pacing alert.",
    )
    emails = models.TextField(blank=True, help_text="The brand's contacts, comma-separated.")
    email_enabled = models.BooleanField(default=True)
    webhook_url = models.URLField(blank=True, help_text="Slack-compatible incoming webhook.")
    webhook_secret = models.CharField(max_length=200, blank=True)
    webhook_enabled = models.BooleanField(default=True)

    class Meta:
        verbose_name = "brand alert recipients"
        verbose_name_plural = "brand alert recipients"

    def __str__(self) -> str:
        return f"Alerts of {self.brand}"

    def clean(self) -> None:
        if self.thresholds.strip():
            try:
                parse_percentage_list(self.thresholds)
            except ValueError:
                raise ValidationError(
                    {"thresholds": "Percentages above 0 and up to 1000, e.g. 50,80,100."}
                ) from None
        if self.webhook_url:
            problem = egress.url_problem(self.webhook_url)
            if problem is not None:
                raise ValidationError({"webhook_url": f"This URL is refused: {problem}."})


class Alert(models.Model):
    """One alert, fired once per (brand, kind, period, period start, threshold): the unique
    constraint decides, also between concurrent writers."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    period = models.CharField(max_length=8, choices=SpendPeriod.choices)
    period_start = models.DateField(help_text="Brand-local.")
    threshold = models.DecimalField(max_digits=7, decimal_places=2, help_text="Percent.")
    spend = MoneyField()
    budget = MoneyField()
    projected = MoneyField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "kind", "period", "period_start", "threshold"],
                name="alert_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand_id} {self.kind} {self.period} {self.period_start} {self.threshold}%"


class AlertDeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"


class AlertChannel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class AlertDelivery(models.Model):
    """The outbox: one row per alert and channel, written with the alert, delivered by the
    ``deliver_alerts`` job (ads/services/alert_delivery.py): claimed with a lease, sent
    without a lock, its outcome recorded; retried with backoff."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=AlertChannel.choices)
    target = models.TextField(help_text="Addresses, or the webhook URL.")
    state = models.CharField(
        max_length=16, choices=AlertDeliveryState.choices, default=AlertDeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    # A claimed row whose lease ran out (its worker died) is claimable again.
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "alert deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="alert_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.channel} {self.state} ({self.attempts} attempts)"


# --- Staff console: per-brand access ------------------------------------------------------


class BrandAccess(models.Model):
    """A staff user (not a superuser) sees and changes only the brands granted here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="brand_access"
    )
    # Deleting a brand takes its grants with it (they mean nothing without it).
    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="staff_access", db_index=False
    )

    class Meta:
        verbose_name = "brand access"
        verbose_name_plural = "brand access"
        constraints = [
            models.UniqueConstraint(fields=["user", "brand"], name="brand_access_unique"),
        ]
        # The unique constraint's index serves lookups by user; this one, by brand.
        indexes = [models.Index(fields=["brand"], name="brand_access_brand_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.brand_id}"


# --- Staff console: spend corrections -----------------------------------------------------


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
