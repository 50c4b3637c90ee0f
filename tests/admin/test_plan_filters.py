"""Campaign list filters by flight and by shared budget, scoped to the user's brands."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.test import Client

from ads.models import Brand, Campaign, Flight, FlightCampaign, SharedBudget
from tests.admin.conftest import NOON
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db


def flight_of(brand: Brand, name: str, *campaigns: Campaign) -> Flight:
    flight = Flight.objects.create(
        brand=brand,
        name=name,
        starts_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 30),
        budget=Decimal("1000"),
    )
    for campaign in campaigns:
        FlightCampaign.objects.create(flight=flight, campaign=campaign)
    return flight


def pot_of(brand: Brand, name: str, *campaigns: Campaign) -> SharedBudget:
    pot = SharedBudget.objects.create(brand=brand, name=name, daily_budget=Decimal("50"))
    Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).update(shared_budget=pot)
    return pot


def listed(client: Client, **params: str) -> set[str]:
    response = client.get("/admin/ads/campaign/", params)
    assert response.status_code == 200
    return {campaign.name for campaign in response.context["cl"].result_list}


def test_the_campaign_list_filters_by_flight(staff: Client) -> None:
    brand = make_brand("Acme")
    inside, outside = make_campaign(brand, "Inside"), make_campaign(brand, "Outside")
    flight = flight_of(brand, "Black Friday", inside)

    assert listed(staff, flight=str(flight.pk)) == {"Inside"}
    assert listed(staff, flight="none") == {"Outside"}
    assert outside.pk not in {c.pk for c in flight.campaigns.all()}


def test_a_campaign_in_two_flights_is_listed_once(staff: Client) -> None:
    brand = make_brand("Acme")
    twice = make_campaign(brand, "Twice")
    first = flight_of(brand, "June", twice)
    Flight.objects.filter(pk=first.pk).update(ends_on=date(2026, 6, 15))
    second = flight_of(brand, "Late June", twice)
    Flight.objects.filter(pk=second.pk).update(starts_on=date(2026, 6, 16))

    response = staff.get("/admin/ads/campaign/", {"flight": str(second.pk)})

    assert [c.name for c in response.context["cl"].result_list] == ["Twice"]
    assert listed(staff) == {"Twice"}


def test_the_campaign_list_filters_by_shared_budget(staff: Client) -> None:
    brand = make_brand("Acme")
    shared, alone = make_campaign(brand, "Shared"), make_campaign(brand, "Alone")
    pot = pot_of(brand, "Search pot", shared)

    assert listed(staff, shared_budget=str(pot.pk)) == {"Shared"}
    assert listed(staff, shared_budget="none") == {"Alone"}
    assert alone.shared_budget_id is None


def test_the_filters_name_each_flight_and_shared_budget_with_its_brand(staff: Client) -> None:
    brand = make_brand("Acme")
    flight_of(brand, "Black Friday")
    pot_of(brand, "Search pot")

    page = staff.get("/admin/ads/campaign/").content.decode()

    assert "Acme · Black Friday (2026-06-01 to 2026-06-30)" in page
    assert "Acme · Search pot" in page


def test_the_filters_offer_only_the_staff_members_brands() -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    flight_of(acme, "Ours")
    theirs = flight_of(globex, "Theirs", make_campaign(globex, "Their campaign"))
    pot_of(globex, "Their pot")
    user = User.objects.create_user("alice", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="ads"))
    user.brand_access.create(brand=acme)
    client = Client()
    with time_machine.travel(NOON, tick=False):
        client.force_login(user)
        page = client.get("/admin/ads/campaign/").content.decode()
        # Naming another brand's flight in the URL finds none of its campaigns.
        assert listed(client, flight=str(theirs.pk)) == set()

    assert "Ours" in page
    assert "Theirs" not in page and "Their pot" not in page
