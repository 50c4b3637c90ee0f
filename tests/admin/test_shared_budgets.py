"""The shared budget pages: saved and deleted through the shared budget service, a campaign
already in another one refused by name, bars of its spend against the budgets in force."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ads.models import Brand, Campaign, ConfigChange, SharedBudget
from ads.services.shared_budgets import shared_budget_create
from tests.admin.conftest import NOON, text
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db


def form(brand: Brand | None, *campaigns: Campaign, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Search pot",
        "daily_budget": "50",
        "monthly_budget": "",
        "campaigns": [c.pk for c in campaigns],
    }
    if brand is not None:
        data["brand"] = brand.pk
    return {**data, **values}


def a_pot(brand: Brand, *campaigns: Campaign, name: str = "Pot", daily: str = "50") -> SharedBudget:
    pot, _ = shared_budget_create(
        brand_id=brand.pk,
        name=name,
        daily_budget=daily,
        monthly_budget=None,
        campaign_ids=[c.pk for c in campaigns],
        at=NOON,
        actor="t",
    )
    return pot


def errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, "the form was expected back with its errors"
    return {k: list(v) for k, v in response.context["adminform"].form.errors.items()}


def test_adding_a_shared_budget_goes_through_the_service_and_enforces_at_once(
    staff: Client,
) -> None:
    brand = make_brand("Acme", daily="1000", monthly="10000")
    search, social = make_campaign(brand, "Search"), make_campaign(brand, "Social")
    spend(search, "30", at=NOON)
    spend(social, "25", at=NOON)

    response = staff.post("/admin/ads/sharedbudget/add/", form(brand, search, social), follow=True)

    pot = SharedBudget.objects.get()
    assert set(pot.campaigns.all()) == {search, social}
    assert state(search) == state(social) == ("paused", "shared_daily_budget")
    assert "Enforced at once: 2 campaign(s) changed state." in response.content.decode()
    assert ConfigChange.objects.get(object_type="shared_budget").actor == "admin"


def test_a_campaign_already_in_another_shared_budget_is_refused_by_name(staff: Client) -> None:
    brand = make_brand("Acme")
    search = make_campaign(brand, "Search")
    a_pot(brand, search, name="First pot")

    found = errors(staff.post("/admin/ads/sharedbudget/add/", form(brand, search)))

    assert found == {
        "campaigns": [
            "Campaign 'Search' is already in shared budget 'First pot': remove it there first "
            "(a campaign shares at most one)."
        ]
    }
    assert SharedBudget.objects.count() == 1


def test_a_shared_budget_needs_a_budget_above_zero(staff: Client) -> None:
    brand = make_brand("Acme")

    none = errors(staff.post("/admin/ads/sharedbudget/add/", form(brand, daily_budget="")))
    zero = errors(staff.post("/admin/ads/sharedbudget/add/", form(brand, daily_budget="0")))

    assert none == {"daily_budget": ["Give a daily budget, a monthly budget or both."]}
    assert list(zero) == ["daily_budget"] and "above zero" in zero["daily_budget"][0]
    assert not SharedBudget.objects.exists()


def test_a_campaign_of_another_brand_is_refused(staff: Client) -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")

    found = errors(
        staff.post("/admin/ads/sharedbudget/add/", form(acme, make_campaign(globex, "Theirs")))
    )

    assert found == {
        "campaigns": [
            "Only campaigns of Acme can be included: Theirs (Globex) are of another brand."
        ]
    }


def test_the_page_shows_its_spend_against_the_budgets_as_bars(staff: Client) -> None:
    brand = make_brand("Acme", daily="1000", monthly="10000")
    search = make_campaign(brand, "Search")
    pot = a_pot(brand, search, daily="100")
    spend(search, "40", at=NOON)

    page = text(staff.get(f"/admin/ads/sharedbudget/{pot.pk}/change/").content.decode())

    assert "Today: 40 % 40.00 / 100.00 USD" in page
    assert "This month: 40.00 USD (no cap)" in page
    assert "Campaigns: Search" in page


def test_changing_its_campaigns_goes_through_the_service(staff: Client) -> None:
    brand = make_brand("Acme")
    search, social = make_campaign(brand, "Search"), make_campaign(brand, "Social")
    pot = a_pot(brand, search)

    response = staff.post(
        f"/admin/ads/sharedbudget/{pot.pk}/change/", form(None, social, name="Pot")
    )

    assert response.status_code == 302
    assert list(pot.campaigns.all()) == [social]
    assert ConfigChange.objects.filter(object_type="shared_budget", action="changed").exists()


def test_deleting_a_shared_budget_lets_its_campaigns_leave_it(staff: Client) -> None:
    brand = make_brand("Acme", daily="1000", monthly="10000")
    search = make_campaign(brand, "Search")
    pot = a_pot(brand, search, daily="10")
    spend(search, "10", at=NOON)
    assert state(search) == ("paused", "shared_daily_budget")

    confirm = staff.get(f"/admin/ads/sharedbudget/{pot.pk}/delete/").content.decode()
    response = staff.post(f"/admin/ads/sharedbudget/{pot.pk}/delete/", {"post": "yes"})

    assert "protected" not in confirm
    assert response.status_code == 302
    assert not SharedBudget.objects.exists()
    assert state(search) == ("running", None)
