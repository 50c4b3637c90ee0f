"""The openings shown (status API, admin) against the engine's own decision, every five
minutes through both daylight-saving nights of New York and Berlin: a window is shown in force
exactly when the engine has it open, and shown opening and closing exactly when the engine
opens and closes it. No database: the engine's Python side is ``schedule_is_open``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import combinations

import pytest

from ads.core.periods import zone
from ads.models import DaypartWindow, schedule_is_open
from ads.services.openings import opening_current, opening_next

SATURDAY, SUNDAY = 5, 6
STEP = timedelta(minutes=5)  # every start and end below is a multiple of it
NIGHTS = [
    # (zone, the Saturday 20:00 before the change, in UTC)
    ("America/New_York", datetime(2026, 3, 8, 1, 0, tzinfo=UTC)),
    ("America/New_York", datetime(2026, 11, 1, 0, 0, tzinfo=UTC)),
    ("Europe/Berlin", datetime(2026, 3, 28, 19, 0, tzinfo=UTC)),
    ("Europe/Berlin", datetime(2026, 10, 24, 18, 0, tzinfo=UTC)),
]
TIMES = ["00:30", "01:00", "01:30", "01:45", "02:00", "02:05", "02:30", "02:45", "03:00", "03:30"]
WINDOWS = [(SUNDAY, start, end) for start, end in combinations(TIMES, 2)] + [
    (SATURDAY, "22:00", "01:30"),  # overnight into the change
    (SATURDAY, "23:00", "02:30"),
    (SATURDAY, "22:00", "03:00"),
    (SUNDAY, "02:30", "02:30"),  # 24 hours from inside the skipped or repeated hour
    (SUNDAY, "01:30", "01:30"),
]


def window(weekday: int, start: str, end: str) -> DaypartWindow:
    return DaypartWindow(
        weekday=weekday, start_time=time.fromisoformat(start), end_time=time.fromisoformat(end)
    )


@pytest.mark.parametrize(("timezone", "begin"), NIGHTS, ids=lambda v: str(v)[:16])
def test_openings_shown_are_the_stretches_the_engine_runs(timezone: str, begin: datetime) -> None:
    tz = zone(timezone)
    for spec in WINDOWS:
        windows = [window(*spec)]
        was_open, shown_before = False, None
        at = begin
        while at < begin + timedelta(hours=32):
            engine_open = schedule_is_open(windows, at.astimezone(tz))
            shown = opening_current(windows, at=at, timezone=timezone)
            assert engine_open is (shown is not None), (spec, at)
            # Compared in UTC: an aware time in a repeated hour never equals one of another zone.
            if shown is not None:
                assert shown.opens_at <= at < shown.closes_at, (spec, at)
            if engine_open and not was_open:
                upcoming = opening_next(windows, at=at - STEP, timezone=timezone)
                assert upcoming is not None, (spec, at)
                assert upcoming.opens_at.astimezone(UTC) == at, (spec, at)
            if was_open and not engine_open:
                assert shown_before is not None, (spec, at)
                assert shown_before.closes_at.astimezone(UTC) == at, (spec, at)
            was_open, shown_before = engine_open, shown
            at += STEP
