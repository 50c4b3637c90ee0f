"""A campaign on its ad platform: the outbox of status pushes (one row per decision,
delivered after commit by ads/platforms/outbox.py), what was last pushed to and read from
the platform, and the proxy the staff console's platform page lists campaigns through."""

from __future__ import annotations

from django.db import models

from ads.models.ad_accounts import AdAccount
from ads.models.campaigns import Campaign, CampaignStatus


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
    account and for its platform state (ads/admin/platforms.py)."""

    class Meta:
        proxy = True
        verbose_name = "campaign on a platform"
        verbose_name_plural = "campaigns on platforms"
