"""Audit of what staff and planning tools set: one row per create, change or delete of a
brand's budgets, campaigns, flights, shared budgets and budget calendar entries, with who
did it (a username, or ``api:<token name>``) and the fields before and after. The
campaigns' own status changes have their own trail (``CampaignStatusChange``)."""

from __future__ import annotations

from django.db import models

from ads.models.brands import Brand


class ConfigAction(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"


class ConfigChange(models.Model):
    # No database constraint: the trail outlives what it describes (a deleted flight).
    brand = models.ForeignKey(
        Brand,
        on_delete=models.CASCADE,
        related_name="config_changes",
        db_index=False,
        db_constraint=False,
    )
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    object_type = models.CharField(max_length=32, help_text="brand, campaign, flight, ...")
    object_id = models.BigIntegerField()
    object_name = models.CharField(max_length=200)
    action = models.CharField(max_length=16, choices=ConfigAction.choices)
    # {"field": [before, after]}, values as JSON text (money as decimal strings).
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["brand", "-at"], name="config_change_brand_idx")]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_name} {self.action} by {self.actor}"
