"""Brand-local business days and months.

Spend is keyed by the brand-local day and month of each event's ``occurred_at``; the engine
compares the totals of the brand-local day and month of the instant it evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# No place on Earth is further from UTC than this (+14:00 in Kiribati; -12:00 the other way).
MAX_UTC_OFFSET = timedelta(hours=14)


def instant_problem(value: object, field: str) -> str | None:
    """Why ``value`` is not an instant this system accepts, or None."""
    if not isinstance(value, datetime):
        return f"{field} is required"
    offset = value.utcoffset()
    if offset is None:
        return f"{field} has no time zone offset; send e.g. 2026-06-10T10:00:00+02:00"
    if abs(offset) > MAX_UTC_OFFSET:
        return f"{field} has a UTC offset beyond +-14:00"
    return None


def is_valid_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone name (a brand's zone, or the project's)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


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


def _local(at: datetime, timezone: str) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a naive datetime has no brand-local day; pass an aware one")
    return at.astimezone(zone(timezone))


def local_period(at: datetime, timezone: str) -> LocalPeriod:
    return LocalPeriod(timezone=timezone, local=_local(at, timezone))


def local_date(at: datetime, timezone: str) -> date:
    """The brand-local date of ``at`` (called once per spend event: no objects built)."""
    return _local(at, timezone).date()


def local_midnight(day: date, timezone: str) -> datetime:
    """The instant the brand-local ``day`` begins, in UTC.

    Built from the wall clock and normalised through UTC, so a zone whose clocks skip
    midnight (a DST change at 00:00) gets the first instant that exists that day.
    """
    naive = datetime.combine(day, time.min)
    return naive.replace(tzinfo=zone(timezone)).astimezone(UTC)


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of a brand-local day, in UTC: 23, 24 or 25 hours long."""
    return local_midnight(day, timezone), local_midnight(day + timedelta(days=1), timezone)


def month_bounds(month_start: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of the brand-local month beginning on ``month_start``, in UTC."""
    following = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return local_midnight(month_start, timezone), local_midnight(following, timezone)
