"""Budget alerts: each brand's thresholds and recipients, the alerts fired (once each,
decided by a unique constraint) and their outbox of deliveries by email and webhook."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from ads.core import egress
from ads.core.money import MoneyField
from ads.core.percentages import parse_percentage_list
from ads.models.brands import Brand
from ads.models.ledger import SpendPeriod


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
