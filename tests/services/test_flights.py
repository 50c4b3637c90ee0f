"""Flights: a campaign in any flight runs only on its flights' dates, and pauses when the
flight's spend reaches its budget, in the same call as the crossing spend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ads.models import ConfigChange, FlightSpend, PauseReason, Trigger
from ads.services.flights import flight_create, flight_delete, flight_update
from ads.services.reconcile import reconcile
from ads.services.selectors.explain import campaign_explain
from ads.services.selectors.plans import flight_report
from ads.services.sweeps import ResetPeriod, spend_reset
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RUNNING = ("running", None)


def paused(reason: PauseReason) -> tuple[str, str]:
    return ("paused", reason.value)


def test_a_campaign_before_its_flight_pauses_and_resumes_at_the_brand_local_midnight() -> None:
    brand = make_brand(timezone="America/New_York", daily="1000", monthly="10000")
    campaign, outside = make_campaign(brand), make_campaign(brand)
    flight, transitions = flight_create(
        brand_id=brand.pk,
        name="Black Friday",
        starts_on=date(2026, 11, 27),
        ends_on=date(2026, 12, 1),
        budget="4000",
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="alice",
    )
    assert state(campaign) == paused(PauseReason.OUTSIDE_FLIGHT)
    assert state(outside) == RUNNING  # in no flight: as before
    assert [(t.campaign_id, t.to_reason) for t in transitions] == [(campaign.pk, "outside_flight")]

    # 2026-11-27 00:00 in New York is 05:00 UTC: just before, still outside.
    reconcile(at=datetime(2026, 11, 27, 4, 59, tzinfo=UTC), trigger=Trigger.CHECK_BUDGET)
    assert state(campaign) == paused(PauseReason.OUTSIDE_FLIGHT)
    spend_reset(period=ResetPeriod.DAILY, at=datetime(2026, 11, 27, 5, 0, tzinfo=UTC))
    assert state(campaign) == RUNNING

    # After the end (Dec 2, New York) it stays paused until the flight is extended.
    after = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    reconcile(at=after, trigger=Trigger.CHECK_BUDGET)
    assert state(campaign) == paused(PauseReason.OUTSIDE_FLIGHT)
    flight_update(
        flight_id=flight.pk, changes={"ends_on": date(2026, 12, 5)}, at=after, actor="bob"
    )
    assert state(campaign) == RUNNING


def test_the_flight_budget_pauses_its_campaigns_in_the_same_call_as_the_crossing_spend() -> None:
    brand = make_brand(daily="100000", monthly="1000000")
    first, second, other = make_campaign(brand), make_campaign(brand), make_campaign(brand)
    flight, _ = flight_create(
        brand_id=brand.pk,
        name="Push",
        starts_on=date(2026, 11, 20),
        ends_on=date(2026, 12, 1),
        budget="100",
        campaign_ids=[first.pk, second.pk],
        at=NOON,
        actor="alice",
    )
    spend(first, "60", at=NOON)
    assert state(first) == RUNNING
    # Spend before the flight's dates does not count toward it (nor after).
    spend(second, "500", at=NOON, occurred_at=datetime(2026, 11, 19, 12, tzinfo=UTC))
    assert FlightSpend.objects.get(flight=flight).amount == Decimal("60")
    result = spend(second, "40", at=NOON + timedelta(minutes=1))
    assert state(first) == paused(PauseReason.FLIGHT_BUDGET)
    assert state(second) == paused(PauseReason.FLIGHT_BUDGET)
    assert state(other) == RUNNING
    assert {t.campaign_id for t in result.transitions} == {first.pk, second.pk}
    explained = campaign_explain(campaign_id=first.pk, at=NOON + timedelta(minutes=2))
    assert explained is not None and explained.flight is not None
    assert (explained.should_be_reason, explained.flight.current_name) == ("flight_budget", "Push")
    (line,) = [line for line in explained.budgets if line.scope == "flight"]
    assert (line.name, line.spend, line.budget, line.exhausted) == (
        "Push",
        Decimal("100"),
        Decimal("100"),
        True,
    )

    report = flight_report(flight_id=flight.pk, at=NOON + timedelta(minutes=2))
    assert report is not None
    assert (report.spend, report.remaining, report.days_left) == (
        Decimal("100"),
        Decimal("0"),
        7,
    )

    # Raising the budget lets them run again at once.
    flight_update(flight_id=flight.pk, changes={"budget": "150"}, at=NOON, actor="bob")
    assert state(first) == RUNNING


def test_a_campaign_joining_a_flight_brings_its_spend_on_the_flights_dates() -> None:
    brand = make_brand(daily="100000", monthly="1000000")
    campaign = make_campaign(brand)
    spend(campaign, "70", at=NOON)
    flight, _ = flight_create(
        brand_id=brand.pk,
        name="Late joiner",
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 11, 30),
        budget="50",
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="alice",
    )
    assert FlightSpend.objects.get(flight=flight).amount == Decimal("70")
    assert state(campaign) == paused(PauseReason.FLIGHT_BUDGET)
    flight_update(flight_id=flight.pk, changes={"campaign_ids": []}, at=NOON, actor="alice")
    assert not FlightSpend.objects.filter(flight=flight).exists()
    assert state(campaign) == RUNNING


def test_overlapping_flights_for_one_campaign_are_refused_and_change_nothing() -> None:
    brand = make_brand()
    campaign = make_campaign(brand)
    flight_create(
        brand_id=brand.pk,
        name="November",
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 11, 30),
        budget="100",
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="alice",
    )
    with pytest.raises(ValidationError) as raised:
        flight_create(
            brand_id=brand.pk,
            name="Black Friday",
            starts_on=date(2026, 11, 27),
            ends_on=date(2026, 12, 1),
            budget="100",
            campaign_ids=[campaign.pk],
            at=NOON,
            actor="alice",
        )
    assert "overlap" in str(raised.value.message_dict["campaigns"])
    assert "November" in str(raised.value.message_dict["campaigns"])
    assert brand.flights.count() == 1
    # Adjacent dates do not overlap.
    flight_create(
        brand_id=brand.pk,
        name="December",
        starts_on=date(2026, 12, 1),
        ends_on=date(2026, 12, 31),
        budget="100",
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="alice",
    )
    assert brand.flights.count() == 2


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"ends_on": date(2026, 11, 1)}, "ends_on", "before it starts"),
        ({"budget": "0"}, "budget", "above zero"),
        ({"budget": "10.005"}, "budget", "at most 2 decimals"),
        ({"budget": "1e3"}, "budget", "plain decimal"),
        ({"name": " "}, "name", "name"),
    ],
)
def test_bad_flights_get_a_clear_error_and_change_nothing(
    changes: dict[str, object], field: str, words: str
) -> None:
    brand = make_brand()
    values: dict[str, object] = {
        "name": "Flight",
        "starts_on": date(2026, 11, 20),
        "ends_on": date(2026, 12, 1),
        "budget": "100",
    }
    values.update(changes)
    with pytest.raises(ValidationError) as raised:
        flight_create(
            brand_id=brand.pk,
            campaign_ids=[],
            at=NOON,
            actor="alice",
            **values,  # type: ignore[arg-type]
        )
    assert words in " ".join(raised.value.message_dict[field])
    assert not brand.flights.exists()
    assert not ConfigChange.objects.exists()


def test_another_brands_campaign_is_refused_without_its_name() -> None:
    brand, other = make_brand(), make_brand()
    foreign = make_campaign(other, name="Secret launch")
    with pytest.raises(ValidationError) as raised:
        flight_create(
            brand_id=brand.pk,
            name="Flight",
            starts_on=date(2026, 11, 20),
            ends_on=date(2026, 12, 1),
            budget="100",
            campaign_ids=[foreign.pk],
            at=NOON,
            actor="alice",
        )
    message = " ".join(raised.value.message_dict["campaigns"])
    assert str(foreign.pk) in message and "Secret" not in message


def test_a_flight_across_a_dst_change_and_at_utc_plus_14_uses_brand_local_dates() -> None:
    kiritimati = make_brand(timezone="Pacific/Kiritimati", daily="1000", monthly="10000")
    campaign = make_campaign(kiritimati)
    # 2026-11-24 10:00 UTC is 2026-11-25 00:00 at UTC+14.
    flight_create(
        brand_id=kiritimati.pk,
        name="Line Islands",
        starts_on=date(2026, 11, 25),
        ends_on=date(2026, 11, 25),
        budget="100",
        campaign_ids=[campaign.pk],
        at=datetime(2026, 11, 24, 9, 59, tzinfo=UTC),
        actor="alice",
    )
    assert state(campaign) == paused(PauseReason.OUTSIDE_FLIGHT)
    reconcile(at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC), trigger=Trigger.CHECK_BUDGET)
    assert state(campaign) == RUNNING
    reconcile(at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC), trigger=Trigger.CHECK_BUDGET)
    assert state(campaign) == paused(PauseReason.OUTSIDE_FLIGHT)

    # Europe/Berlin leaves summer time on 2026-10-25: the flight ends that brand-local day,
    # which is 25 hours long; the campaign runs until 23:00 UTC (midnight CET).
    berlin = make_brand(timezone="Europe/Berlin", daily="1000", monthly="10000")
    autumn = make_campaign(berlin)
    flight_create(
        brand_id=berlin.pk,
        name="Autumn",
        starts_on=date(2026, 10, 25),
        ends_on=date(2026, 10, 25),
        budget="100",
        campaign_ids=[autumn.pk],
        at=datetime(2026, 10, 24, 21, 59, tzinfo=UTC),
        actor="alice",
    )
    assert state(autumn) == paused(PauseReason.OUTSIDE_FLIGHT)
    reconcile(at=datetime(2026, 10, 24, 22, 0, tzinfo=UTC), trigger=Trigger.CHECK_BUDGET)
    assert state(autumn) == RUNNING
    reconcile(at=datetime(2026, 10, 25, 22, 59, tzinfo=UTC), trigger=Trigger.CHECK_BUDGET)
    assert state(autumn) == RUNNING
    reconcile(at=datetime(2026, 10, 25, 23, 0, tzinfo=UTC), trigger=Trigger.CHECK_BUDGET)
    assert state(autumn) == paused(PauseReason.OUTSIDE_FLIGHT)


def test_manual_pause_outranks_the_flight_and_deleting_the_flight_frees_its_campaigns() -> None:
    brand = make_brand()
    campaign = make_campaign(brand, enabled=False)
    flight, _ = flight_create(
        brand_id=brand.pk,
        name="Later",
        starts_on=date(2026, 12, 20),
        ends_on=date(2026, 12, 31),
        budget="100",
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="alice",
    )
    assert state(campaign) == paused(PauseReason.MANUAL)
    campaign.enabled = True
    campaign.save()
    reconcile(at=NOON, trigger=Trigger.CHECK_BUDGET)
    assert state(campaign) == paused(PauseReason.OUTSIDE_FLIGHT)
    flight_delete(flight_id=flight.pk, at=NOON, actor="alice")
    assert state(campaign) == RUNNING
    actions = list(ConfigChange.objects.order_by("id").values_list("action", "actor"))
    assert actions == [("created", "alice"), ("deleted", "alice")]


@pytest.mark.drift
def test_verify_totals_checks_flight_and_shared_budget_totals_and_fix_repairs_them() -> None:
    from ads.models import SharedBudgetPeriodSpend
    from ads.services.shared_budgets import shared_budget_create
    from ads.services.verify import totals_verify

    brand = make_brand(daily="100000", monthly="1000000")
    campaign = make_campaign(brand)
    flight, _ = flight_create(
        brand_id=brand.pk,
        name="Checked",
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 11, 30),
        budget="1000",
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="a",
    )
    shared, _ = shared_budget_create(
        brand_id=brand.pk,
        name="Pot",
        daily_budget="1000",
        monthly_budget=None,
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="a",
    )
    spend(campaign, "70", at=NOON)
    clean = totals_verify(at=NOON)
    assert clean.differences == []
    assert (clean.checked["flight"], clean.checked["shared_budget"]) == (1, 2)

    FlightSpend.objects.filter(flight=flight).update(amount=Decimal("1"))
    SharedBudgetPeriodSpend.objects.filter(shared_budget=shared, period="day").delete()
    found = totals_verify(at=NOON)
    assert sorted((d.owner_kind, d.period) for d in found.differences) == [
        ("flight", "flight"),
        ("shared_budget", "day"),
    ]
    totals_verify(at=NOON, fix=True)
    assert totals_verify(at=NOON).differences == []
    assert FlightSpend.objects.get(flight=flight).amount == Decimal("70")


def test_spend_that_would_overflow_a_flights_total_is_refused_not_a_crash() -> None:
    from ads.services.spend import spend_record
    from ads.services.spend_events import SpendEventInput

    brand = make_brand(daily="1000000000000", monthly="1000000000000")
    campaign = make_campaign(brand)
    flight, _ = flight_create(
        brand_id=brand.pk,
        name="Across months",
        starts_on=date(2026, 10, 1),
        ends_on=date(2026, 11, 30),
        budget="1000000000000",
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="a",
    )
    days = [datetime(2026, 10, 31, 12, tzinfo=UTC)] * 5 + [datetime(2026, 11, 1, 12, tzinfo=UTC)]
    days += [datetime(2026, 11, 1, 12, tzinfo=UTC)] * 4
    result = spend_record(
        events=[
            SpendEventInput(
                campaign_id=campaign.pk,
                amount="1000000000000",
                occurred_at=when,
                source="huge",
                external_id=f"h{n}",
            )
            for n, when in enumerate(days)
        ],
        at=NOON,
    )
    refused = [o for o in result.outcomes if o.status == "rejected"]
    assert refused and all("flight" in (o.reason or "") for o in refused)
    stored = FlightSpend.objects.get(flight=flight).amount
    assert stored == Decimal(1000000000000) * (len(days) - len(refused))
