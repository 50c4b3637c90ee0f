"""GET /api/v1/campaigns/{id} on daylight-saving nights: the schedule's windows are shown
opening and closing when the engine opens and closes them (tests/services/test_dst.py checks
the engine itself). The instants are written out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from tests.api.helpers import ApiClient
from tests.factories import make_brand, make_campaign, make_schedule

pytestmark = pytest.mark.django_db

SUNDAY = 6


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def shown(opens_at: str, closes_at: str) -> dict[str, Any]:
    return {"weekday": SUNDAY, "opens_at": opens_at, "closes_at": closes_at}


NEW_YORK, BERLIN = "America/New_York", "Europe/Berlin"


@pytest.mark.parametrize(
    ("timezone", "window", "at", "current", "upcoming"),
    [
        # New York, 2026-03-08: 01:59:59 EST is followed by 03:00 EDT (07:00Z).
        pytest.param(
            NEW_YORK,
            ("02:30", "03:30"),
            utc(3, 8, 6),  # 01:00 EST
            None,
            shown("2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"),
            id="ny-starts-in-the-gap-opens-when-the-clocks-jump",
        ),
        pytest.param(
            NEW_YORK,
            ("02:30", "03:30"),
            utc(3, 8, 7, 10),  # 03:10 EDT
            shown("2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"),
            shown("2026-03-15T02:30:00-04:00", "2026-03-15T03:30:00-04:00"),
            id="ny-starts-in-the-gap-current",
        ),
        pytest.param(
            NEW_YORK,
            ("02:05", "02:45"),
            utc(3, 8, 6),
            None,
            shown("2026-03-15T02:05:00-04:00", "2026-03-15T02:45:00-04:00"),
            id="ny-inside-the-gap-does-not-occur-that-day",
        ),
        pytest.param(
            NEW_YORK,
            ("01:30", "02:30"),
            utc(3, 8, 6, 40),  # 01:40 EST
            shown("2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00"),
            shown("2026-03-15T01:30:00-04:00", "2026-03-15T02:30:00-04:00"),
            id="ny-ends-in-the-gap-closes-when-the-clocks-jump",
        ),
        # New York, 2026-11-01: 01:59:59 EDT is followed by 01:00 EST (06:00Z).
        pytest.param(
            NEW_YORK,
            ("01:30", "01:45"),
            utc(11, 1, 5, 50),  # 01:50 EDT, between the two 01:30-01:45s
            None,
            shown("2026-11-01T01:30:00-05:00", "2026-11-01T01:45:00-05:00"),
            id="ny-inside-the-repeated-hour-opens-again",
        ),
        pytest.param(
            NEW_YORK,
            ("01:30", "01:45"),
            utc(11, 1, 6, 35),  # 01:35 EST, the second time
            shown("2026-11-01T01:30:00-05:00", "2026-11-01T01:45:00-05:00"),
            shown("2026-11-08T01:30:00-05:00", "2026-11-08T01:45:00-05:00"),
            id="ny-inside-the-repeated-hour-the-second-time",
        ),
        pytest.param(
            NEW_YORK,
            ("01:00", "02:00"),
            utc(11, 1, 6, 30),  # 01:30 EST: open since 01:00 EDT, without a break
            shown("2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00"),
            shown("2026-11-08T01:00:00-05:00", "2026-11-08T02:00:00-05:00"),
            id="ny-the-repeated-hour-is-one-two-hour-opening",
        ),
        pytest.param(
            NEW_YORK,
            ("00:30", "01:30"),
            utc(11, 1, 5, 45),  # 01:45 EDT: closed until the clocks go back to 01:00
            None,
            shown("2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00"),
            id="ny-ends-in-the-repeated-hour-reopens-when-the-clocks-go-back",
        ),
        # Berlin, 2026-03-29: 01:59:59 CET is followed by 03:00 CEST (01:00Z).
        pytest.param(
            BERLIN,
            ("02:30", "03:30"),
            utc(3, 29, 0, 30),  # 01:30 CET
            None,
            shown("2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"),
            id="berlin-starts-in-the-gap",
        ),
        pytest.param(
            BERLIN,
            ("02:05", "02:45"),
            utc(3, 29, 0, 30),
            None,
            shown("2026-04-05T02:05:00+02:00", "2026-04-05T02:45:00+02:00"),
            id="berlin-inside-the-gap-does-not-occur-that-day",
        ),
        # Berlin, 2026-10-25: 02:59:59 CEST is followed by 02:00 CET (01:00Z).
        pytest.param(
            BERLIN,
            ("02:15", "02:45"),
            utc(10, 25, 0, 50),  # 02:50 CEST
            None,
            shown("2026-10-25T02:15:00+01:00", "2026-10-25T02:45:00+01:00"),
            id="berlin-inside-the-repeated-hour-opens-again",
        ),
    ],
)
def test_windows_on_dst_nights_are_shown_as_the_engine_runs_them(
    api: ApiClient,
    clock: time_machine.Traveller,
    timezone: str,
    window: tuple[str, str],
    at: datetime,
    current: dict[str, Any] | None,
    upcoming: dict[str, Any],
) -> None:
    clock.move_to(at)
    schedule = make_schedule((SUNDAY, *window))
    campaign = make_campaign(make_brand(timezone=timezone), schedule=schedule)

    body = api.get(f"/campaigns/{campaign.pk}").json()

    # `open` is the engine's verdict; the windows shown must agree with it.
    assert body["schedule"]["open"] is (current is not None)
    assert body["schedule"]["current_window"] == current
    assert body["schedule"]["next_window"] == upcoming
