"""When a schedule's windows open and close, as instants: what the status API and the admin
show (the window in force, the next one, when a paused campaign resumes).

The engine's rule decides, and nothing here restates it: at an instant a window is open iff
``DaypartWindow.contains`` holds for that instant on the brand's wall clock (reconcile's
clock calls ``schedule_is_open``). On most days one occurrence of a window, a stretch of wall
clock from its start to its end, is one stretch of instants. On daylight-saving nights it is
not: a wall-clock time that does not exist never comes (a window from 02:30 on a
spring-forward night opens when the clocks jump to 03:00, and one inside the skipped hour
does not open that night), and a repeated one comes twice (01:30-01:45 on a fall-back night
opens twice, 00:30-01:30 reopens when the clocks go back to 01:00). So the stretches are
found by asking the rule itself, at the only instants where its answer can change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ads.core.periods import zone
from ads.models import DaypartWindow, schedule_is_open


@dataclass(frozen=True)
class Opening:
    opens_at: datetime  # aware, in the brand's zone
    closes_at: datetime
    weekday: int


def _change_between(early: datetime, late: datetime, tz: ZoneInfo) -> datetime:
    """The first instant after ``early``, up to ``late``, with another UTC offset (the zone
    changes on whole seconds: bisected over them)."""
    before = early.astimezone(tz).utcoffset()
    low, high = int(early.timestamp()), int(late.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _passes(wall_clock: datetime, tz: ZoneInfo) -> set[datetime]:
    """The instants at which the wall clock may reach or pass ``wall_clock``: one on most
    days; on a daylight-saving night both readings (with either offset) and the change
    between them."""
    first, second = sorted(wall_clock.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1))
    if first == second:
        return {first}
    return {first, second, _change_between(first, second, tz)}


def _stretches(
    window: DaypartWindow, day: date, tz: ZoneInfo
) -> Iterator[tuple[datetime, datetime]]:
    """The stretches [opens, closes) of instants in which the occurrence of ``window``
    starting on ``day`` is open, none if it never comes."""
    starts = datetime.combine(day, window.start_time)
    ends = starts + timedelta(minutes=window.span().length)
    # Between two consecutive edges the wall clock runs on without reaching the window's start
    # or end, so the rule's answer at an edge holds until the next one.
    edges = sorted(_passes(starts, tz) | _passes(ends, tz))
    opened: datetime | None = None
    for edge in edges:
        is_open = window.contains(edge.astimezone(tz))
        if is_open and opened is None:
            opened = edge
        elif not is_open and opened is not None:
            yield opened, edge
            opened = None


def _openings(
    windows: Iterable[DaypartWindow], at: datetime, tz: ZoneInfo
) -> list[tuple[datetime, datetime, int]]:
    """Every opening (in UTC) of these windows that begins from the day before ``at``
    (brand-local) to a week after it, in order."""
    today = at.astimezone(tz).date()
    return sorted(
        (opens, closes, w.weekday)
        for w in windows
        for day in (today + timedelta(days=offset) for offset in range(-1, 8))
        if day.weekday() == w.weekday
        for opens, closes in _stretches(w, day, tz)
    )


def _shown(opening: tuple[datetime, datetime, int], tz: ZoneInfo) -> Opening:
    # Only now on the brand's clock: two datetimes of one zone compare by their wall clocks,
    # fold ignored, so 01:30 EST would sort before 01:45 EDT although it comes 45 minutes later.
    opens, closes, weekday = opening
    return Opening(opens_at=opens.astimezone(tz), closes_at=closes.astimezone(tz), weekday=weekday)


def opening_current(
    windows: Iterable[DaypartWindow], *, at: datetime, timezone: str
) -> Opening | None:
    """The opening in force at ``at``, if the engine has the schedule open then."""
    windows, tz, now = list(windows), zone(timezone), at.astimezone(UTC)
    if not schedule_is_open(windows, at.astimezone(tz)):
        return None
    found = next((o for o in _openings(windows, now, tz) if o[0] <= now < o[1]), None)
    return None if found is None else _shown(found, tz)


def opening_next(
    windows: Iterable[DaypartWindow], *, at: datetime, timezone: str
) -> Opening | None:
    """The first opening that begins after ``at``, within a week."""
    tz, now = zone(timezone), at.astimezone(UTC)
    found = next((o for o in _openings(windows, now, tz) if o[0] > now), None)
    return None if found is None else _shown(found, tz)
