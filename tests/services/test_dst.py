"""Daylight-saving days: windows on the wall clock, days split at local midnight.

The UTC instants below are written out by hand (not computed with zoneinfo) so the test
checks the engine against an independent statement of when each local day begins.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ads.models import CampaignPeriodSpend, PauseReason
from ads.services.sweeps import budget_check, dayparting_enforce
from tests.factories import make_brand, make_campaign, make_schedule, spend, state

pytestmark = pytest.mark.django_db

SUNDAY = 6


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timezone", "day", "starts", "ends"),
    [
        # 23-hour day: 00:00 EST = 05:00Z; next midnight is EDT, 04:00Z.
        ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)),
        # 25-hour day: 00:00 EDT = 04:00Z; next midnight is EST, 05:00Z.
        ("America/New_York", date(2026, 11, 1), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)),
        # 23-hour day: 00:00 CET = 23:00Z the day before; next midnight is CEST, 22:00Z.
        ("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)),
        # 25-hour day: 00:00 CEST = 22:00Z the day before; next midnight is CET, 23:00Z.
        ("Europe/Berlin", date(2026, 10, 25), utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)),
    ],
)
def test_daily_totals_split_at_local_midnight_on_dst_days(
    timezone: str, day: date, starts: datetime, ends: datetime
) -> None:
    brand = make_brand(timezone=timezone, daily="100", monthly="100000")
    campaign = make_campaign(brand)
    second = timedelta(seconds=1)
    spend(campaign, "1", at=starts - second)
    spend(campaign, "2", at=starts)
    spend(campaign, "4", at=ends - second)
    spend(campaign, "8", at=ends)

    days = dict(
        CampaignPeriodSpend.objects.filter(campaign=campaign, period="day").values_list(
            "period_start", "amount"
        )
    )
    assert days == {
        day - timedelta(days=1): Decimal("1.00"),
        day: Decimal("6.00"),
        day + timedelta(days=1): Decimal("8.00"),
    }

    # The budget of the DST day lasts exactly until its own (shifted) midnight.
    spend(campaign, "94", at=ends - 2 * second)
    assert state(campaign) == ("paused", PauseReason.BRAND_DAILY_BUDGET)
    budget_check(at=ends - second)
    assert state(campaign) == ("paused", PauseReason.BRAND_DAILY_BUDGET)
    budget_check(at=ends)
    assert state(campaign) == ("running", None)


@pytest.mark.parametrize(
    ("timezone", "window", "at", "expected"),
    [
        # New York, 2026-03-08: 02:00-03:00 does not exist (01:59:59 EST -> 03:00 EDT).
        ("America/New_York", ("01:00", "03:00"), utc(2026, 3, 8, 6, 30), "running"),  # 01:30 EST
        ("America/New_York", ("01:00", "03:00"), utc(2026, 3, 8, 7, 0), "paused"),  # 03:00 EDT
        ("America/New_York", ("02:00", "04:00"), utc(2026, 3, 8, 6, 59), "paused"),  # 01:59 EST
        ("America/New_York", ("02:00", "04:00"), utc(2026, 3, 8, 7, 0), "running"),  # 03:00 EDT
        ("America/New_York", ("02:00", "04:00"), utc(2026, 3, 8, 8, 0), "paused"),  # 04:00 EDT
        # New York, 2026-11-01: 01:00-02:00 happens twice (EDT, then EST).
        ("America/New_York", ("01:00", "02:00"), utc(2026, 11, 1, 5, 30), "running"),  # 01:30 EDT
        ("America/New_York", ("01:00", "02:00"), utc(2026, 11, 1, 6, 30), "running"),  # 01:30 EST
        ("America/New_York", ("01:00", "02:00"), utc(2026, 11, 1, 7, 0), "paused"),  # 02:00 EST
        # Berlin, 2026-03-29: 02:00-03:00 does not exist (01:59:59 CET -> 03:00 CEST).
        ("Europe/Berlin", ("02:00", "03:00"), utc(2026, 3, 29, 0, 59), "paused"),  # 01:59 CET
        ("Europe/Berlin", ("02:00", "03:00"), utc(2026, 3, 29, 1, 0), "paused"),  # 03:00 CEST
        ("Europe/Berlin", ("01:00", "04:00"), utc(2026, 3, 29, 0, 30), "running"),  # 01:30 CET
        ("Europe/Berlin", ("01:00", "04:00"), utc(2026, 3, 29, 1, 30), "running"),  # 03:30 CEST
        ("Europe/Berlin", ("01:00", "04:00"), utc(2026, 3, 29, 2, 0), "paused"),  # 04:00 CEST
        # Berlin, 2026-10-25: 02:00-03:00 happens twice (CEST, then CET).
        ("Europe/Berlin", ("02:00", "03:00"), utc(2026, 10, 25, 0, 30), "running"),  # 02:30 CEST
        ("Europe/Berlin", ("02:00", "03:00"), utc(2026, 10, 25, 1, 30), "running"),  # 02:30 CET
        ("Europe/Berlin", ("02:00", "03:00"), utc(2026, 10, 25, 2, 0), "paused"),  # 03:00 CET
        # An overnight window from Saturday across the change.
        ("Europe/Berlin", ("22:00", "03:00"), utc(2026, 10, 25, 1, 59), "running"),  # 02:59 CET
        ("Europe/Berlin", ("22:00", "03:00"), utc(2026, 10, 25, 2, 0), "paused"),  # 03:00 CET
    ],
)
def test_windows_on_dst_days_cover_the_wall_clock_times_that_exist(
    timezone: str, window: tuple[str, str], at: datetime, expected: str
) -> None:
    start, end = window
    weekday = 5 if end <= start else SUNDAY  # the overnight case starts on Saturday
    schedule = make_schedule((weekday, start, end))
    campaign = make_campaign(make_brand(timezone=timezone), schedule=schedule)

    dayparting_enforce(at=at)

    assert state(campaign)[0] == expected


def test_every_minute_of_both_new_york_changes_is_evaluated_without_error() -> None:
    schedule = make_schedule((SUNDAY, "01:30", "02:30"), (SUNDAY, "02:30", "03:30"))
    campaign = make_campaign(make_brand(timezone="America/New_York"), schedule=schedule)
    running_minutes = 0
    for start in (utc(2026, 3, 8, 5), utc(2026, 11, 1, 4)):
        for minute in range(0, 5 * 60):
            dayparting_enforce(at=start + timedelta(minutes=minute))
            running_minutes += state(campaign)[0] == "running"
    # March: 01:30-01:59 EST (30 min) + 03:00-03:29 EDT (30 min) exist = 60 minutes.
    # November: 01:30-01:59 twice (60) + 02:00-03:29 EST (90) = 150 minutes.
    assert running_minutes == 60 + 150
