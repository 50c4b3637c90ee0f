"""Pacing: how much of a period has passed, and where spend goes at the same rate. The one
definition behind the status API's projection, the admin's bars and the pacing alerts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ads.core.money import quantize


def elapsed_share(*, bounds: tuple[datetime, datetime], at: datetime) -> Decimal:
    """The share of the period [start, end) that has passed at ``at`` (real elapsed time,
    so 23- and 25-hour days are counted as they are)."""
    begins, ends = bounds
    return Decimal((at - begins) / (ends - begins))


def projected_spend(
    *, spend: Decimal, bounds: tuple[datetime, datetime], at: datetime
) -> Decimal | None:
    """Straight line: the spend so far, at the same rate, to the end of the period. Also
    the rule of the pacing alerts (ads.services.alerts)."""
    elapsed = elapsed_share(bounds=bounds, at=at)
    return quantize(spend / elapsed) if elapsed > 0 else None
