"""The budget calendar pages: future changes planned, changed and deleted through the
calendar service; those in force since today or before are read only, and changing or
deleting one is refused in words."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.test import Client

from ads.models import Brand, BudgetChange, BudgetTarget, ConfigChange
from ads.services.budget_calendar import budget_change_create
from ads.services.shared_budgets import shared_budget_create
from tests.admin.conftest import NOON, text
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db


def planned(
    brand: Brand, on: date, *, monthly: str | None = "5000", daily: str | None = None
) -> BudgetChange:
    change, _ = budget_change_create(
        brand_id=brand.pk,
        target=BudgetTarget.BRAND,
        target_id=None,
        effective_on=on,
        daily_budget=daily,
        monthly_budget=monthly,
        at=NOON,
        actor="planner",
    )
    return change


def add_form(brand: Brand, **values: Any) -> dict[str, Any]:
    return {
        "brand": brand.pk,
        "target": "brand",
        "campaign": "",
        "shared_budget": "",
        "effective_on": "2026-07-01",
        "daily_budget": "",
        "monthly_budget": "5000",
        **values,
    }


def errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, "the form was expected back with its errors"
    return {k: list(v) for k, v in response.context["adminform"].form.errors.items()}


def said(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_planning_a_change_goes_through_the_service_and_is_audited(staff: Client) -> None:
    brand = make_brand("Acme")

    response = staff.post("/admin/ads/budgetchange/add/", add_form(brand))

    assert response.status_code == 302
    change = BudgetChange.objects.get()
    assert (change.effective_on, change.monthly_budget, change.created_by) == (
        date(2026, 7, 1),
        Decimal("5000"),
        "admin",
    )
    assert ConfigChange.objects.get(object_type="budget_change").action == "created"


def test_a_change_effective_today_applies_at_once(staff: Client) -> None:
    brand = make_brand("Acme", daily="100", monthly="1000")
    campaign = make_campaign(brand)
    spend(campaign, "60", at=NOON)

    staff.post(
        "/admin/ads/budgetchange/add/",
        add_form(brand, effective_on="2026-06-10", daily_budget="50", monthly_budget=""),
    )

    assert state(campaign) == ("paused", "brand_daily_budget")


def test_a_change_in_the_past_is_refused_at_its_date(staff: Client) -> None:
    brand = make_brand("Acme", timezone="Asia/Tokyo")

    found = errors(
        staff.post("/admin/ads/budgetchange/add/", add_form(brand, effective_on="2026-06-09"))
    )

    assert list(found) == ["effective_on"]
    assert "2026-06-09 is in the past for this brand (today is 2026-06-10 in Asia/Tokyo)" in (
        found["effective_on"][0]
    )
    assert not BudgetChange.objects.exists()


@pytest.mark.parametrize(
    ("values", "field", "why"),
    [
        ({"monthly_budget": "0"}, "monthly_budget", "above zero"),
        ({"monthly_budget": "12.345"}, "monthly_budget", "USD amounts have at most 2 decimals"),
        ({"monthly_budget": ""}, "daily_budget", "Give a daily budget, a monthly budget or both."),
        ({"target": "campaign"}, "campaign", "Choose the campaign whose budgets change."),
    ],
)
def test_bad_changes_are_refused_at_their_field(
    staff: Client, values: dict[str, str], field: str, why: str
) -> None:
    found = errors(staff.post("/admin/ads/budgetchange/add/", add_form(make_brand(), **values)))

    assert field in found and why in found[field][0]
    assert not BudgetChange.objects.exists()


def test_a_campaign_of_another_brand_is_refused_by_name(staff: Client) -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    theirs = make_campaign(globex, "Theirs")

    found = errors(
        staff.post(
            "/admin/ads/budgetchange/add/", add_form(acme, target="campaign", campaign=theirs.pk)
        )
    )

    assert found == {"campaign": ["Theirs is not of Acme."]}


def test_a_future_change_can_be_changed_and_deleted(staff: Client) -> None:
    change = planned(make_brand("Acme"), date(2026, 7, 1))
    url = f"/admin/ads/budgetchange/{change.pk}/"

    edited = staff.post(
        url + "change/",
        {"effective_on": "2026-08-01", "daily_budget": "", "monthly_budget": "6000"},
    )
    change.refresh_from_db()
    assert edited.status_code == 302
    assert (change.effective_on, change.monthly_budget) == (date(2026, 8, 1), Decimal("6000"))

    deleted = staff.post(url + "delete/", {"post": "yes"})
    assert deleted.status_code == 302 and not BudgetChange.objects.exists()
    assert ConfigChange.objects.filter(object_type="budget_change", action="deleted").exists()


@pytest.mark.parametrize("on", [date(2026, 6, 10), date(2026, 6, 1)], ids=["today", "past"])
def test_a_change_in_force_is_read_only_and_says_why(staff: Client, on: date) -> None:
    brand = make_brand("Acme", timezone="Europe/Berlin")
    change = BudgetChange.objects.create(
        brand=brand,
        target=BudgetTarget.BRAND,
        effective_on=on,
        monthly_budget="5000",
        created_by="planner",
        created_at=NOON,
        updated_at=NOON,
    )
    url = f"/admin/ads/budgetchange/{change.pk}/"
    why = (
        f"This budget change took effect on {on} (today is 2026-06-10 in Europe/Berlin): it "
        "is history and cannot be"
    )

    page = staff.get(url + "change/")
    edited = staff.post(
        url + "change/", {"effective_on": "2026-08-01", "daily_budget": "", "monthly_budget": "1"}
    )
    deleted = staff.post(url + "delete/", {"post": "yes"})

    assert 'name="_save"' not in page.content.decode()
    assert any(m.startswith(why) for m in said(page))
    assert edited.status_code == 302 and any(f"{why} changed" in m for m in said(edited))
    assert deleted.status_code == 302 and any(f"{why} deleted" in m for m in said(deleted))
    change.refresh_from_db()
    assert (change.effective_on, change.monthly_budget) == (on, Decimal("5000"))


def test_the_calendar_lists_who_planned_each_change_and_when(staff: Client) -> None:
    brand = make_brand("Acme", timezone="America/New_York")
    planned(brand, date(2026, 7, 1))
    search = make_campaign(brand, "Search")
    budget_change_create(
        brand_id=brand.pk,
        target=BudgetTarget.CAMPAIGN,
        target_id=search.pk,
        effective_on=date(2026, 6, 12),
        daily_budget="20",
        monthly_budget=None,
        at=NOON,
        actor="api:planning-tool",
    )

    page = text(staff.get("/admin/ads/budgetchange/", {"when": "upcoming"}).content.decode())

    assert (
        "2026-06-12 Acme Campaign Search 20.00 USD unchanged Upcoming (in 2 days) "
        "api:planning-tool 2026-06-10 08:00 EDT (America/New_York)"
    ) in page
    assert "2026-07-01 Acme The brand unchanged 5,000.00 USD Upcoming (in 21 days) planner" in page


def test_the_when_filter_follows_each_brands_own_today(staff: Client) -> None:
    # Noon UTC on 10 June is already 11 June at UTC+14: a change from the 11th is in force.
    kiribati, utc = make_brand("Kiribati", timezone="Pacific/Kiritimati"), make_brand("Utc")
    for brand in (kiribati, utc):
        BudgetChange.objects.create(
            brand=brand,
            target=BudgetTarget.BRAND,
            effective_on=date(2026, 6, 11),
            monthly_budget="5000",
            created_by="p",
            created_at=NOON,
            updated_at=NOON,
        )

    upcoming = staff.get("/admin/ads/budgetchange/", {"when": "upcoming"}).context["cl"]
    history = staff.get("/admin/ads/budgetchange/", {"when": "history"}).context["cl"]

    assert [c.brand.name for c in upcoming.result_list] == ["Utc"]
    assert [c.brand.name for c in history.result_list] == ["Kiribati"]


def test_a_staff_member_sees_only_their_brands_calendar() -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    planned(acme, date(2026, 7, 1))
    theirs = planned(globex, date(2026, 8, 1))
    shared_budget_create(
        brand_id=globex.pk,
        name="Their pot",
        daily_budget="10",
        monthly_budget=None,
        campaign_ids=[],
        at=NOON,
        actor="t",
    )
    user = User.objects.create_user("alice", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="ads"))
    user.brand_access.create(brand=acme)
    client = Client()
    with time_machine.travel(NOON, tick=False):
        client.force_login(user)
        listed = client.get("/admin/ads/budgetchange/").context["cl"].result_list
        other = client.get(f"/admin/ads/budgetchange/{theirs.pk}/change/")
        pots = client.get(
            "/admin/autocomplete/",
            {"app_label": "ads", "model_name": "budgetchange", "field_name": "shared_budget"},
        )

    assert [c.brand.name for c in listed] == ["Acme"]
    assert other.status_code == 404
    assert json.loads(pots.content)["results"] == []
