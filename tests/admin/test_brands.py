"""Brand list and page: spend against budgets, brand-local, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from ads.admin.display import money
from tests.admin.conftest import NOON, text
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db


def test_money_shows_the_currency_and_its_minor_units() -> None:
    from decimal import Decimal

    assert money(Decimal("1234.5"), "USD") == "1,234.50 USD"
    assert money(Decimal("12345.6"), "JPY") == "12,346 JPY"
    assert money(Decimal("1.2345"), "KWD") == "1.234 KWD"


def test_brand_list_shows_todays_spend_as_a_bar_with_percent_and_currency(staff: Client) -> None:
    brand = make_brand("Acme", daily="100", monthly="1000", timezone="Europe/Berlin")
    spend(make_campaign(brand), "85", at=NOON)

    page = staff.get("/admin/ads/brand/").content.decode()

    assert "budget-warn" in page  # amber from 80 %
    assert "85 % 85.00 / 100.00 USD" in text(page)
    assert "left 15.00 USD" in page
    assert "2026-06-10 14:00 CEST (Europe/Berlin)" in page  # brand-local time now


def test_brand_at_its_budget_shows_a_red_bar(staff: Client) -> None:
    spend(make_campaign(make_brand(daily="100")), "100", at=NOON)

    assert "budget-full" in staff.get("/admin/ads/brand/").content.decode()


def test_jpy_amounts_have_no_decimals(staff: Client) -> None:
    brand = make_brand("Tokyo", daily="10000", monthly="100000", currency="JPY")
    spend(make_campaign(brand), "2500", at=NOON)

    assert "2,500 / 10,000 JPY" in staff.get("/admin/ads/brand/").content.decode()


def test_brand_list_sorts_by_share_of_daily_budget_most_spent_first(staff: Client) -> None:
    low, high = make_brand("Low", daily="100"), make_brand("High", daily="100")
    spend(make_campaign(low), "10", at=NOON)
    spend(make_campaign(high), "90", at=NOON)

    response = staff.get("/admin/ads/brand/", {"o": "3"})  # "Today": its bar shows the %

    assert [b.name for b in response.context["cl"].result_list] == ["High", "Low"]


def test_brand_list_shows_the_share_of_the_daily_budget_once_in_its_bar(staff: Client) -> None:
    spend(make_campaign(make_brand("Acme", daily="100")), "85", at=NOON)

    page = staff.get("/admin/ads/brand/").content.decode()

    assert "% of daily budget" not in page
    assert text(page).count("85 %") == 1


def test_budget_filter_keeps_brands_at_or_above_80_or_at_100_percent(staff: Client) -> None:
    for name, amount in (("Calm", "10"), ("Close", "85"), ("Done", "100")):
        spend(make_campaign(make_brand(name, daily="100")), amount, at=NOON)

    warn = staff.get("/admin/ads/brand/", {"budget_used": "warn"})
    full = staff.get("/admin/ads/brand/", {"budget_used": "full"})

    assert {b.name for b in warn.context["cl"].result_list} == {"Close", "Done"}
    assert {b.name for b in full.context["cl"].result_list} == {"Done"}


def test_brand_page_shows_both_periods_and_the_projection(staff: Client) -> None:
    brand = make_brand("Acme", daily="100", monthly="1000")
    spend(make_campaign(brand), "25", at=NOON)

    page = staff.get(f"/admin/ads/brand/{brand.pk}/change/").content.decode()

    # Noon UTC is half the UTC day: 25 so far projects to 50 by midnight.
    assert "projected 50.00 USD" in page
    assert "2 % 25.00 / 1,000.00 USD" in text(page)


def test_brand_list_query_count_does_not_grow_with_its_rows(
    count_queries: Callable[[str], int],
) -> None:
    spend(make_campaign(make_brand(timezone="Asia/Tokyo")), "5", at=NOON)
    one = count_queries("/admin/ads/brand/")
    for index in range(30):
        brand = make_brand(timezone=["UTC", "Europe/Berlin", "America/New_York"][index % 3])
        spend(make_campaign(brand), "5", at=NOON)

    many = count_queries("/admin/ads/brand/")

    assert many == one
    # The page's own 8, and the beat watchdog's banner (2, on every admin page).
    assert many <= 10
