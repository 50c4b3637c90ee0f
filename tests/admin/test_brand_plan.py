"""The brand page's plan: flights (spent, budget, days left, pace), shared budgets with
bars like the brand's, upcoming budget changes, and the media plan's links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client

from ads.models import Brand, BudgetTarget
from ads.services.budget_calendar import budget_change_create
from ads.services.flights import flight_create
from ads.services.shared_budgets import shared_budget_create
from tests.admin.conftest import NOON, text
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme() -> Brand:
    return make_brand("Acme", daily="10000", monthly="100000", timezone="Europe/Berlin")


def page_of(staff: Client, brand: Brand) -> str:
    response = staff.get(f"/admin/ads/brand/{brand.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_brand_page_shows_each_flight_with_spend_days_left_and_pace(
    staff: Client, acme: Brand
) -> None:
    search, social = make_campaign(acme, "Search"), make_campaign(acme, "Social")
    flight_create(
        brand_id=acme.pk,
        name="June push",
        starts_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 30),
        budget="3000",
        campaign_ids=[search.pk],
        at=NOON,
        actor="t",
    )
    flight_create(
        brand_id=acme.pk,
        name="Hot June",
        starts_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 20),
        budget="1000",
        campaign_ids=[social.pk],
        at=NOON,
        actor="t",
    )
    spend(search, "300", at=NOON)
    spend(social, "900", at=NOON)

    seen = text(page_of(staff, acme))

    # 10 June 14:00 in Berlin is 9.58 days of 30: 300 spent heads for 939.13, behind 3,000.
    assert (
        "June push 2026-06-01 to 2026-06-30 10 % 300.00 / 3,000.00 USD 2,700.00 USD 21 "
        "939.13 USD Behind (heading under) 1"
    ) in seen
    assert "Hot June 2026-06-01 to 2026-06-20 90 % 900.00 / 1,000.00 USD" in seen
    assert "Ahead (heading over)" in seen


def test_the_brand_page_shows_shared_budgets_as_bars(staff: Client, acme: Brand) -> None:
    search = make_campaign(acme, "Search")
    shared_budget_create(
        brand_id=acme.pk,
        name="Search pot",
        daily_budget="100",
        monthly_budget="2000",
        campaign_ids=[search.pk],
        at=NOON,
        actor="t",
    )
    spend(search, "85", at=NOON)

    page = page_of(staff, acme)

    assert "budget-warn" in page
    assert "Search pot 85 % 85.00 / 100.00 USD 4 % 85.00 / 2,000.00 USD 1" in text(page)


def test_the_brand_page_lists_upcoming_budget_changes_with_who_planned_them(
    staff: Client, acme: Brand
) -> None:
    search = make_campaign(acme, "Search")
    for target, owner, on, actor in (
        (BudgetTarget.BRAND, None, date(2026, 7, 1), "planner"),
        (BudgetTarget.CAMPAIGN, search.pk, date(2026, 6, 15), "api:sheet-sync"),
        (BudgetTarget.BRAND, None, date(2026, 6, 10), "today"),  # in force: not upcoming
    ):
        budget_change_create(
            brand_id=acme.pk,
            target=target,
            target_id=owner,
            effective_on=on,
            daily_budget="500",
            monthly_budget=None,
            at=NOON,
            actor=actor,
        )

    seen = text(page_of(staff, acme))

    assert (
        "2026-06-15 Campaign Search 500.00 USD unchanged api:sheet-sync "
        "2026-06-10 14:00 CEST (Europe/Berlin) 2026-07-01 The brand 500.00 USD unchanged planner"
    ) in seen
    assert "unchanged today" not in seen


def test_a_brand_without_a_plan_says_so_with_links_to_start_one(staff: Client, acme: Brand) -> None:
    page = page_of(staff, acme)

    assert "No flights." in page and f"/admin/ads/flight/add/?brand={acme.pk}" in page
    assert "No shared budgets." in page and "No upcoming budget changes." in page
    assert f"/admin/ads/brand/{acme.pk}/export-plan/" in page
    assert "/admin/ads/flight/import-plan/" in page


def test_the_brand_page_query_count_does_not_grow_with_its_flights(
    acme: Brand, count_queries: Callable[[str], int]
) -> None:
    def add_flight(month: int) -> None:
        campaign = make_campaign(acme)
        flight_create(
            brand_id=acme.pk,
            name=f"Flight {month}",
            starts_on=date(2026, month, 1),
            ends_on=date(2026, month, 20),
            budget="100",
            campaign_ids=[campaign.pk],
            at=NOON,
            actor="t",
        )
        spend(campaign, "5", at=NOON)

    add_flight(6)
    one = count_queries(f"/admin/ads/brand/{acme.pk}/change/")
    for month in range(7, 12):
        add_flight(month)

    assert count_queries(f"/admin/ads/brand/{acme.pk}/change/") == one
