"""The management API's shared budgets: created with their campaigns, joined from either
side, one already in another refused with a 422 naming it (never moved silently), changed,
deleted, each enforced at once."""

from __future__ import annotations

from typing import Any

import pytest

from ads.models import Campaign, ConfigChange, SharedBudget
from tests.api.helpers import NOON
from tests.api.test_manage_brands import manager
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db


def test_a_shared_budget_pauses_its_campaigns_at_once_when_reached_and_answers_figures() -> None:
    brand = make_brand("Acme", daily="1000", monthly="10000")
    first, second = make_campaign(brand, "One"), make_campaign(brand, "Two")
    spend(first, "30", at=NOON)
    spend(second, "25", at=NOON)

    response = manager(brand, name="planner").post(
        f"/brands/{brand.pk}/shared-budgets",
        {"name": "Pot", "daily_budget": "50", "campaigns": [second.pk, first.pk]},
    )

    assert response.status_code == 201
    body = response.json()
    shared = SharedBudget.objects.get()
    assert {key: body[key] for key in body if key != "transitions"} == {
        "id": shared.pk,
        "brand": brand.pk,
        "name": "Pot",
        "daily_budget": "50.00",
        "monthly_budget": None,
        "campaigns": [first.pk, second.pk],
        "day_spend": "55.00",
        "month_spend": "55.00",
        "daily_budget_in_force": "50.00",
        "monthly_budget_in_force": None,
    }
    assert sorted(body["transitions"], key=lambda t: t["campaign"]) == [
        {"campaign": first.pk, "to": "paused", "reason": "shared_daily_budget"},
        {"campaign": second.pk, "to": "paused", "reason": "shared_daily_budget"},
    ]
    assert state(first) == ("paused", "shared_daily_budget")
    change = ConfigChange.objects.get(object_type="shared_budget")
    assert (change.actor, change.action) == ("api:planner", "created")


def test_a_campaign_in_another_shared_budget_is_refused_by_either_side_naming_it() -> None:
    brand = make_brand("Acme")
    campaign = make_campaign(brand, "Shoes")
    client = manager(brand)
    first = client.post(
        f"/brands/{brand.pk}/shared-budgets",
        {"name": "First", "daily_budget": "50", "campaigns": [campaign.pk]},
    ).json()["id"]
    second = client.post(
        f"/brands/{brand.pk}/shared-budgets", {"name": "Second", "monthly_budget": "500"}
    ).json()["id"]

    by_budget = client.patch(f"/shared-budgets/{second}", {"campaigns": [campaign.pk]})
    by_campaign = client.patch(f"/campaigns/{campaign.pk}", {"shared_budget": second})

    assert by_budget.status_code == by_campaign.status_code == 422
    assert by_budget.json()["detail"] == (
        "campaigns: Campaign 'Shoes' is already in shared budget 'First': remove it there "
        "first (a campaign shares at most one)."
    )
    assert by_campaign.json()["detail"].startswith("shared_budget: ")
    assert "'First'" in by_campaign.json()["detail"]
    assert Campaign.objects.get().shared_budget_id == first


def test_a_campaign_joins_and_leaves_from_its_own_side() -> None:
    brand = make_brand("Acme")
    campaign = make_campaign(brand)
    spend(campaign, "60", at=NOON)
    client = manager(brand)
    shared = client.post(
        f"/brands/{brand.pk}/shared-budgets", {"name": "Pot", "daily_budget": "50"}
    ).json()["id"]

    joined = client.patch(f"/campaigns/{campaign.pk}", {"shared_budget": shared})
    left = client.patch(f"/campaigns/{campaign.pk}", {"shared_budget": None})

    assert joined.status_code == 200
    assert joined.json()["shared_budget"] == {"id": shared, "name": "Pot"}
    assert joined.json()["transitions"] == [
        {"campaign": campaign.pk, "to": "paused", "reason": "shared_daily_budget"}
    ]
    assert left.json()["transitions"] == [
        {"campaign": campaign.pk, "to": "running", "reason": None}
    ]
    assert client.get(f"/shared-budgets/{shared}").json()["campaigns"] == []


