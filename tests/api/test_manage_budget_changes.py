"""The management API's budget calendar: a change names its target (the brand, a campaign
or a shared budget); one effective today applies at once with its transitions, a future
one at the brand's midnight by itself; past ones are history (refused), future ones can be
deleted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from ads.models import BudgetChange, ConfigChange
from tests.api.helpers import NOON
from tests.api.test_manage_brands import manager
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db


def test_a_change_effective_today_applies_at_once_with_its_transitions() -> None:
    brand = make_brand("Acme", daily="100", monthly="1000")
    campaign = make_campaign(brand)
    spend(campaign, "60", at=NOON)

    response = manager(brand, name="plan").post(
        f"/brands/{brand.pk}/budget-changes",
        {"target": "brand", "effective_on": "2026-06-10", "daily_budget": "50"},
    )

    assert response.status_code == 201
    body = response.json()
    change = BudgetChange.objects.get()
    assert body == {
        "id": change.pk,
        "brand": brand.pk,
        "target": "brand",
        "effective_on": "2026-06-10",
        "daily_budget": "50.00",
        "monthly_budget": None,
        "created_by": "api:plan",
        "created_at": "2026-06-10T12:00:00Z",
        "upcoming": False,
        "transitions": [{"campaign": campaign.pk, "to": "paused", "reason": "brand_daily_budget"}],
    }
    assert response["ETag"].startswith('"')
    in_force = manager(brand).get(f"/brands/{brand.pk}").json()
    assert in_force["daily_budget"] == "100.00"
    assert in_force["budgets_in_force"] == {"daily_budget": "50.00", "monthly_budget": "1000.00"}
    audit = ConfigChange.objects.get(object_type="budget_change")
    assert (audit.actor, audit.action) == ("api:plan", "created")


def test_a_future_change_takes_effect_at_the_brands_midnight_by_itself(
    clock: time_machine.Traveller,
) -> None:
    brand = make_brand("Acme", timezone="Asia/Tokyo", daily="100", monthly="1000")
    campaign = make_campaign(brand, daily="80")
    client = manager(brand)
    spend(campaign, "30", at=NOON)

    response = client.post(
        f"/brands/{brand.pk}/budget-changes",
        {"target": {"campaign": campaign.pk}, "effective_on": "2026-06-11", "daily_budget": "20"},
    )

    assert response.json()["upcoming"] is True and response.json()["transitions"] == []
    # 21:00 in Tokyo: at 15:00 UTC it is Thursday the 11th there, and the cap in force is 20.
    clock.move_to(NOON + timedelta(hours=3, minutes=1))
    spend(campaign, "25", at=NOON + timedelta(hours=3, minutes=1))
    assert state(campaign) == ("paused", "campaign_daily_budget")
    listed = client.get(f"/brands/{brand.pk}/budget-changes").json()["items"]
    assert [(item["target"], item["upcoming"]) for item in listed] == [
        ({"campaign": campaign.pk}, False)
    ]


@pytest.mark.parametrize(
    ("body", "field", "why"),
    [
        ({"effective_on": "2026-06-09"}, "effective_on", "is in the past for this brand"),
        ({"daily_budget": "0"}, "daily_budget", "above zero"),
        ({"daily_budget": "10.5", "currency": "JPY"}, "daily_budget", "JPY amounts have no"),
        ({"daily_budget": None}, "daily_budget", "Give a daily budget, a monthly budget or both"),
        ({"monthly_budget": "5", "daily_budget": "10"}, "monthly_budget", "cannot be below"),
        ({"target": "everyone"}, "target", "brand"),
        ({"target": {"campaign": 999999}}, "target", "No campaign of this brand has id 999999"),
        ({"target": {"shared_budget": 999999}}, "target", "No shared budget of this brand"),
        ({"target": {"flight": 1}}, "target", "Extra inputs"),
        ({"effective_on": "2026-06-31"}, "effective_on", "is not a date"),
    ],
)
def test_bad_budget_changes_are_refused_naming_the_field_and_plan_nothing(
    body: dict[str, Any], field: str, why: str
) -> None:
    currency = body.pop("currency", "USD")
    brand = make_brand("Acme", currency=currency, daily="100", monthly="1000")
    request = {"target": "brand", "effective_on": "2026-06-12", "daily_budget": "50", **body}

    response = manager(brand).post(f"/brands/{brand.pk}/budget-changes", request)

    assert response.status_code == 422, response.json()
    assert response.json()["detail"].startswith(field)
    assert why in response.json()["detail"]
    assert not BudgetChange.objects.exists()


def test_a_target_of_another_brand_is_refused_without_its_name() -> None:
    brand, other = make_brand("Acme"), make_brand("Globex")
    theirs = make_campaign(other, "Secret")

    response = manager(brand).post(
        f"/brands/{brand.pk}/budget-changes",
        {"target": {"campaign": theirs.pk}, "effective_on": "2026-06-12", "daily_budget": "5"},
    )

    assert response.status_code == 422
    assert "Secret" not in response.content.decode()


def test_a_future_change_can_be_deleted_a_past_one_is_history() -> None:
    brand = make_brand("Acme")
    client = manager(brand)
    future = client.post(
        f"/brands/{brand.pk}/budget-changes",
        {"target": "brand", "effective_on": "2026-07-01", "monthly_budget": "2000"},
    )
    today = client.post(
        f"/brands/{brand.pk}/budget-changes",
        {"target": "brand", "effective_on": "2026-06-10", "monthly_budget": "1500"},
    )

    refused = client.delete(f"/budget-changes/{today.json()['id']}")
    deleted = client.delete(f"/budget-changes/{future.json()['id']}", if_match=future["ETag"])

    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("effective_on: This change took effect on")
    assert deleted.status_code == 200
    assert deleted.json() == {"id": future.json()["id"], "deleted": True, "transitions": []}
    assert list(BudgetChange.objects.values_list("effective_on", flat=True)) == [NOON.date()]


def test_deleting_with_a_stale_etag_or_another_brands_change_is_refused() -> None:
    brand, other = make_brand("Acme"), make_brand("Globex")
    mine = (
        manager(brand)
        .post(
            f"/brands/{brand.pk}/budget-changes",
            {"target": "brand", "effective_on": "2026-07-01", "daily_budget": "5"},
        )
        .json()["id"]
    )
    theirs = (
        manager(other)
        .post(
            f"/brands/{other.pk}/budget-changes",
            {"target": "brand", "effective_on": "2026-07-01", "daily_budget": "5"},
        )
        .json()["id"]
    )
    client = manager(brand)

    assert client.delete(f"/budget-changes/{mine}", if_match='"stale"').status_code == 412
    assert client.delete(f"/budget-changes/{theirs}").status_code == 404
    assert client.get(f"/brands/{other.pk}/budget-changes").status_code == 404
    assert BudgetChange.objects.count() == 2
