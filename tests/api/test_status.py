"""GET /api/v1/campaigns/{id} and /api/v1/brands/{id}/budget: state, budgets, schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from tests.api.helpers import NOON, ApiClient
from tests.factories import make_brand, make_campaign, make_schedule, spend

pytestmark = pytest.mark.django_db

WEDNESDAY, THURSDAY = 2, 3


def line(
    scope: str, period: str, start: str, spend: str, budget: str, remaining: str
) -> dict[str, Any]:
    return {
        "scope": scope,
        "period": period,
        "period_start": start,
        "spend": spend,
        "budget": budget,
        "remaining": remaining,
        "exhausted": remaining == "0.00",
        "name": None,
        "period_end": None,
    }


def test_a_campaign_shows_its_state_and_the_brand_budget_lines(api: ApiClient) -> None:
    brand = make_brand("Acme", timezone="America/New_York", daily="100", monthly="1000")
    campaign = make_campaign(brand, "Summer")
    campaign.external_id = "g-1"
    campaign.save()
    spend(campaign, "30", at=NOON)

    response = api.get(f"/campaigns/{campaign.pk}")

    assert response.status_code == 200
    assert response.json() == {
        "id": campaign.pk,
        "name": "Summer",
        "external_id": "g-1",
        "brand": {
            "id": brand.pk,
            "name": "Acme",
            "timezone": "America/New_York",
            "currency": "USD",
        },
        "enabled": True,
        "status": "running",
        "pause_reason": None,
        "status_changed_at": None,
        "evaluated_at": "2026-06-10T12:00:00Z",
        "local_time": "2026-06-10T08:00:00-04:00",
        "should_be_status": "running",
        "should_be_reason": None,
        "budgets": [
            line("brand", "day", "2026-06-10", "30.00", "100.00", "70.00"),
            line("brand", "month", "2026-06-01", "30.00", "1000.00", "970.00"),
        ],
        "schedule": None,
        "flight": None,
        # Its settings (for the management API; the same read for every token).
        "daily_budget": None,
        "monthly_budget": None,
        "shared_budget": None,
    }


def test_a_campaign_with_caps_also_shows_its_cap_lines(api: ApiClient) -> None:
    brand = make_brand(daily="1000", monthly="10000")
    campaign = make_campaign(brand, daily="20", monthly="200")
    spend(campaign, "25", at=NOON)

    body = api.get(f"/campaigns/{campaign.pk}").json()

    assert (body["status"], body["pause_reason"]) == ("paused", "campaign_daily_budget")
    assert (body["should_be_status"], body["should_be_reason"]) == (
        "paused",
        "campaign_daily_budget",
    )
    assert body["status_changed_at"] == "2026-06-10T12:00:00Z"
    assert body["budgets"] == [
        line("brand", "day", "2026-06-10", "25.00", "1000.00", "975.00"),
        line("brand", "month", "2026-06-01", "25.00", "10000.00", "9975.00"),
        line("campaign", "day", "2026-06-10", "25.00", "20.00", "0.00"),
        line("campaign", "month", "2026-06-01", "25.00", "200.00", "175.00"),
    ]


def test_only_the_caps_a_campaign_has_are_shown(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(), monthly="300")

    budgets = api.get(f"/campaigns/{campaign.pk}").json()["budgets"]

    assert [(b["scope"], b["period"]) for b in budgets] == [
        ("brand", "day"),
        ("brand", "month"),
        ("campaign", "month"),
    ]


def test_the_schedule_windows_are_given_in_the_brands_time_zone(
    api: ApiClient, clock: time_machine.Traveller
) -> None:
    schedule = make_schedule((WEDNESDAY, "06:00", "10:00"), (THURSDAY, "22:00", "02:00"))
    brand = make_brand(timezone="America/New_York")
    campaign = make_campaign(brand, schedule=schedule)
    wednesday = {
        "weekday": WEDNESDAY,
        "opens_at": "2026-06-10T06:00:00-04:00",
        "closes_at": "2026-06-10T10:00:00-04:00",
    }
    thursday_night = {
        "weekday": THURSDAY,
        "opens_at": "2026-06-11T22:00:00-04:00",
        "closes_at": "2026-06-12T02:00:00-04:00",
    }

    # NOON is 08:00 in New York, inside Wednesday's window.
    inside = api.get(f"/campaigns/{campaign.pk}").json()
    clock.move_to(datetime(2026, 6, 10, 15, 0, tzinfo=UTC))  # 11:00 in New York
    outside = api.get(f"/campaigns/{campaign.pk}").json()

    assert inside["schedule"] == {
        "id": schedule.pk,
        "name": schedule.name,
        "open": True,
        "current_window": wednesday,
        "next_window": thursday_night,
    }
    assert inside["should_be_status"] == "running"
    assert outside["local_time"] == "2026-06-10T11:00:00-04:00"
    assert outside["schedule"]["open"] is False
    assert outside["schedule"]["current_window"] is None
    assert outside["schedule"]["next_window"] == thursday_night
    assert (outside["should_be_status"], outside["should_be_reason"]) == (
        "paused",
        "outside_schedule",
    )


def test_a_window_past_midnight_is_current_after_midnight_and_winter_has_its_own_offset(
    api: ApiClient, clock: time_machine.Traveller
) -> None:
    # Friday 2026-01-16 01:00 in New York (EST, -05:00): inside Thursday's 22:00-02:00.
    clock.move_to(datetime(2026, 1, 16, 6, 0, tzinfo=UTC))
    schedule = make_schedule((THURSDAY, "22:00", "02:00"))
    campaign = make_campaign(make_brand(timezone="America/New_York"), schedule=schedule)

    body = api.get(f"/campaigns/{campaign.pk}").json()

    assert body["local_time"] == "2026-01-16T01:00:00-05:00"
    assert body["schedule"]["open"] is True
    assert body["schedule"]["current_window"] == {
        "weekday": THURSDAY,
        "opens_at": "2026-01-15T22:00:00-05:00",
        "closes_at": "2026-01-16T02:00:00-05:00",
    }
    assert body["schedule"]["next_window"]["opens_at"] == "2026-01-22T22:00:00-05:00"


def test_an_unknown_campaign_is_a_404(api: ApiClient) -> None:
    response = api.get("/campaigns/987654")

    assert response.status_code == 404
    assert response.json()["detail"] == "no campaign 987654 for this token"


def test_a_campaign_outside_a_scoped_tokens_brands_is_a_404(
    api_for: Callable[..., ApiClient],
) -> None:
    mine, theirs = make_brand("Mine"), make_brand("Theirs")
    my_campaign, their_campaign = make_campaign(mine), make_campaign(theirs)
    scoped = api_for(mine)

    assert scoped.get(f"/campaigns/{my_campaign.pk}").status_code == 200
    response = scoped.get(f"/campaigns/{their_campaign.pk}")

    assert response.status_code == 404
    assert response.json()["detail"] == f"no campaign {their_campaign.pk} for this token"
    assert "Theirs" not in response.content.decode()


# --- Brand budget ---------------------------------------------------------------------------


def test_the_brand_budget_shows_spend_remaining_and_a_straight_line_projection(
    api: ApiClient,
) -> None:
    brand = make_brand("Acme", timezone="America/New_York", daily="100", monthly="1000")
    campaign = make_campaign(brand)
    spend(campaign, "40", at=datetime(2026, 6, 3, 15, 0, tzinfo=UTC))
    spend(campaign, "30", at=NOON)

    response = api.get(f"/brands/{brand.pk}/budget")

    assert response.status_code == 200
    # NOON is 08:00 in New York: 8 of the day's 24 hours, and 9 days 8 hours = 224 of June's
    # 720 hours have passed. Day: 30 / (8/24) = 90. Month: 70 / (224/720) = 225.
    assert response.json() == {
        "brand": {
            "id": brand.pk,
            "name": "Acme",
            "timezone": "America/New_York",
            "currency": "USD",
        },
        "evaluated_at": "2026-06-10T12:00:00Z",
        "local_time": "2026-06-10T08:00:00-04:00",
        "day": {
            "period_start": "2026-06-10",
            "starts_at": "2026-06-10T00:00:00-04:00",
            "ends_at": "2026-06-11T00:00:00-04:00",
            "spend": "30.00",
            "budget": "100.00",
            "remaining": "70.00",
            "overspend": "0.00",
            "projected": "90.00",
        },
        "month": {
            "period_start": "2026-06-01",
            "starts_at": "2026-06-01T00:00:00-04:00",
            "ends_at": "2026-07-01T00:00:00-04:00",
            "spend": "70.00",
            "budget": "1000.00",
            "remaining": "930.00",
            "overspend": "0.00",
            "projected": "225.00",
        },
    }


def test_spend_past_the_budget_is_shown_as_overspend(api: ApiClient) -> None:
    brand = make_brand(timezone="America/New_York", daily="100", monthly="1000")
    first, second = make_campaign(brand), make_campaign(brand)
    spend(first, "40", at=datetime(2026, 6, 3, 15, 0, tzinfo=UTC))
    spend(first, "60", at=NOON - timedelta(hours=1))
    spend(second, "70", at=NOON)  # crosses the day's 100 and is recorded in full

    body = api.get(f"/brands/{brand.pk}/budget").json()

    # Day: 130 / (8/24) = 390. Month: 170 / (224/720) = 546.428571428... -> 6 places.
    assert {k: body["day"][k] for k in ("spend", "remaining", "overspend", "projected")} == {
        "spend": "130.00",
        "remaining": "0.00",
        "overspend": "30.00",
        "projected": "390.00",
    }
    assert {k: body["month"][k] for k in ("spend", "remaining", "overspend", "projected")} == {
        "spend": "170.00",
        "remaining": "830.00",
        "overspend": "0.00",
        "projected": "546.428571",
    }


def test_the_projection_uses_the_real_length_of_a_23_hour_day(
    api: ApiClient, clock: time_machine.Traveller
) -> None:
    # 2026-03-08, New York springs forward: the day runs 05:00Z to 04:00Z next day, 23 hours.
    clock.move_to(datetime(2026, 3, 8, 16, 0, tzinfo=UTC))  # 12:00 EDT, 11 hours in
    brand = make_brand(timezone="America/New_York", daily="100", monthly="1000")
    spend(make_campaign(brand), "11", at=datetime(2026, 3, 8, 16, 0, tzinfo=UTC))

    day = api.get(f"/brands/{brand.pk}/budget").json()["day"]

    assert (day["starts_at"], day["ends_at"]) == (
        "2026-03-08T00:00:00-05:00",
        "2026-03-09T00:00:00-04:00",
    )
    assert day["projected"] == "23.00"  # 11 / (11/23)


def test_at_the_first_instant_of_a_period_there_is_no_projection(
    api: ApiClient, clock: time_machine.Traveller
) -> None:
    clock.move_to(datetime(2026, 6, 1, 4, 0, tzinfo=UTC))  # midnight in New York
    brand = make_brand(timezone="America/New_York")

    body = api.get(f"/brands/{brand.pk}/budget").json()

    assert (body["day"]["projected"], body["month"]["projected"]) == (None, None)
    assert body["day"]["spend"] == "0.00"


def test_an_unknown_brand_is_a_404(api: ApiClient) -> None:
    response = api.get("/brands/987654/budget")

    assert response.status_code == 404
    assert response.json()["detail"] == "no brand 987654 for this token"


def test_a_brand_outside_a_scoped_tokens_brands_is_a_404(
    api_for: Callable[..., ApiClient],
) -> None:
    mine, theirs = make_brand("Mine"), make_brand("Theirs")
    scoped = api_for(mine)

    assert scoped.get(f"/brands/{mine.pk}/budget").status_code == 200
    response = scoped.get(f"/brands/{theirs.pk}/budget")

    assert response.status_code == 404
    assert response.json()["detail"] == f"no brand {theirs.pk} for this token"
