"""The brand action "set or raise budgets": a form first, then enforced at once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from ads.models import Brand
from tests.admin.conftest import NOON
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db


def post_action(staff: Client, brands: list[Brand], **form: str) -> str:
    data = {"action": "change_budgets", "_selected_action": [b.pk for b in brands], **form}
    response = staff.post("/admin/ads/brand/", data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_the_action_first_shows_a_form_with_the_current_budgets(staff: Client) -> None:
    brand = make_brand("Acme", daily="100", monthly="1000")

    page = post_action(staff, [brand])

    assert "<td>Acme</td><td>100.00 USD</td><td>1,000.00 USD</td>" in page
    assert Brand.objects.get().daily_budget == Decimal("100")


def test_raising_daily_budgets_by_a_percent_resumes_campaigns_paused_for_them(
    staff: Client,
) -> None:
    acme, globex = make_brand(daily="100"), make_brand(daily="200")
    campaign = make_campaign(acme)
    spend(campaign, "100", at=NOON)
    assert state(campaign) == ("paused", "brand_daily_budget")

    post_action(
        staff, [acme, globex], apply="yes", budgets="daily", change="raise_percent", amount="10"
    )

    acme.refresh_from_db()
    globex.refresh_from_db()
    assert (acme.daily_budget, globex.daily_budget) == (Decimal("110"), Decimal("220"))
    assert state(campaign) == ("running", None)


def test_setting_both_budgets_to_an_amount(staff: Client) -> None:
    brand = make_brand(daily="100", monthly="1000")

    post_action(staff, [brand], apply="yes", budgets="both", change="set", amount="500")

    brand.refresh_from_db()
    assert (brand.daily_budget, brand.monthly_budget) == (Decimal("500"), Decimal("500"))


def test_a_change_that_breaks_a_brand_rule_changes_nothing_and_names_the_brand(
    staff: Client,
) -> None:
    fine, small = make_brand("Fine", monthly="5000"), make_brand("Small", monthly="1000")

    page = post_action(
        staff, [fine, small], apply="yes", budgets="daily", change="raise_by", amount="950"
    )

    assert "Nothing was changed." in page
    assert "Small: the monthly budget (1000.00) would be below the daily budget" in page
    assert Brand.objects.get(pk=fine.pk).daily_budget == Decimal("100")


def test_the_message_says_how_many_brands_and_campaigns_changed(staff: Client) -> None:
    brand = make_brand(daily="100")
    campaign = make_campaign(brand)
    spend(campaign, "60", at=NOON)

    response = staff.post(
        "/admin/ads/brand/",
        {
            "action": "change_budgets",
            "_selected_action": [brand.pk],
            "apply": "yes",
            "budgets": "daily",
            "change": "set",
            "amount": "50",
        },
        follow=True,
    )

    assert state(campaign) == ("paused", "brand_daily_budget")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Budgets changed on 1 brand(s) and enforced at once: 1 campaign(s) changed state."
    ]


def test_a_raise_by_percent_keeps_each_budget_in_its_currencys_units(staff: Client) -> None:
    tokyo = make_brand("Tokyo", currency="JPY", daily="1001", monthly="100000")
    acme = make_brand("Acme", currency="USD", daily="100.01", monthly="10000")

    post_action(
        staff, [tokyo, acme], apply="yes", budgets="daily", change="raise_percent", amount="5.5"
    )

    # 1001 x 1.055 = 1056.055 yen -> 1056; 100.01 x 1.055 = 105.51055 USD -> 105.51
    assert Brand.objects.get(pk=tokyo.pk).daily_budget == Decimal("1056")
    assert Brand.objects.get(pk=acme.pk).daily_budget == Decimal("105.51")


def test_setting_an_amount_finer_than_a_brands_currency_changes_nothing(staff: Client) -> None:
    tokyo = make_brand("Tokyo", currency="JPY", daily="1000", monthly="100000")
    acme = make_brand("Acme", currency="USD", daily="100", monthly="10000")

    page = post_action(
        staff, [tokyo, acme], apply="yes", budgets="daily", change="set", amount="1500.50"
    )

    assert "Nothing was changed." in page
    assert "Tokyo: JPY amounts have no decimals (1500.50 has more)" in page
    assert Brand.objects.get(pk=acme.pk).daily_budget == Decimal("100")
