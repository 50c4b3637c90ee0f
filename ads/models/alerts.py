"""Budget alerts: each brand's thresholds and recipients, the alerts fired (once each,
decided by a unique constraint; an underspend alert once per brand-local day and period)
and their outbox of deliveries by email and webhook."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from ads.core import egress
from ads.core.money import MoneyField
from ads.core.percentages import parse_percentage_list
from ads.models.brands import Brand
from ads.models.flights import Flight
from ads.models.ledger import SpendPeriod


class AlertKind(models.TextChoices):
    THRESHOLD = "threshold", "Share of budget reached"
    PACING = "pacing", "Projected to exceed budget"
    UNDERSPEND = "underspend", "Projected to fall short of budget"


class AlertPeriod(models.TextChoices):
    """What an alert judged: the brand-local day or month (the ledger's periods, same
    values), or a flight's dates."""

    DAY = SpendPeriod.DAY.value, "Day"
    MONTH = SpendPeriod.MONTH.value, "Month"
    FLIGHT = "flight", "Flight"


class BrandAlertSettings(models.Model):
    """A brand's alert thresholds and recipients; anything left empty uses the global
    setting (ALERT_THRESHOLDS, ALERT_PACING_MARGIN, ALERT_UNDERSPEND_MARGIN, ALERT_EMAILS,
    ALERT_WEBHOOK_URL)."""

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
    underspend_margin = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent under budget the projection may fall before an underspend alert.",
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
    """One alert. A threshold or pacing alert fires once per (brand, kind, period, period
    start, threshold); an underspend alert once per brand-local day (``local_day``) for the
    brand's month, and once per day for each flight (``flight``; period ``flight``, its
    start the flight's first date). Unique constraints decide, also between concurrent
    writers."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    period = models.CharField(max_length=8, choices=AlertPeriod.choices)
    period_start = models.DateField(help_text="Brand-local.")
    threshold = models.DecimalField(max_digits=7, decimal_places=2, help_text="Percent.")
    spend = MoneyField()
    budget = MoneyField()
    projected = MoneyField(null=True, blank=True)
    # A deleted flight keeps its alerts (and their deliveries) for the record.
    flight = models.ForeignKey(
        Flight, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    local_day = models.DateField(
        null=True, blank=True, help_text="Brand-local day an underspend alert was judged on."
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "kind", "period", "period_start", "threshold"],
                condition=~Q(kind=AlertKind.UNDERSPEND),
                name="alert_once",
            ),
            models.UniqueConstraint(
                fields=["brand", "period_start", "local_day"],
                condition=Q(kind=AlertKind.UNDERSPEND, period=AlertPeriod.MONTH),
                name="alert_underspend_month_daily",
            ),
            models.UniqueConstraint(
                fields=["flight", "local_day"],
                condition=Q(kind=AlertKind.UNDERSPEND, period=AlertPeriod.FLIGHT),
                name="alert_underspend_flight_daily",
            ),
            # An underspend alert has its day, and a flight only for a flight's period
            # (empty once the flight is deleted); the other kinds have neither.
            models.CheckConstraint(
                condition=(
                    Q(kind=AlertKind.UNDERSPEND, local_day__isnull=False)
                    & (
                        Q(period=AlertPeriod.MONTH, flight__isnull=True)
                        | Q(period=AlertPeriod.FLIGHT)
                    )
                )
                | (
                    ~Q(kind=AlertKind.UNDERSPEND)
                    & ~Q(period=AlertPeriod.FLIGHT)
                    & Q(local_day__isnull=True, flight__isnull=True)
                ),
                name="alert_underspend_shape",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AlertKind.UNDERSPEND:
            what = f"flight {self.flight_id}" if self.period == AlertPeriod.FLIGHT else self.period
            return f"{self.brand_id} underspend {what} {self.period_start} on {self.local_day}"
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
    ``deliver_alerts`` job (ads/notifications/alerts.py): claimed with a lease, sent
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
