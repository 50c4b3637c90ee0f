"""The rule: which campaigns run, and with which pause reason, at an instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ads.models import CampaignStatusChange, PauseReason, Trigger
from ads.services.campaigns import campaigns_set_enabled
from ads.services.reconcile import reconcile
from ads.services.sweeps import ResetPeriod, budget_check, dayparting_enforce, spend_reset
from tests.factories import make_brand, make_campaign, make_schedule, spend, state

pytestmark = pytest.mark.django_db

# Wednesday 2026-06-10, noon UTC.
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
RUNNING = ("running", None)


def paused(reason: PauseReason) -> tuple[str, str]:
    return ("paused", reason.value)


def test_brand_daily_total_pauses_every_campaign_at_the_event_that_crosses_it() -> None:
    brand = make_brand(daily="100", monthly="1000")
    first, second = make_campaign(brand), make_campaign(brand)

    spend(first, "60", at=NOON)
    assert state(first) == RUNNING and state(second) == RUNNING

    result = spend(second, "60", at=NOON + timedelta(minutes=1))

    assert state(first) == paused(PauseReason.BRAND_DAILY_BUDGET)
    assert state(second) == paused(PauseReason.BRAND_DAILY_BUDGET)
    assert {t.campaign_id for t in result.transitions} == {first.pk, second.pk}
    changes = CampaignStatusChange.objects.filter(trigger=Trigger.SPEND)
    assert changes.count() == 2
    snapshot = changes.get(campaign=first).snapshot
    assert snapshot["brand_day_spend"] == "120.00"
    assert snapshot["brand_daily_budget"] == "100.00"


def test_spend_exactly_equal_to_the_budget_pauses() -> None:
    brand = make_brand(daily="100", monthly="1000")
    first, second = make_campaign(brand), make_campaign(brand)
    spend(first, "60", at=NOON)
    spend(second, "39.999999", at=NOON)
    assert state(first) == RUNNING

    spend(second, "0.000001", at=NOON)

    assert state(first) == paused(PauseReason.BRAND_DAILY_BUDGET)
    assert state(second) == paused(PauseReason.BRAND_DAILY_BUDGET)


def test_monthly_budget_pause_outlasts_the_day_and_lifts_in_the_new_month() -> None:
    brand = make_brand(daily="100", monthly="150")
    campaign = make_campaign(brand)
    spend(campaign, "90", at=datetime(2026, 6, 28, 10, tzinfo=UTC))
    assert state(campaign) == RUNNING

    spend(campaign, "90", at=datetime(2026, 6, 29, 10, tzinfo=UTC))
    assert state(campaign) == paused(PauseReason.BRAND_MONTHLY_BUDGET)

    budget_check(at=datetime(2026, 6, 30, 0, 0, 1, tzinfo=UTC))
    budget_check(at=datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC))
    assert state(campaign) == paused(PauseReason.BRAND_MONTHLY_BUDGET)

    budget_check(at=datetime(2026, 7, 1, 0, 0, tzinfo=UTC))
    assert state(campaign) == RUNNING


def test_campaign_cap_pauses_only_that_campaign() -> None:
    brand = make_brand(daily="1000", monthly="10000")
    capped = make_campaign(brand, daily="50")
    other = make_campaign(brand)

    spend(capped, "50", at=NOON)
    spend(other, "70", at=NOON)

    assert state(capped) == paused(PauseReason.CAMPAIGN_DAILY_BUDGET)
    assert state(other) == RUNNING


def test_campaign_monthly_cap_outlasts_the_day() -> None:
    brand = make_brand(daily="1000", monthly="10000")
    capped = make_campaign(brand, daily="40", monthly="60")
    spend(capped, "35", at=datetime(2026, 6, 9, 12, tzinfo=UTC))
    spend(capped, "30", at=NOON)
    assert state(capped) == paused(PauseReason.CAMPAIGN_MONTHLY_BUDGET)

    budget_check(at=NOON + timedelta(days=1))
    assert state(capped) == paused(PauseReason.CAMPAIGN_MONTHLY_BUDGET)


def test_reasons_follow_precedence_longest_lasting_first() -> None:
    closed = make_schedule((0, "09:00", "10:00"))  # Mondays only; NOON is a Wednesday
    brand = make_brand(daily="100", monthly="100")
    disabled = make_campaign(brand, enabled=False, schedule=closed, daily="10")
    everything = make_campaign(brand, schedule=closed, daily="10", monthly="10")
    spend(everything, "100", at=NOON)

    assert state(disabled) == paused(PauseReason.MANUAL)
    # Daily and monthly are both reached; monthly lasts longer and is shown.
    assert state(everything) == paused(PauseReason.BRAND_MONTHLY_BUDGET)

    brand_with_room = make_brand(daily="1000", monthly="5000")
    capped_and_closed = make_campaign(brand_with_room, schedule=closed, daily="10", monthly="50")
    spend(capped_and_closed, "10", at=NOON)
    assert state(capped_and_closed) == paused(PauseReason.CAMPAIGN_DAILY_BUDGET)
    spend(capped_and_closed, "40", at=NOON)
    assert state(capped_and_closed) == paused(PauseReason.CAMPAIGN_MONTHLY_BUDGET)


def test_campaign_monthly_cap_is_shown_over_the_brands_daily_budget_and_outlasts_it() -> None:
    # The case: over its own monthly cap while its brand is over today's budget. The
    # daily reason would claim it can run tomorrow; the monthly cap is the truth.
    brand = make_brand(daily="100", monthly="10000")
    capped = make_campaign(brand, monthly="60")
    other = make_campaign(brand)
    spend(capped, "50", at=NOON - timedelta(days=1))
    spend(other, "100", at=NOON)
    assert state(capped) == paused(PauseReason.BRAND_DAILY_BUDGET)

    spend(capped, "10", at=NOON)

    assert state(capped) == paused(PauseReason.CAMPAIGN_MONTHLY_BUDGET)
    assert state(other) == paused(PauseReason.BRAND_DAILY_BUDGET)
    result = budget_check(at=NOON + timedelta(days=1))
    assert state(capped) == paused(PauseReason.CAMPAIGN_MONTHLY_BUDGET)
    assert state(other) == RUNNING
    assert [t.campaign_id for t in result.transitions] == [other.pk]


def test_manual_pause_is_never_lifted_by_any_job() -> None:
    brand = make_brand()
    campaign = make_campaign(brand)
    campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=False, at=NOON, actor="alice")
    assert state(campaign) == paused(PauseReason.MANUAL)

    later = NOON + timedelta(days=40)
    budget_check(at=later)
    dayparting_enforce(at=later)
    spend_reset(period=ResetPeriod.DAILY, at=later)
    spend_reset(period=ResetPeriod.MONTHLY, at=later)

    assert state(campaign) == paused(PauseReason.MANUAL)
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert (change.trigger, change.actor, change.reason) == ("staff", "alice", "manual")


def test_resuming_by_hand_while_over_budget_keeps_the_budget_reason() -> None:
    brand = make_brand(daily="100", monthly="1000")
    campaign = make_campaign(brand)
    campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=False, at=NOON, actor="alice")
    spend(campaign, "150", at=NOON)
    assert state(campaign) == paused(PauseReason.MANUAL)

    campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=True, at=NOON, actor="alice")

    assert state(campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)
    campaign.refresh_from_db()
    assert campaign.enabled is True


def test_resuming_by_hand_runs_at_once_when_nothing_else_forbids_it() -> None:
    campaign = make_campaign(make_brand())
    campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=False, at=NOON, actor="alice")
    transitions = campaigns_set_enabled(
        campaign_ids=[campaign.pk], enabled=True, at=NOON, actor="alice"
    )
    assert state(campaign) == RUNNING
    assert [t.kind for t in transitions] == ["resumed"]


def test_daily_pause_lifts_at_each_brands_own_midnight_without_a_reset_job() -> None:
    # Tokyo is UTC+9 (no DST): its 2026-06-11 starts at 2026-06-10 15:00 UTC.
    # New York is UTC-4 in June: its 2026-06-11 starts at 2026-06-11 04:00 UTC.
    tokyo = make_brand(timezone="Asia/Tokyo", daily="100", monthly="10000")
    new_york = make_brand(timezone="America/New_York", daily="100", monthly="10000")
    tokyo_campaign = make_campaign(tokyo)
    # Tokyo business hours 09:00-17:00 every day.
    office = make_schedule(*[(day, "09:00", "17:00") for day in range(7)])
    tokyo_office_campaign = make_campaign(tokyo, schedule=office)
    ny_campaign = make_campaign(new_york)

    spend(tokyo_campaign, "100", at=datetime(2026, 6, 10, 5, tzinfo=UTC))  # 14:00 Tokyo
    spend(ny_campaign, "100", at=datetime(2026, 6, 10, 14, tzinfo=UTC))  # 10:00 New York
    assert state(tokyo_campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)
    assert state(tokyo_office_campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)
    assert state(ny_campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)

    budget_check(at=datetime(2026, 6, 10, 14, 59, 59, tzinfo=UTC))
    assert state(tokyo_campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)

    tokyo_midnight = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)
    result = budget_check(at=tokyo_midnight)

    assert state(tokyo_campaign) == RUNNING
    # Its budget pause is over, but at 00:00 Tokyo its window is shut.
    assert state(tokyo_office_campaign) == paused(PauseReason.OUTSIDE_SCHEDULE)
    assert state(ny_campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)
    assert result.count("resumed") == 1 and result.count("reason_changed") == 1

    after_reset = spend_reset(period=ResetPeriod.DAILY, at=tokyo_midnight)
    assert after_reset.transitions == []

    dayparting_enforce(at=datetime(2026, 6, 11, 0, 0, tzinfo=UTC))  # 09:00 Tokyo
    assert state(tokyo_office_campaign) == RUNNING

    budget_check(at=datetime(2026, 6, 11, 4, 0, tzinfo=UTC))  # midnight New York
    assert state(ny_campaign) == RUNNING


def test_reset_job_reports_campaigns_resumed_by_the_new_day() -> None:
    brand = make_brand(daily="100", monthly="10000")
    campaign = make_campaign(brand)
    spend(campaign, "100", at=NOON)

    result = spend_reset(period=ResetPeriod.DAILY, at=NOON + timedelta(days=1))

    assert state(campaign) == RUNNING
    assert result.resumed_from([PauseReason.BRAND_DAILY_BUDGET]) == 1
    assert CampaignStatusChange.objects.filter(trigger=Trigger.RESET_SPEND_DAILY).count() == 1


def test_inside_the_window_a_budget_pause_stays() -> None:
    always_open = make_schedule(*[(day, "00:00", "00:00") for day in range(7)])
    brand = make_brand(daily="100", monthly="1000")
    campaign = make_campaign(brand, schedule=always_open)
    spend(campaign, "100", at=NOON)

    result = dayparting_enforce(at=NOON + timedelta(minutes=5))

    assert state(campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)
    assert result.transitions == []


def test_window_opening_does_not_wake_a_budget_pause() -> None:
    evenings = make_schedule(*[(day, "18:00", "22:00") for day in range(7)])
    brand = make_brand(daily="100", monthly="1000")
    campaign = make_campaign(brand, schedule=evenings)
    reconcile(at=NOON, trigger=Trigger.ENFORCE_DAYPARTING)
    assert state(campaign) == paused(PauseReason.OUTSIDE_SCHEDULE)
    spend(campaign, "100", at=NOON)
    assert state(campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)

    dayparting_enforce(at=NOON.replace(hour=18))

    assert state(campaign) == paused(PauseReason.BRAND_DAILY_BUDGET)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 6, 8, 21, 59, tzinfo=UTC), "paused"),  # Monday before it opens
        (datetime(2026, 6, 8, 22, 0, tzinfo=UTC), "running"),  # Monday 22:00 opens
        (datetime(2026, 6, 9, 2, 0, tzinfo=UTC), "running"),  # Tuesday 02:00, Monday's window
        (datetime(2026, 6, 9, 5, 59, tzinfo=UTC), "running"),
        (datetime(2026, 6, 9, 6, 0, tzinfo=UTC), "paused"),  # end is exclusive
        (datetime(2026, 6, 9, 22, 30, tzinfo=UTC), "paused"),  # Tuesday has no window
        (datetime(2026, 6, 8, 2, 0, tzinfo=UTC), "paused"),  # Monday 02:00: Sunday has none
    ],
)
def test_overnight_window_belongs_to_its_start_day(at: datetime, expected: str) -> None:
    monday_night = make_schedule((0, "22:00", "06:00"))
    campaign = make_campaign(make_brand(), schedule=monday_night)

    dayparting_enforce(at=at)

    assert state(campaign)[0] == expected


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (11, 29, "paused"),
        (11, 30, "running"),
        (13, 59, "running"),
        (14, 0, "paused"),
        (17, 59, "paused"),
        (18, 0, "running"),
        (21, 29, "running"),
        (21, 30, "paused"),
    ],
)
def test_several_windows_a_day(hour: int, minute: int, expected: str) -> None:
    wednesday = 2
    split = make_schedule((wednesday, "11:30", "14:00"), (wednesday, "18:00", "21:30"))
    campaign = make_campaign(make_brand(), schedule=split)

    dayparting_enforce(at=NOON.replace(hour=hour, minute=minute))

    assert state(campaign)[0] == expected


def test_no_schedule_means_always_on() -> None:
    campaign = make_campaign(make_brand())
    for hour in range(0, 24, 3):
        for day in range(7):
            dayparting_enforce(at=NOON.replace(hour=hour) + timedelta(days=day))
            assert state(campaign) == RUNNING
    assert not CampaignStatusChange.objects.exists()


def test_a_schedule_without_windows_never_runs() -> None:
    campaign = make_campaign(make_brand(), schedule=make_schedule())
    dayparting_enforce(at=NOON)
    assert state(campaign) == paused(PauseReason.OUTSIDE_SCHEDULE)


def test_windows_use_the_brands_wall_clock() -> None:
    office = make_schedule(*[(day, "09:00", "17:00") for day in range(7)])
    tokyo = make_campaign(make_brand(timezone="Asia/Tokyo"), schedule=office)
    london = make_campaign(make_brand(timezone="Europe/London"), schedule=office)

    dayparting_enforce(at=datetime(2026, 6, 10, 7, 0, tzinfo=UTC))  # 16:00 Tokyo, 08:00 London

    assert state(tokyo) == RUNNING
    assert state(london) == paused(PauseReason.OUTSIDE_SCHEDULE)


def test_running_twice_at_the_same_instant_changes_nothing() -> None:
    closed = make_schedule((0, "09:00", "10:00"))
    brand = make_brand(daily="100", monthly="1000")
    make_campaign(brand, schedule=closed)
    make_campaign(brand, daily="5")
    first = reconcile(at=NOON, trigger=Trigger.CHECK_BUDGET)
    rows = CampaignStatusChange.objects.count()

    second = reconcile(at=NOON, trigger=Trigger.CHECK_BUDGET)

    assert len(first.transitions) == 1
    assert second.transitions == [] and second.checked == 2
    assert CampaignStatusChange.objects.count() == rows


def test_dry_run_reports_and_changes_nothing() -> None:
    closed = make_schedule((0, "09:00", "10:00"))
    campaign = make_campaign(make_brand(), schedule=closed)

    result = reconcile(at=NOON, trigger=Trigger.CHECK_BUDGET, dry_run=True)

    assert [(t.campaign_id, t.to_reason) for t in result.transitions] == [
        (campaign.pk, PauseReason.OUTSIDE_SCHEDULE)
    ]
    assert state(campaign) == RUNNING
    assert not CampaignStatusChange.objects.exists()


def test_reconcile_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="aware"):
        reconcile(at=datetime(2026, 6, 10, 12, 0), trigger=Trigger.CHECK_BUDGET)
