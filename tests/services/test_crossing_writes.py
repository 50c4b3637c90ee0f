"""Spend reconciles a brand only when it takes a total to its limit. Late spend for campaigns
already paused for a budget (what platforms keep reporting for hours) crosses nothing and
costs no reconcile; a crossing by a paused campaign's spend, a monthly budget lowered by the
calendar within the month, and a flight reached still pause at once. On both paths: the
single-event statement (PostgreSQL) and batches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ads.models import Campaign, PauseReason, Trigger
from ads.services import spend as spend_module
from ads.services import spend_single
from ads.services.budget_calendar import budget_change_create
from ads.services.flights import flight_create
from ads.services.reconcile import reconcile
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput
from tests.api.helpers import ON_POSTGRES
from tests.factories import make_brand, make_campaign, make_schedule, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # a Wednesday
_keys = iter(range(1, 10**6))


@pytest.fixture
def reconciles(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """The brands each spend-triggered reconcile was asked for, on either path."""
    calls: list[tuple[int, ...]] = []
    for module in (spend_module, spend_single):
        real: Callable[..., Any] = module.reconcile_locked

        def spy(*args: Any, _real: Callable[..., Any] = real, **kwargs: Any) -> Any:
            calls.append(tuple(kwargs["scope"].brand_ids))
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, "reconcile_locked", spy)
    return calls


def events(campaign: Campaign, *amounts: str, at: datetime = NOON) -> list[SpendEventInput]:
    return [
        SpendEventInput(
            campaign_id=campaign.pk,
            amount=amount,
            occurred_at=at,
            source="late",
            external_id=f"e-{next(_keys)}",
        )
        for amount in amounts
    ]


@pytest.fixture(params=["single", "batch"])
def send(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Record spend one event per call (the single-event path where there is one) or as
    one batch of two halves."""

    def record(campaign: Campaign, amount: str, *, at: datetime = NOON) -> None:
        if request.param == "single":
            spend_record(events=events(campaign, amount, at=at), at=at)
        else:
            half = f"{float(amount) / 2:.2f}"
            spend_record(events=events(campaign, half, half, at=at), at=at)

    return record


def test_late_spend_for_campaigns_paused_for_the_budget_costs_no_reconcile(
    send: Callable[..., None], reconciles: list[tuple[int, ...]]
) -> None:
    brand = make_brand(daily="100", monthly="10000")
    search, social = make_campaign(brand), make_campaign(brand)
    send(search, "100")
    assert reconciles == [(brand.pk,)]
    assert state(search) == state(social) == ("paused", PauseReason.BRAND_DAILY_BUDGET)

    for _ in range(5):
        send(social, "7")
        send(search, "3")

    assert reconciles == [(brand.pk,)]
    assert state(social) == ("paused", PauseReason.BRAND_DAILY_BUDGET)


def test_a_paused_campaigns_spend_that_crosses_the_brand_budget_pauses_the_others(
    send: Callable[..., None], reconciles: list[tuple[int, ...]]
) -> None:
    brand = make_brand(daily="100", monthly="10000")
    # Outside its schedule at noon on a Wednesday (weekday 2): paused, still reporting.
    night = make_campaign(brand, schedule=make_schedule((2, "20:00", "23:00")))
    day = make_campaign(brand)
    reconcile(at=NOON, trigger=Trigger.ENFORCE_DAYPARTING, actor="beat")
    send(day, "40")
    assert state(night) == ("paused", PauseReason.OUTSIDE_SCHEDULE)
    assert reconciles == []

    send(night, "60")

    assert reconciles == [(brand.pk,)]
    assert state(day) == ("paused", PauseReason.BRAND_DAILY_BUDGET)
    assert state(night) == ("paused", PauseReason.BRAND_DAILY_BUDGET)


def test_a_cap_crossed_by_a_paused_campaign_changes_its_reason_once(
    send: Callable[..., None], reconciles: list[tuple[int, ...]]
) -> None:
    brand = make_brand(daily="1000", monthly="10000")
    night = make_campaign(brand, daily="50", schedule=make_schedule((2, "20:00", "23:00")))
    reconcile(at=NOON, trigger=Trigger.ENFORCE_DAYPARTING, actor="beat")
    send(night, "50")
    send(night, "10")

    assert state(night) == ("paused", PauseReason.CAMPAIGN_DAILY_BUDGET)
    assert reconciles == [(brand.pk,)]


def test_a_monthly_budget_lowered_within_the_month_is_enforced_by_the_next_spend(
    send: Callable[..., None], reconciles: list[tuple[int, ...]]
) -> None:
    # From June 15 the month's budget is 500; by then 600 is spent. With no sweep at the
    # brand's midnight (beat down), the next spend must still pause.
    brand = make_brand(daily="1000", monthly="10000")
    campaign = make_campaign(brand)
    budget_change_create(
        brand_id=brand.pk,
        target="brand",
        target_id=None,
        effective_on=date(2026, 6, 15),
        daily_budget=None,
        monthly_budget="500",
        at=NOON,
        actor="planner",
    )
    for day in (10, 11, 12, 13, 14, 14):
        at = NOON.replace(day=day)
        send(campaign, "100", at=at)
    assert state(campaign) == ("running", None)
    reconciles.clear()

    send(campaign, "1", at=NOON.replace(day=16))

    assert reconciles == [(brand.pk,)]
    assert state(campaign) == ("paused", PauseReason.BRAND_MONTHLY_BUDGET)


def test_a_flight_reached_pauses_its_campaigns_and_late_spend_after_it_costs_little(
    send: Callable[..., None], reconciles: list[tuple[int, ...]], request: pytest.FixtureRequest
) -> None:
    brand = make_brand(daily="10000", monthly="100000")
    first, second = make_campaign(brand), make_campaign(brand)
    flight_create(
        brand_id=brand.pk,
        name="June push",
        starts_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 30),
        budget="300",
        campaign_ids=[first.pk, second.pk],
        at=NOON - timedelta(days=10),
        actor="planner",
    )
    send(first, "300")
    assert state(second) == ("paused", PauseReason.FLIGHT_BUDGET)
    crossings = len(reconciles)
    assert crossings == 1

    send(second, "5")

    assert state(second) == ("paused", PauseReason.FLIGHT_BUDGET)
    # The single-event statement knows what it added to the flight; a batch does not
    # (which flight a row counts toward is decided in SQL) and re-checks the brand.
    statement = request.node.callspec.params["send"] == "single" and ON_POSTGRES
    assert len(reconciles) == (crossings if statement else crossings + 1)


def test_spend_dated_past_a_midnight_still_to_come_pauses_with_the_next_spend(
    send: Callable[..., None], reconciles: list[tuple[int, ...]]
) -> None:
    # A platform clock a little ahead: at 23:58 an event dated 00:02 fills tomorrow's total
    # (the evaluation at 23:58 judges today's, so nothing pauses). The next spend after
    # midnight finds the campaign running over its budget, and pauses it.
    brand = make_brand(daily="100", monthly="10000")
    campaign = make_campaign(brand)
    before_midnight = datetime(2026, 6, 10, 23, 58, tzinfo=UTC)
    spend_record(
        events=[
            SpendEventInput(
                campaign_id=campaign.pk,
                amount="100",
                occurred_at=before_midnight + timedelta(minutes=4),
                source="late",
                external_id=f"e-{next(_keys)}",
            )
        ],
        at=before_midnight,
    )
    assert state(campaign) == ("running", None)

    send(campaign, "5", at=before_midnight + timedelta(minutes=7))

    assert state(campaign) == ("paused", PauseReason.BRAND_DAILY_BUDGET)
