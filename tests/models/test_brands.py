"""Brands: the database constraints on budgets and currency, and their validation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from ads.models import Brand
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db


def new_brand(**overrides: Any) -> Brand:
    values: dict[str, Any] = {
        "name": "Acme",
        "timezone": "UTC",
        "currency": "USD",
        "daily_budget": Decimal("100"),
        "monthly_budget": Decimal("1000"),
    }
    values.update(overrides)
    return Brand(**values)


# Brand constraints


@pytest.mark.parametrize("daily", ["0", "-1"])
def test_database_refuses_a_brand_daily_budget_that_is_not_positive(daily: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        new_brand(daily_budget=Decimal(daily), monthly_budget=Decimal("1000")).save()

    assert not Brand.objects.exists()


def test_database_refuses_a_brand_monthly_budget_below_the_daily_budget() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        new_brand(daily_budget=Decimal("100"), monthly_budget=Decimal("99.999999")).save()

    assert not Brand.objects.exists()


def test_database_accepts_a_brand_monthly_budget_equal_to_the_daily_budget() -> None:
    brand = make_brand(daily="100", monthly="100")

    assert Brand.objects.get(pk=brand.pk).monthly_budget == Decimal("100")


def test_database_refuses_a_brand_update_that_lowers_monthly_below_daily() -> None:
    brand = make_brand(daily="100", monthly="1000")

    with pytest.raises(IntegrityError), transaction.atomic():
        Brand.objects.filter(pk=brand.pk).update(monthly_budget=Decimal("50"))

    brand.refresh_from_db()
    assert brand.monthly_budget == Decimal("1000")


@pytest.mark.parametrize("currency", ["usd", "Usd", "US", "U"])
def test_database_refuses_a_currency_that_is_not_three_upper_case_letters(currency: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        new_brand(currency=currency).save()

    assert not Brand.objects.exists()


def test_database_refuses_a_duplicate_brand_name() -> None:
    make_brand("Acme")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_brand("Acme")

    assert Brand.objects.filter(name="Acme").count() == 1


# Validation (full_clean)


def test_full_clean_refuses_an_unknown_time_zone() -> None:
    with pytest.raises(ValidationError) as caught:
        new_brand(timezone="Mars/Base").full_clean()

    assert list(caught.value.message_dict) == ["timezone"]
    assert "Mars/Base" in caught.value.message_dict["timezone"][0]


def test_full_clean_accepts_an_iana_time_zone() -> None:
    brand = new_brand(timezone="America/New_York")

    brand.full_clean()

    assert brand.timezone == "America/New_York"


@pytest.mark.parametrize("currency", ["XYZ", "usd", "EU"])
def test_full_clean_refuses_an_unknown_currency(currency: str) -> None:
    with pytest.raises(ValidationError) as caught:
        new_brand(currency=currency).full_clean()

    assert list(caught.value.message_dict) == ["currency"]


@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY"])
def test_full_clean_accepts_iso_currencies(currency: str) -> None:
    brand = new_brand(currency=currency)

    brand.full_clean()

    assert brand.currency == currency


def test_full_clean_puts_monthly_below_daily_on_the_monthly_budget() -> None:
    brand = new_brand(daily_budget=Decimal("100"), monthly_budget=Decimal("99"))

    with pytest.raises(ValidationError) as caught:
        brand.full_clean()

    assert list(caught.value.message_dict) == ["monthly_budget"]


# PROTECT


def test_deleting_a_brand_with_campaigns_is_refused() -> None:
    brand = make_brand()
    make_campaign(brand)

    with pytest.raises(ProtectedError), transaction.atomic():
        brand.delete()

    assert Brand.objects.filter(pk=brand.pk).exists()
