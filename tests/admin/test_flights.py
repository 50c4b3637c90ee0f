"""The flight pages: saved and deleted through the flight service (audited, enforced at
once), its refusals shown at the fields, and only the user's brands offered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.test import Client

from ads.models import Brand, Campaign, ConfigChange, Flight
from ads.services.flights import flight_create
from tests.admin.conftest import NOON, text
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db


def form(brand: Brand | None, *campaigns: Campaign, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Black Friday",
        "starts_on": "2026-06-01",
        "ends_on": "2026-06-30",
        "budget": "4000",
        "members": [c.pk for c in campaigns],
    }
    if brand is not None:
        data["brand"] = brand.pk
    return {**data, **values}


def a_flight(brand: Brand, *campaigns: Campaign, **values: Any) -> Flight:
    fields: dict[str, Any] = {
        "name": "Summer",
        "starts_on": date(2026, 6, 1),
        "ends_on": date(2026, 6, 30),
        "budget": "1000",
        **values,
    }
    flight, _ = flight_create(
        brand_id=brand.pk, campaign_ids=[c.pk for c in campaigns], at=NOON, actor="t", **fields
    )
    return flight


def errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, "the form was expected back with its errors"
    found = response.context["adminform"].form.errors
    return {key: list(value) for key, value in found.items()}


def test_adding_a_flight_goes_through_the_service_and_is_audited(staff: Client) -> None:
    brand = make_brand("Acme")
    search = make_campaign(brand, "Search")

    response = staff.post("/admin/ads/flight/add/", form(brand, search))

    assert response.status_code == 302
    flight = Flight.objects.get()
    assert list(flight.campaigns.all()) == [search]
    audit = ConfigChange.objects.get(object_type="flight")
    assert (audit.actor, audit.action) == ("admin", "created")


def test_a_flight_that_has_not_started_pauses_its_campaigns_at_once(staff: Client) -> None:
    brand = make_brand("Acme")
    search = make_campaign(brand, "Search")

    response = staff.post(
        "/admin/ads/flight/add/",
        form(brand, search, starts_on="2026-07-01", ends_on="2026-07-31"),
        follow=True,
    )

    assert state(search) == ("paused", "outside_flight")
    assert "Enforced at once: 1 campaign(s) changed state." in response.content.decode()


def test_a_flight_ending_before_it_starts_is_refused_at_its_field(staff: Client) -> None:
    brand = make_brand("Acme")

    response = staff.post(
        "/admin/ads/flight/add/", form(brand, starts_on="2026-06-30", ends_on="2026-06-01")
    )

    assert errors(response) == {
        "ends_on": ["The flight cannot end (2026-06-01) before it starts (2026-06-30)."]
    }
    assert not Flight.objects.exists()


@pytest.mark.parametrize(
    ("currency", "budget", "why"),
    [
        ("USD", "0", "must be above zero"),
        ("USD", "10.005", "USD amounts have at most 2 decimals"),
        ("JPY", "4000.5", "JPY amounts have no decimals"),
    ],
)
def test_a_budget_of_zero_or_with_too_many_decimals_is_refused(
    staff: Client, currency: str, budget: str, why: str
) -> None:
    brand = make_brand("Acme", currency=currency, daily="10000", monthly="100000")

    found = errors(staff.post("/admin/ads/flight/add/", form(brand, budget=budget)))

    assert list(found) == ["budget"] and why in found["budget"][0]
    assert not Flight.objects.exists()


def test_overlapping_flights_for_a_campaign_are_refused_naming_the_other(staff: Client) -> None:
    brand = make_brand("Acme")
    search = make_campaign(brand, "Search")
    a_flight(brand, search, name="June")

    found = errors(
        staff.post(
            "/admin/ads/flight/add/",
            form(brand, search, name="Late June", starts_on="2026-06-30", ends_on="2026-07-10"),
        )
    )

    assert list(found) == ["members"]
    assert "Campaign 'Search' is already in flight 'June' (2026-06-01 to 2026-06-30)" in (
        found["members"][0]
    )
    assert Flight.objects.count() == 1


def test_a_campaign_of_another_brand_is_refused_by_name(staff: Client) -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    theirs = make_campaign(globex, "Their search")

    found = errors(staff.post("/admin/ads/flight/add/", form(acme, theirs)))

    assert found == {
        "members": [
            "Only campaigns of Acme can be included: Their search (Globex) are of another brand."
        ]
    }


def test_changing_a_flight_extends_it_and_its_campaigns_resume(staff: Client) -> None:
    brand = make_brand("Acme")
    search = make_campaign(brand, "Search")
    flight = a_flight(brand, search, starts_on=date(2026, 6, 1), ends_on=date(2026, 6, 9))
    assert state(search) == ("paused", "outside_flight")

    response = staff.post(
        f"/admin/ads/flight/{flight.pk}/change/",
        form(None, search, name="Summer", ends_on="2026-06-20"),
    )

    assert response.status_code == 302
    flight.refresh_from_db()
    assert flight.ends_on == date(2026, 6, 20)
    assert state(search) == ("running", None)
    changed = ConfigChange.objects.get(object_type="flight", action="changed")
    assert changed.changes["ends_on"] == ["2026-06-09", "2026-06-20"]


def test_the_brand_of_a_flight_cannot_change(staff: Client) -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    flight = a_flight(acme)

    staff.post(f"/admin/ads/flight/{flight.pk}/change/", form(globex, name="Summer"))

    flight.refresh_from_db()
    assert flight.brand == acme


def test_the_flight_page_shows_spent_days_left_and_pace(staff: Client) -> None:
    brand = make_brand("Acme", daily="10000", monthly="100000")
    search = make_campaign(brand, "Search")
    flight = a_flight(brand, search, budget="3000")
    spend(search, "900", at=NOON)

    page = text(staff.get(f"/admin/ads/flight/{flight.pk}/change/").content.decode())

    # 10 June noon of 1-30 June: 9.5 days of 30, 900 spent projects to 2,842.11.
    assert "30 % 900.00 / 3,000.00 USD" in page
    assert "left 2,100.00 USD · 21 days left · projected 2,842.11 USD · On pace" in page
    assert "Campaigns: Search" in page


def test_deleting_a_flight_goes_through_the_service(staff: Client) -> None:
    brand = make_brand("Acme")
    search = make_campaign(brand, "Search")
    flight = a_flight(brand, search, starts_on=date(2026, 7, 1), ends_on=date(2026, 7, 31))
    assert state(search) == ("paused", "outside_flight")

    response = staff.post(f"/admin/ads/flight/{flight.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Flight.objects.exists()
    assert state(search) == ("running", None)
    assert ConfigChange.objects.filter(object_type="flight", action="deleted").count() == 1


def test_deleting_selected_flights_goes_through_the_service(staff: Client) -> None:
    brand = make_brand("Acme")
    first, second = a_flight(brand, name="One"), a_flight(brand, name="Two")

    staff.post(
        "/admin/ads/flight/",
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )

    assert not Flight.objects.exists()
    assert ConfigChange.objects.filter(object_type="flight", action="deleted").count() == 2


@pytest.fixture
def alice() -> Iterator[Client]:
    """Staff with every ads permission, granted Acme only (Globex exists too)."""
    acme = make_brand("Acme")
    make_brand("Globex")
    user = User.objects.create_user("alice", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="ads"))
    user.brand_access.create(brand=acme)
    client = Client()
    with time_machine.travel(NOON, tick=False):
        client.force_login(user)
        yield client


def test_a_staff_member_sees_and_offers_only_their_brands_flights(alice: Client) -> None:
    acme, globex = Brand.objects.get(name="Acme"), Brand.objects.get(name="Globex")
    make_campaign(acme, "Our search")
    make_campaign(globex, "Their search")
    a_flight(acme, name="Ours")
    theirs = a_flight(globex, name="Theirs")

    listing = alice.get("/admin/ads/flight/").content.decode()
    found = alice.get(
        "/admin/autocomplete/",
        {"app_label": "ads", "model_name": "flight", "field_name": "campaigns", "term": "search"},
    )
    brands = alice.get(
        "/admin/autocomplete/",
        {"app_label": "ads", "model_name": "flight", "field_name": "brand", "term": ""},
    )

    assert "Ours" in listing and "Theirs" not in listing
    assert alice.get(f"/admin/ads/flight/{theirs.pk}/change/").status_code == 404
    assert [r["text"] for r in json.loads(found.content)["results"]] == ["Acme / Our search"]
    assert [r["text"] for r in json.loads(brands.content)["results"]] == ["Acme"]


def test_a_staff_member_cannot_add_a_flight_to_another_brand(alice: Client) -> None:
    globex = Brand.objects.get(name="Globex")

    found = errors(alice.post("/admin/ads/flight/add/", form(globex)))

    assert "brand" in found
    assert not Flight.objects.exists()
