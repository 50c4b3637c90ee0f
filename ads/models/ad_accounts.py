"""Accounts on the ad platforms (Google Ads, Meta or a signed webhook) that a brand's
campaigns are pushed to, and each account's health.

Below the campaigns: a campaign names its account. What is pushed to, and read from, a
platform for one campaign is in ``ads.models.platforms``; the services in ads/platforms/.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from ads.core import credentials, egress
from ads.models.base import Timestamped
from ads.models.brands import Brand


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
