"""Spend sources: for each brand, every ``source`` its spend arrives from (the ``source`` of
events and daily totals; an ad account's pulled spend arrives as its platform), with how
late that source reports. The figures are learned from the ledger by the ``learn_lags``
job (``ads.services.lags``); an operator may set the lag instead."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from ads.models.brands import Brand

# The longest lag an operator may set, and the longest the learning counts: a row that
# arrives later than this is a backfill, not reporting lag (the same 48 hours).
MAX_LAG_MINUTES = 48 * 60


class SpendSource(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="spend_sources")
    source = models.CharField(max_length=64)
    lag_minutes = models.PositiveIntegerField(
        "lag set by an operator (minutes)",
        null=True,
        blank=True,
        help_text="Set by an operator: the lag in use instead of the learned p95. "
        "Empty: learn it.",
    )
    learned_p50_minutes = models.PositiveIntegerField(null=True, blank=True)
    learned_p95_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Signed: a source whose clock runs ahead of ours sends rows that seem to arrive before
    # they happened (up to the few minutes of skew the ledger accepts).
    learned_min_minutes = models.IntegerField(
        null=True, blank=True, help_text="The quickest any of its rows arrived."
    )
    samples = models.PositiveIntegerField(
        default=0, help_text="Rows the learned figures are made of (last 7 days)."
    )
    learned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["brand", "source"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "source"], name="spend_source_unique"),
            models.CheckConstraint(
                condition=Q(lag_minutes__isnull=True) | Q(lag_minutes__lte=MAX_LAG_MINUTES),
                name="spend_source_lag_at_most_48h",
            ),
        ]

    def __str__(self) -> str:
        return self.source

    @property
    def lag_in_use_minutes(self) -> int:
        """The operator's lag, else the learned p95, else 0 (reports in real time: the
        expected-spend stop then decides as the reported one)."""
        if self.lag_minutes is not None:
            return self.lag_minutes
        return self.learned_p95_minutes or 0
