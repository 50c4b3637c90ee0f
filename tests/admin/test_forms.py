"""Forms that help: IANA names offered, rules refused in words at their field."""

from __future__ import annotations

import pytest
from django.test import Client

from ads.models import Brand, Campaign, DaypartSchedule
from tests.admin.conftest import NOON
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db


def brand_post(**values: str) -> dict[str, str]:
    return {
        "name": "Acme",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
        "daily_budget": "100",
        "monthly_budget": "1000",
        "_save": "Save",
        **values,
    }


def test_the_time_zone_box_suggests_iana_names(staff: Client) -> None:
    page = staff.get("/admin/ads/brand/add/").content.decode()

    assert 'list="timezone-iana-names"' in page
    assert '<option value="America/Argentina/Buenos_Aires">' in page


def test_a_budget_of_zero_is_refused_at_its_field_in_words(staff: Client) -> None:
    response = staff.post("/admin/ads/brand/add/", brand_post(daily_budget="0"))

    errors = response.context["adminform"].form.errors
    assert errors["daily_budget"] == ["The daily budget must be greater than zero."]
    assert not Brand.objects.exists()


def test_a_duplicate_campaign_name_is_refused_at_the_name_field(staff: Client) -> None:
    brand = make_brand("Acme")
    make_campaign(brand, "Summer")

    response = staff.post(
        "/admin/ads/campaign/add/",
        {"brand": brand.pk, "name": "Summer", "enabled": "on", "_save": "Save"},
    )

    errors = response.context["adminform"].form.errors
    assert errors["name"] == ["Acme already has a campaign with this name."]
    assert "__all__" not in errors
    assert Campaign.objects.count() == 1


def test_deleting_a_brand_with_spend_explains_why_it_cannot(staff: Client) -> None:
    brand = make_brand("Acme")
    spend(make_campaign(brand), "5", at=NOON)

    response = staff.post(f"/admin/ads/brand/{brand.pk}/delete/", {"post": "yes"})

    assert "Acme: has recorded spend. The spend ledger is never deleted" in (
        response.content.decode()
    )
    assert Brand.objects.filter(pk=brand.pk).exists()


def test_a_window_ending_at_its_start_is_refused_with_the_rule(staff: Client) -> None:
    response = staff.post(
        "/admin/ads/daypartschedule/add/",
        {
            "name": "Odd",
            "description": "",
            "windows-TOTAL_FORMS": "1",
            "windows-INITIAL_FORMS": "0",
            "windows-MIN_NUM_FORMS": "0",
            "windows-MAX_NUM_FORMS": "1000",
            "windows-0-weekday": "0",
            "windows-0-start_time": "09:00",
            "windows-0-end_time": "09:00",
            "_save": "Save",
        },
    )

    page = response.content.decode()
    assert "A window cannot end at its start time, except 00:00-00:00" in page
    assert not DaypartSchedule.objects.exists()


def test_the_token_form_uses_the_brand_picker_and_a_date_picker(staff: Client) -> None:
    page = staff.get("/admin/ads/apitoken/add/").content.decode()

    assert 'class="admin-autocomplete' in page  # the brand picker
    assert 'name="expires_at_0"' in page and "vDateField" in page  # the date picker
    assert 'name="all_brands"' in page  # "every brand" is a box to tick, never implied


def test_a_brand_budget_with_more_decimals_than_its_currency_is_refused(staff: Client) -> None:
    response = staff.post(
        "/admin/ads/brand/add/",
        brand_post(currency="JPY", daily_budget="100.5", monthly_budget="1000.25"),
    )

    errors = response.context["adminform"].form.errors
    assert errors["daily_budget"] == ["JPY amounts have no decimals (100.5 has more)."]
    assert errors["monthly_budget"] == ["JPY amounts have no decimals (1000.25 has more)."]
    assert not Brand.objects.exists()


def test_a_campaign_cap_with_more_decimals_than_its_brands_currency_is_refused(
    staff: Client,
) -> None:
    brand = make_brand("Tokyo", currency="JPY", daily="10000", monthly="100000")

    response = staff.post(
        "/admin/ads/campaign/add/",
        {"brand": brand.pk, "name": "Search", "daily_budget": "50.5", "enabled": "on"},
    )

    errors = response.context["adminform"].form.errors
    assert errors["daily_budget"] == ["JPY amounts have no decimals (50.5 has more)."]
    assert not Campaign.objects.exists()
