"""Brand-local business days and months.

Spend is keyed by the brand-local day and month of each event's ``occurred_at``; the engine
compares the totals of the brand-local day and month of the instant it evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class LocalPeriod:
    """Where an instant falls for one time zone."""

    timezone: str
    local: datetime

    @property
    def day(self) -> date:
        return self.local.date()

    @property
    def month(self) -> date:
        return self.local.date().replace(day=1)


def local_period(at: datetime, timezone: str) -> LocalPeriod:
    if at.tzinfo is None:
        raise ValueError("a naive datetime has no brand-local day; pass an aware one")
    return LocalPeriod(timezone=timezone, local=at.astimezone(zone(timezone)))


def local_date(at: datetime, timezone: str) -> date:
    return local_period(at, timezone).day
