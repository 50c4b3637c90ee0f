"""Who may act on which brand: a staff user's per-brand grants (the staff console) and the
API tokens (the HTTP API)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from ads.models.brands import Brand


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


class TokenScope(models.TextChoices):
    """What a token may do. ``manage`` implies ``read``; ``ingest`` is separate (a platform
    feed that writes spend need not read or change budgets)."""

    INGEST = "ingest", "Ingest: record spend and daily totals, read a campaign's or brand's status"
    READ = "read", "Read: brands, campaigns, flights, shared budgets, budget changes"
    MANAGE = "manage", "Manage: change them (implies read)"


def default_scopes() -> list[str]:
    """What a token gets when no scope is named: what every token could do before scopes."""
    return [TokenScope.INGEST.value]


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
    # A list of TokenScope values, at least one (ads.services.tokens checks them).
    scopes = models.JSONField(default=default_scopes, help_text="What the token may do.")
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
