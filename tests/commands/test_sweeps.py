"""check_budget, enforce_dayparting, reset_spend and record_spend as operators run them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command

from ads.models import Campaign, CampaignStatusChange, PauseReason, SpendEvent
from tests.factories import make_brand, make_campaign, make_schedule, spend, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def run(*args: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple[int, str, str | None]]:
    return list(Campaign.objects.order_by("id").values_list("id", "status", "pause_reason"))


@pytest.fixture
def mixed() -> dict[str, Campaign]:
    """One campaign outside its window, one over its cap, one fine."""
    closed = make_schedule((0, "01:00", "02:00"))
    brand = make_brand(daily="1000", monthly="10000")
    campaigns = {
        # Another brand, untouched by the spend below, so only a sweep can pause it.
        "closed": make_campaign(make_brand(), "Closed", schedule=closed),
        "capped": make_campaign(brand, "Capped", daily="10"),
        "fine": make_campaign(brand, "Fine"),
    }
    # Spend recorded yesterday reaches the cap for yesterday only; today the sweep decides.
    spend(campaigns["capped"], "10", at=NOON - timedelta(days=1))
    return campaigns


@pytest.mark.parametrize("command", ["check_budget", "enforce_dayparting"])
def test_sweep_twice_the_second_run_changes_nothing(
    command: str, mixed: dict[str, Campaign], frozen: time_machine.Traveller
) -> None:
    first = run(command)
    after_first, rows = snapshot(), CampaignStatusChange.objects.count()
    second = run(command)

    assert "3 campaigns checked, 1 paused, 1 resumed, 0 changed reason." in first
    assert "pause campaign" in first and "(Closed): running -> outside_schedule" in first
    assert "3 campaigns checked, 0 paused, 0 resumed, 0 changed reason." in second
    assert snapshot() == after_first
    assert CampaignStatusChange.objects.count() == rows


@pytest.mark.parametrize(
    "args",
    [
        ("check_budget",),
        ("enforce_dayparting",),
        ("reset_spend", "--type", "daily"),
        ("reset_spend", "--type", "monthly"),
    ],
)
def test_dry_run_prints_the_transitions_and_changes_nothing(
    args: tuple[str, ...], mixed: dict[str, Campaign], frozen: time_machine.Traveller
) -> None:
    before = snapshot()

    output = run(*args, "--dry-run")

    assert "(dry run, nothing changed)" in output
    assert "would pause campaign" in output and "would resume campaign" in output
    assert output.splitlines()[-1] == (
        "state now (nothing changed): 3 campaigns, 2 running, 1 paused (1 campaign_daily_budget)"
    )
    assert snapshot() == before
    assert (
        CampaignStatusChange.objects.filter(
            trigger__in=["check_budget", "enforce_dayparting"]
        ).count()
        == 0
    )


@pytest.mark.parametrize(
    "args",
    [
        ("check_budget",),
        ("enforce_dayparting",),
        ("reset_spend", "--type", "daily"),
        ("reset_spend", "--type", "monthly"),
    ],
)
def test_a_sweep_ends_with_where_every_campaign_stands_after_it(
    args: tuple[str, ...], mixed: dict[str, Campaign], frozen: time_machine.Traveller
) -> None:
    first = run(*args)
    second = run(*args)

    # The first run changed two campaigns; the second changed none. Both end with the state.
    expected = "state after the run: 3 campaigns, 2 running, 1 paused (1 outside_schedule)"
    assert first.splitlines()[-1] == expected
    assert "0 paused, 0 resumed, 0 changed reason." in second
    assert second.splitlines()[-1] == expected


def test_reset_spend_reports_campaigns_resumed_by_the_new_day(
    mixed: dict[str, Campaign], frozen: time_machine.Traveller
) -> None:
    assert state(mixed["capped"]) == ("paused", PauseReason.CAMPAIGN_DAILY_BUDGET)

    first = run("reset_spend", "--type", "daily")
    second = run("reset_spend", "--type", "daily")

    assert "resumed because a new day began: 1" in first
    assert state(mixed["capped"]) == ("running", None)
    assert "resumed because a new day began: 0" in second
    assert "0 paused, 0 resumed" in second


def test_reset_spend_rejects_an_unknown_type() -> None:
    with pytest.raises(CommandError, match="invalid choice: 'weekly'"):
        call_command("reset_spend", "--type", "weekly")
    with pytest.raises(CommandError, match="--type"):
        call_command("reset_spend")


def test_record_spend_accepts_pauses_and_is_idempotent(frozen: time_machine.Traveller) -> None:
    campaign = make_campaign(make_brand(daily="20", monthly="100"), "Search")

    first = run(
        "record_spend", "--campaign", str(campaign.pk), "--amount", "20.00", "--event-id", "x1"
    )
    again = run(
        "record_spend", "--campaign", str(campaign.pk), "--amount", "20.00", "--event-id", "x1"
    )

    assert first.splitlines() == [
        "accepted: manual:x1",
        f"  campaign {campaign.pk} (Search) paused: brand_daily_budget",
    ]
    assert again.strip() == "duplicate: manual:x1"
    assert SpendEvent.objects.count() == 1


def test_record_spend_takes_the_instant_and_source(frozen: time_machine.Traveller) -> None:
    campaign = make_campaign(make_brand())
    run(
        "record_spend",
        "--campaign",
        str(campaign.pk),
        "--amount",
        "3.5",
        "--at",
        "2026-06-10T09:30:00+09:00",
        "--source",
        "google-ads",
    )
    event = SpendEvent.objects.get()
    assert event.occurred_at == datetime(2026, 6, 10, 0, 30, tzinfo=UTC)
    assert (event.source, str(event.amount)) == ("google-ads", "3.50")
    assert len(event.external_id) == 32  # a generated UUID


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--amount", "-3"], "rejected: amount must be greater than zero"),
        (["--amount", "abc"], "rejected: amount 'abc' is not a number"),
        (
            ["--amount", "3", "--at", "2026-06-10T09:30:00"],
            "rejected: occurred_at has no time zone",
        ),
        (["--amount", "3", "--at", "yesterday"], "--at 'yesterday' is not an ISO-8601"),
        (["--amount", "3", "--at", "2026-06-11T09:30:00+00:00"], "in the future"),
    ],
)
def test_record_spend_fails_with_the_reason_and_records_nothing(
    args: list[str], message: str, frozen: time_machine.Traveller
) -> None:
    campaign = make_campaign(make_brand())
    with pytest.raises(CommandError, match=message):
        call_command("record_spend", "--campaign", str(campaign.pk), *args)
    assert not SpendEvent.objects.exists()


def test_record_spend_for_an_unknown_campaign_fails(frozen: time_machine.Traveller) -> None:
    with pytest.raises(CommandError, match="rejected: unknown campaign 424242"):
        call_command("record_spend", "--campaign", "424242", "--amount", "1")