def test_another_brands_shared_budget_is_a_404_and_cannot_be_joined() -> None:
    brand, other = make_brand("Acme"), make_brand("Globex")
    theirs = (
        manager(other)
        .post(f"/brands/{other.pk}/shared-budgets", {"name": "Secret pot", "daily_budget": "5"})
        .json()["id"]
    )
    campaign = make_campaign(brand)
    client = manager(brand)

    for response in (
        client.get(f"/shared-budgets/{theirs}"),
        client.patch(f"/shared-budgets/{theirs}", {"name": "Mine"}),
        client.delete(f"/shared-budgets/{theirs}"),
    ):
        assert response.status_code == 404
    joined = client.patch(f"/campaigns/{campaign.pk}", {"shared_budget": theirs})
    assert joined.status_code == 422
    assert joined.json()["detail"] == f"shared_budget: no shared budget {theirs} in this brand"
    assert "Secret" not in joined.content.decode()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"name": "Pot"}, "Give a daily budget, a monthly budget or both."),
        ({"name": "Pot", "daily_budget": "50", "monthly_budget": "40"}, "cannot be below"),
        ({"name": "Pot", "daily_budget": "0"}, "must be above zero"),
        ({"name": "Pot", "daily_budget": "1.234"}, "at most 2 decimals"),
        ({"name": "Taken", "daily_budget": "5"}, "already has a shared budget named 'Taken'"),
        ({"daily_budget": "5"}, "name"),
    ],
)
def test_bad_shared_budgets_are_refused_and_create_nothing(body: dict[str, Any], why: str) -> None:
    brand = make_brand("Acme")
    client = manager(brand)
    client.post(f"/brands/{brand.pk}/shared-budgets", {"name": "Taken", "daily_budget": "5"})

    response = client.post(f"/brands/{brand.pk}/shared-budgets", body)

    assert response.status_code == 422
    assert why in response.json()["detail"]
    assert SharedBudget.objects.count() == 1


def test_clearing_one_budget_keeps_the_other_and_both_cannot_go() -> None:
    brand = make_brand("Acme")
    client = manager(brand)
    created = client.post(
        f"/brands/{brand.pk}/shared-budgets",
        {"name": "Pot", "daily_budget": "5", "monthly_budget": "50"},
    )
    shared = created.json()["id"]

    cleared = client.patch(
        f"/shared-budgets/{shared}", {"daily_budget": None}, if_match=created["ETag"]
    )
    both = client.patch(f"/shared-budgets/{shared}", {"monthly_budget": None})
    stale = client.patch(f"/shared-budgets/{shared}", {"name": "X"}, if_match=created["ETag"])

    assert cleared.status_code == 200
    assert (cleared.json()["daily_budget"], cleared.json()["monthly_budget"]) == (None, "50.00")
    assert both.status_code == 422
    assert stale.status_code == 412
    assert SharedBudget.objects.get().name == "Pot"


def test_deleting_a_shared_budget_frees_its_campaigns() -> None:
    brand = make_brand("Acme")
    campaign = make_campaign(brand)
    spend(campaign, "10", at=NOON)
    client = manager(brand)
    shared = client.post(
        f"/brands/{brand.pk}/shared-budgets",
        {"name": "Pot", "daily_budget": "5", "campaigns": [campaign.pk]},
    ).json()["id"]

    deleted = client.delete(f"/shared-budgets/{shared}")

    assert deleted.json() == {
        "id": shared,
        "deleted": True,
        "transitions": [{"campaign": campaign.pk, "to": "running", "reason": None}],
    }
    assert Campaign.objects.get().shared_budget_id is None
    assert [
        item["id"] for item in client.get(f"/brands/{brand.pk}/shared-budgets").json()["items"]
    ] == []


def test_a_campaign_created_into_a_shared_budget_joins_it_and_is_audited_once() -> None:
    brand = make_brand("Acme")
    client = manager(brand, name="sheet")
    shared = client.post(
        f"/brands/{brand.pk}/shared-budgets", {"name": "Pot", "monthly_budget": "500"}
    ).json()["id"]

    created = client.post("/campaigns", {"brand": brand.pk, "name": "New", "shared_budget": shared})

    assert created.status_code == 201
    assert created.json()["shared_budget"] == {"id": shared, "name": "Pot"}
    assert client.get(f"/shared-budgets/{shared}").json()["campaigns"] == [created.json()["id"]]
    audit = ConfigChange.objects.get(object_type="campaign")
    assert (audit.actor, audit.action, audit.changes["shared_budget"]) == (
        "api:sheet",
        "created",
        [None, shared],
    )
