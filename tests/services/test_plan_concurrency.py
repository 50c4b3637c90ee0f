"""Many writers crossing a flight or shared budget at once (PostgreSQL): nothing lost, one
pause; and a staff change that commits while a single event waits for the brand's lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction

from ads.models import (
    CampaignStatusChange,
    FlightSpend,
    PauseReason,
    SharedBudgetPeriodSpend,
    SpendEvent,
)
from ads.services.flights import flight_create
from ads.services.locks import brands_lock
from ads.services.shared_budgets import campaign_shared_budget_set, shared_budget_create
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput
from ads.services.verify import totals_verify
from tests.factories import make_brand, make_campaign
from tests.services.test_concurrency import run_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
EVENTS = 60


def test_eight_single_event_writers_cross_a_flight_and_a_shared_budget_once() -> None:
    now = datetime.now(UTC)
    brand = make_brand(daily="1000000", monthly="10000000")
    flown = [make_campaign(brand) for _ in range(3)]
    pooled = [make_campaign(brand) for _ in range(3)]
    today = now.date()
    flight, _ = flight_create(
        brand_id=brand.pk,
        name="Race",
        starts_on=today,
        ends_on=today,
        budget="100",
        campaign_ids=[c.pk for c in flown],
        at=now,
        actor="t",
    )
    shared, _ = shared_budget_create(
        brand_id=brand.pk,
        name="Race pot",
        daily_budget="100",
        monthly_budget=None,
        campaign_ids=[c.pk for c in pooled],
        at=now,
        actor="t",
    )
    everyone = flown + pooled

    def writer(thread: int) -> Callable[[], None]:
        return lambda: write(thread)

    def write(thread: int) -> None:
        for n in range(EVENTS):
            campaign = everyone[(thread + n) % len(everyone)]
            spend_record(
                events=[
                    SpendEventInput(
                        campaign_id=campaign.pk,
                        amount="1.00",
                        occurred_at=now,
                        source="race",
                        external_id=f"{thread}-{n}",
                    )
                ],
                at=now,
            )

    errors = run_threads([writer(t) for t in range(THREADS)])
    assert errors == []
    assert SpendEvent.objects.filter(source="race").count() == THREADS * EVENTS
    flown_spend = SpendEvent.objects.filter(campaign__in=flown).count()
    assert FlightSpend.objects.get(flight=flight).amount == Decimal(flown_spend)
    pooled_spend = SpendEvent.objects.filter(campaign__in=pooled).count()
    day = SharedBudgetPeriodSpend.objects.get(shared_budget=shared, period="day")
    assert day.amount == Decimal(pooled_spend)
    for group, reason in ((flown, PauseReason.FLIGHT_BUDGET), (pooled, "shared_daily_budget")):
        for campaign in group:
            campaign.refresh_from_db()
            assert campaign.pause_reason == reason
            # Paused once: one audit row into the pause.
            assert (
                CampaignStatusChange.objects.filter(campaign=campaign, reason=reason).count() == 1
            )
    assert totals_verify(at=now).differences == []


def test_a_campaign_joining_while_a_single_event_waits_is_counted_exactly_once() -> None:
    now = datetime.now(UTC)
    brand = make_brand(daily="1000000", monthly="10000000")
    campaign = make_campaign(brand)
    shared, _ = shared_budget_create(
        brand_id=brand.pk,
        name="Late pot",
        daily_budget="1000",
        monthly_budget=None,
        campaign_ids=[],
        at=now,
        actor="t",
    )
    locked, release = threading.Event(), threading.Event()

    def staff() -> None:
        # Holds the brand's lock while the event's statement starts and waits for it, then
        # adds the campaign to the shared budget (rebuilding its totals) and commits.
        with transaction.atomic():
            brands_lock([brand.pk])
            locked.set()
            release.wait(10)
            campaign_shared_budget_set(
                campaign_id=campaign.pk, shared_budget_id=shared.pk, at=now, actor="t"
            )

    def event() -> None:
        locked.wait(10)
        spend_record(
            events=[
                SpendEventInput(
                    campaign_id=campaign.pk,
                    amount="7.00",
                    occurred_at=now,
                    source="race",
                    external_id="waiting",
                )
            ],
            at=now,
        )

    threads = [threading.Thread(target=target) for target in (staff, event)]
    for thread in threads:
        thread.start()
    locked.wait(10)
    time.sleep(0.5)  # the event's statement is now waiting for the brand row
    release.set()
    for thread in threads:
        thread.join(20)
    connection.close()
    day = SharedBudgetPeriodSpend.objects.get(shared_budget=shared, period="day")
    assert day.amount == Decimal("7.00")
    assert totals_verify(at=now).differences == []
    assert SpendEvent.objects.filter(source="race").count() == 1
