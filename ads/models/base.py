"""The abstract base the aggregates share: when a row was created and last changed."""

from __future__ import annotations

from django.db import models


class Timestamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
