"""A campaign's page shows its shared budget and flight beside its own caps, and its form
joins a shared budget of its brand, refusing one while it is in another."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from ads.models import Campaign
from ads.services.flights import flight_create
from ads.services.shared_budgets import shared_budget_create
from tests.admin.conftest import NOON, text
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db


def form(campaign: Campaign, **values: Any) -> dict[str, Any]:
    return {
        "brand": campaign.brand_id,
        "name": campaign.name,
        "external_id": "",
        "enabled": "on",
        "schedule": "",
        "daily_budget": "",
        "monthly_budget": "",
        "shared_budget": "",
        "_save": "Save",
        **values,
    }


def test_the_page_shows_the_shared_budget_and_the_flight(staff: Client) -> None:
    brand = make_brand("Acme", daily="1000", monthly="10000")
    campaign = make_campaign(brand, "Search")
    shared_budget_create(
        brand_id=brand.pk,
        name="Search pot",
        daily_budget="100",
        monthly_budget=None,
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="t",
    )
    flight_create(
        brand_id=brand.pk,
        name="Summer push",
        starts_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 30),
        budget="400",
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="t",
    )
    spend(campaign, "40", at=NOON)

    page = text(staff.get(f"/admin/ads/campaign/{campaign.pk}/change/").content.decode())

    assert "Shared budget Search pot, today: 40 % 40.00 / 100.00 USD" in page
    assert "Flight Summer push (2026-06-01 to 2026-06-30): 10 % 40.00 / 400.00 USD" in page


def test_outside_its_flights_the_page_lists_their_dates(staff: Client) -> None:
    brand = make_brand("Acme")
    campaign = make_campaign(brand, "Later")
    flight_create(
        brand_id=brand.pk,
        name="Autumn",
        starts_on=date(2026, 9, 1),
        ends_on=date(2026, 9, 30),
        budget="400",
        campaign_ids=[campaign.pk],
        at=NOON,
        actor="t",
    )
    page = text(staff.get(f"/admin/ads/campaign/{campaign.pk}/change/").content.decode())
    assert "Outside its flights' dates: Autumn (2026-09-01 to 2026-09-30)" in page


def test_the_form_joins_a_shared_budget_and_refuses_moving_it_silently(staff: Client) -> None:
    brand = make_brand("Acme")
    campaign = make_campaign(brand, "Search")
    first, _ = shared_budget_create(
        brand_id=brand.pk,
        name="First",
        daily_budget="100",
        monthly_budget=None,
        campaign_ids=[],
        at=NOON,
        actor="t",
    )
    second, _ = shared_budget_create(
        brand_id=brand.pk,
        name="Second",
        daily_budget="100",
        monthly_budget=None,
        campaign_ids=[],
        at=NOON,
        actor="t",
    )
    url = f"/admin/ads/campaign/{campaign.pk}/change/"
    assert staff.post(url, form(campaign, shared_budget=first.pk)).status_code == 302
    campaign.refresh_from_db()
    assert campaign.shared_budget_id == first.pk

    response = staff.post(url, form(campaign, shared_budget=second.pk))

    assert response.status_code == 200
    assert "already in shared budget 'First'" in text(response.content.decode())
    campaign.refresh_from_db()
    assert campaign.shared_budget_id == first.pk
