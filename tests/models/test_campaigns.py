"""Campaigns and their dayparting: the database constraints, validation, and the windows'
calculations."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from ads.models import (
    MINUTES_PER_DAY,
    Campaign,
    DaypartSchedule,
    DaypartWindow,
    WeekSpan,
    find_overlaps,
    schedule_is_open,
)
from tests.factories import make_brand, make_campaign, make_schedule

pytestmark = pytest.mark.django_db

MONDAY, TUESDAY, SUNDAY = 0, 1, 6


def at(day: int, clock: str) -> datetime:
    """A wall-clock time in the week of Monday 2026-06-08 (day 0 = Monday)."""
    return datetime.combine(datetime(2026, 6, 8 + day).date(), time.fromisoformat(clock))


def window(weekday: int, start: str, end: str) -> DaypartWindow:
    return DaypartWindow(
        weekday=weekday, start_time=time.fromisoformat(start), end_time=time.fromisoformat(end)
    )


# Campaign constraints


def test_database_refuses_a_duplicate_campaign_name_within_a_brand() -> None:
    brand = make_brand()
    make_campaign(brand, "Summer")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_campaign(brand, "Summer")

    assert Campaign.objects.filter(name="Summer").count() == 1


def test_the_same_campaign_name_is_allowed_in_another_brand() -> None:
    make_campaign(make_brand(), "Summer")
    make_campaign(make_brand(), "Summer")

    assert Campaign.objects.filter(name="Summer").count() == 2


def test_database_refuses_a_duplicate_external_id_within_a_brand() -> None:
    brand = make_brand()
    Campaign.objects.create(brand=brand, name="One", external_id="ext-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(brand=brand, name="Two", external_id="ext-1")

    assert Campaign.objects.filter(external_id="ext-1").count() == 1


def test_campaigns_without_external_id_do_not_clash() -> None:
    brand = make_brand()
    Campaign.objects.create(brand=brand, name="One", external_id=None)
    Campaign.objects.create(brand=brand, name="Two", external_id=None)

    assert Campaign.objects.filter(brand=brand, external_id__isnull=True).count() == 2


def test_the_same_external_id_is_allowed_in_another_brand() -> None:
    Campaign.objects.create(brand=make_brand(), name="One", external_id="ext-1")
    Campaign.objects.create(brand=make_brand(), name="Two", external_id="ext-1")

    assert Campaign.objects.filter(external_id="ext-1").count() == 2


@pytest.mark.parametrize("field", ["daily_budget", "monthly_budget"])
@pytest.mark.parametrize("amount", ["0", "-5"])
def test_database_refuses_a_campaign_cap_that_is_not_positive(field: str, amount: str) -> None:
    brand = make_brand()

    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(brand=brand, name="Capped", **{field: Decimal(amount)})

    assert not Campaign.objects.exists()


def test_database_refuses_a_campaign_monthly_cap_below_its_daily_cap() -> None:
    brand = make_brand()

    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(
            brand=brand, name="Capped", daily_budget=Decimal("50"), monthly_budget=Decimal("40")
        )

    assert not Campaign.objects.exists()


def test_database_accepts_a_campaign_with_only_one_cap() -> None:
    brand = make_brand()
    make_campaign(brand, daily="50")
    make_campaign(brand, monthly="40")

    assert Campaign.objects.filter(brand=brand).count() == 2


def test_database_refuses_a_running_campaign_with_a_pause_reason() -> None:
    brand = make_brand()

    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(brand=brand, name="Odd", status="running", pause_reason="manual")

    assert not Campaign.objects.exists()


def test_database_refuses_a_paused_campaign_without_a_pause_reason() -> None:
    campaign = make_campaign(make_brand())

    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(status="paused", pause_reason=None)

    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == ("running", None)


def test_database_refuses_an_unknown_pause_reason() -> None:
    campaign = make_campaign(make_brand())

    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(status="paused", pause_reason="bored")

    campaign.refresh_from_db()
    assert campaign.status == "running"


def test_database_accepts_a_paused_campaign_with_a_known_reason() -> None:
    campaign = make_campaign(make_brand())

    Campaign.objects.filter(pk=campaign.pk).update(status="paused", pause_reason="manual")

    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == ("paused", "manual")


# Dayparting constraints


def test_database_refuses_weekday_seven() -> None:
    schedule = make_schedule()

    with pytest.raises(IntegrityError), transaction.atomic():
        DaypartWindow.objects.create(
            schedule=schedule, weekday=7, start_time=time(9), end_time=time(17)
        )

    assert not DaypartWindow.objects.exists()


def test_database_refuses_two_windows_starting_at_the_same_time_on_the_same_day() -> None:
    schedule = make_schedule((MONDAY, "09:00", "12:00"))

    with pytest.raises(IntegrityError), transaction.atomic():
        DaypartWindow.objects.create(
            schedule=schedule, weekday=MONDAY, start_time=time(9), end_time=time(10)
        )

    assert schedule.windows.count() == 1


def test_the_same_start_time_is_allowed_on_another_day_or_schedule() -> None:
    schedule = make_schedule((MONDAY, "09:00", "12:00"), (TUESDAY, "09:00", "12:00"))
    other = make_schedule((MONDAY, "09:00", "12:00"))

    assert schedule.windows.count() == 2 and other.windows.count() == 1


# Validation (full_clean)


def test_full_clean_puts_a_campaign_monthly_cap_below_daily_on_the_monthly_budget() -> None:
    campaign = Campaign(
        brand=make_brand(), name="C", daily_budget=Decimal("50"), monthly_budget=Decimal("49")
    )

    with pytest.raises(ValidationError) as caught:
        campaign.full_clean()

    assert list(caught.value.message_dict) == ["monthly_budget"]


def test_full_clean_stores_a_blank_external_id_as_null() -> None:
    brand = make_brand()
    Campaign.objects.create(brand=brand, name="First", external_id=None)
    campaign = Campaign(brand=brand, name="Second", external_id="")

    campaign.full_clean()
    campaign.save()

    assert Campaign.objects.get(pk=campaign.pk).external_id is None


def test_full_clean_reports_a_duplicate_campaign_name_in_the_brand() -> None:
    brand = make_brand()
    make_campaign(brand, "Summer")

    with pytest.raises(ValidationError) as caught:
        Campaign(brand=brand, name="Summer").full_clean()

    assert "__all__" in caught.value.message_dict


# DaypartWindow.span


@pytest.mark.parametrize(
    ("weekday", "start", "end", "span"),
    [
        (MONDAY, "09:00", "17:00", WeekSpan(start=9 * 60, length=8 * 60)),
        (TUESDAY, "22:00", "06:00", WeekSpan(start=MINUTES_PER_DAY + 22 * 60, length=8 * 60)),
        (MONDAY, "00:00", "00:00", WeekSpan(start=0, length=MINUTES_PER_DAY)),
        (MONDAY, "08:00", "08:00", WeekSpan(start=8 * 60, length=MINUTES_PER_DAY)),
        (SUNDAY, "22:00", "02:00", WeekSpan(start=6 * MINUTES_PER_DAY + 22 * 60, length=4 * 60)),
        (MONDAY, "23:59", "00:00", WeekSpan(start=23 * 60 + 59, length=1)),
    ],
)
def test_span_is_minutes_from_monday_midnight_and_a_length(
    weekday: int, start: str, end: str, span: WeekSpan
) -> None:
    assert window(weekday, start, end).span() == span


# DaypartWindow.contains


@pytest.mark.parametrize(
    ("day", "clock", "inside"),
    [
        (MONDAY, "08:59", False),
        (MONDAY, "09:00", True),
        (MONDAY, "16:59", True),
        (MONDAY, "17:00", False),  # end is exclusive
        (TUESDAY, "10:00", False),
        (SUNDAY, "10:00", False),
    ],
)
def test_contains_a_daytime_window(day: int, clock: str, inside: bool) -> None:
    assert window(MONDAY, "09:00", "17:00").contains(at(day, clock)) is inside


@pytest.mark.parametrize(
    ("day", "clock", "inside"),
    [
        (MONDAY, "21:59", False),
        (MONDAY, "22:00", True),
        (MONDAY, "23:59", True),
        (TUESDAY, "00:00", True),
        (TUESDAY, "05:59", True),
        (TUESDAY, "06:00", False),
        (MONDAY, "02:00", False),  # early Monday belongs to Sunday's night, not this window
        (TUESDAY, "22:30", False),  # the window is Monday's only
    ],
)
def test_an_overnight_window_belongs_to_its_start_weekday(
    day: int, clock: str, inside: bool
) -> None:
    assert window(MONDAY, "22:00", "06:00").contains(at(day, clock)) is inside


def test_a_sunday_overnight_window_reaches_into_monday() -> None:
    sunday_night = window(SUNDAY, "22:00", "02:00")

    assert sunday_night.contains(at(SUNDAY, "23:00"))
    assert sunday_night.contains(at(MONDAY, "01:59"))
    assert not sunday_night.contains(at(MONDAY, "02:00"))
    assert not sunday_night.contains(at(SUNDAY, "01:00"))


@pytest.mark.parametrize(
    ("day", "clock", "inside"),
    [
        (SUNDAY, "23:59", False),
        (MONDAY, "00:00", True),
        (MONDAY, "12:00", True),
        (MONDAY, "23:59", True),
        (TUESDAY, "00:00", False),
    ],
)
def test_midnight_to_midnight_is_the_whole_day(day: int, clock: str, inside: bool) -> None:
    assert window(MONDAY, "00:00", "00:00").contains(at(day, clock)) is inside


@pytest.mark.parametrize(
    ("day", "clock", "inside"),
    [
        (MONDAY, "07:59", False),
        (MONDAY, "08:00", True),
        (MONDAY, "23:59", True),
        (TUESDAY, "07:59", True),
        (TUESDAY, "08:00", False),
    ],
)
def test_equal_start_and_end_is_twenty_four_hours_from_the_start(
    day: int, clock: str, inside: bool
) -> None:
    assert window(MONDAY, "08:00", "08:00").contains(at(day, clock)) is inside


def test_contains_reads_the_wall_clock_of_an_aware_datetime() -> None:
    monday_morning = window(MONDAY, "09:00", "10:00")

    assert monday_morning.contains(datetime(2026, 6, 8, 9, 30, tzinfo=UTC))
    assert not monday_morning.contains(datetime(2026, 6, 8, 10, 30, tzinfo=UTC))


def test_schedule_is_open_when_any_window_contains_the_time() -> None:
    windows = [window(MONDAY, "09:00", "10:00"), window(MONDAY, "14:00", "15:00")]

    assert schedule_is_open(windows, at(MONDAY, "14:30"))
    assert not schedule_is_open(windows, at(MONDAY, "12:00"))
    assert not schedule_is_open([], at(MONDAY, "12:00"))


# find_overlaps


def test_find_overlaps_reports_windows_sharing_minutes_on_the_same_day() -> None:
    first, second = window(MONDAY, "09:00", "12:00"), window(MONDAY, "11:00", "13:00")

    assert find_overlaps([first, second]) == [(first, second)]


def test_find_overlaps_sees_a_sunday_night_window_meeting_monday_across_the_week() -> None:
    sunday_night, monday = window(SUNDAY, "22:00", "02:00"), window(MONDAY, "01:00", "03:00")

    assert find_overlaps([sunday_night, monday]) == [(sunday_night, monday)]
    assert find_overlaps([monday, sunday_night]) == [(monday, sunday_night)]


def test_find_overlaps_sees_an_overnight_window_meeting_the_next_morning() -> None:
    monday_night, tuesday = window(MONDAY, "22:00", "06:00"), window(TUESDAY, "05:00", "07:00")

    assert find_overlaps([monday_night, tuesday]) == [(monday_night, tuesday)]


def test_find_overlaps_sees_a_window_inside_another() -> None:
    whole_day, lunch = window(MONDAY, "00:00", "00:00"), window(MONDAY, "12:00", "13:00")

    assert find_overlaps([whole_day, lunch]) == [(whole_day, lunch)]


def test_adjacent_windows_do_not_overlap() -> None:
    morning, afternoon = window(MONDAY, "09:00", "12:00"), window(MONDAY, "12:00", "15:00")

    assert find_overlaps([morning, afternoon]) == []


def test_adjacent_windows_across_the_week_boundary_do_not_overlap() -> None:
    windows = [window(SUNDAY, "22:00", "00:00"), window(MONDAY, "00:00", "03:00")]

    assert find_overlaps(windows) == []


def test_a_full_week_of_whole_days_has_no_overlaps() -> None:
    assert find_overlaps([window(day, "00:00", "00:00") for day in range(7)]) == []


def test_the_same_hours_on_different_days_do_not_overlap() -> None:
    assert (
        find_overlaps([window(MONDAY, "09:00", "17:00"), window(TUESDAY, "09:00", "17:00")]) == []
    )


def test_find_overlaps_lists_every_overlapping_pair() -> None:
    a, b, c = (
        window(MONDAY, "09:00", "12:00"),
        window(MONDAY, "10:00", "11:00"),
        window(MONDAY, "11:30", "13:00"),
    )

    assert find_overlaps([a, b, c]) == [(a, b), (a, c)]


# PROTECT


def test_deleting_a_schedule_used_by_a_campaign_is_refused() -> None:
    schedule = make_schedule((MONDAY, "09:00", "17:00"))
    campaign = make_campaign(make_brand(), schedule=schedule)

    with pytest.raises(ProtectedError), transaction.atomic():
        schedule.delete()

    assert DaypartSchedule.objects.filter(pk=schedule.pk).exists()
    assert schedule.windows.count() == 1
    campaign.refresh_from_db()
    assert campaign.schedule_id == schedule.pk


def test_deleting_an_unused_schedule_removes_its_windows() -> None:
    schedule = make_schedule((MONDAY, "09:00", "17:00"))

    schedule.delete()

    assert not DaypartWindow.objects.exists()
