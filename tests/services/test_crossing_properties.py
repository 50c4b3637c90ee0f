"""Property: whatever mix of single events and batches arrives, for campaigns running or
already paused (a closed schedule, a cap, a shared budget, a flight, the brand's budgets),
every call leaves every campaign as the rule says: spend that takes a total to a limit pauses
in the same call, and the calls it skips (the total was already there) had nothing to do."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ads.models import Trigger
from ads.services.flights import flight_create
from ads.services.reconcile import reconcile
from ads.services.rule import Scope
from ads.services.shared_budgets import shared_budget_create
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput
from tests.factories import make_brand, make_campaign, make_schedule

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # a Wednesday
_runs = itertools.count(1)

AMOUNTS = ["0.50", "3", "9.99", "15", "25"]
event = st.tuples(st.integers(0, 4), st.sampled_from(AMOUNTS), st.integers(0, 1))
steps = st.lists(st.lists(event, min_size=1, max_size=3), min_size=1, max_size=14)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_every_call_leaves_the_campaigns_as_the_rule_says(steps: list[list[Any]]) -> None:
    run = next(_runs)
    brand = make_brand(f"Crossing {run}", daily="80", monthly="200")
    capped = make_campaign(brand, daily="30")
    shared_a = make_campaign(brand, monthly="90")
    night = make_campaign(brand, schedule=make_schedule((2, "20:00", "23:00")))
    in_flight = make_campaign(brand)
    plain = make_campaign(brand)
    campaigns = [capped, shared_a, night, in_flight, plain]
    shared_budget_create(
        brand_id=brand.pk,
        name="Pot",
        daily_budget="40",
        monthly_budget=None,
        campaign_ids=[shared_a.pk, night.pk],
        at=NOON,
        actor="t",
    )
    flight_create(
        brand_id=brand.pk,
        name="June",
        starts_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 30),
        budget="45",
        campaign_ids=[in_flight.pk],
        at=NOON,
        actor="t",
    )
    reconcile(at=NOON, trigger=Trigger.ENFORCE_DAYPARTING, actor="beat")
    for number, batch in enumerate(steps):
        spend_record(
            events=[
                SpendEventInput(
                    campaign_id=campaigns[index].pk,
                    amount=amount,
                    occurred_at=NOON - timedelta(days=days_ago),
                    source="property",
                    external_id=f"x{run}-{number}-{position}",
                )
                for position, (index, amount, days_ago) in enumerate(batch)
            ],
            at=NOON,
        )
        planned = reconcile(
            at=NOON,
            trigger=Trigger.CHECK_BUDGET,
            scope=Scope(brand_ids=(brand.pk,)),
            dry_run=True,
        )
        assert planned.transitions == [], (batch, planned.transitions)
