"""Money: exact Decimals in Python, whole micro-units in the database, nothing rounded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from ads.core.money import (
    MAX_AMOUNT,
    MoneyError,
    MoneyField,
    from_micros,
    money_str,
    parse_money,
    quantize,
    to_micros,
)
from ads.models import Brand, Campaign
from tests.factories import make_brand

pytestmark = pytest.mark.django_db


def brand_with_budget(daily: Any, monthly: Any = Decimal("1000")) -> Brand:
    return Brand(
        name="Acme", timezone="UTC", currency="USD", daily_budget=daily, monthly_budget=monthly
    )


# parse_money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.345678"), Decimal("12.345678")),
        ("12.50", Decimal("12.50")),
        ("  7.25 ", Decimal("7.25")),
        (42, Decimal("42")),
        ("0.000001", Decimal("0.000001")),
        ("-3.5", Decimal("-3.5")),
        (MAX_AMOUNT, MAX_AMOUNT),
    ],
)
def test_parse_money_accepts_decimals_ints_and_decimal_strings(
    value: object, expected: Decimal
) -> None:
    parsed = parse_money(value)

    assert parsed == expected
    assert isinstance(parsed, Decimal)


def test_parse_money_keeps_the_exact_decimal_it_was_given() -> None:
    assert str(parse_money("12.345678")) == "12.345678"
    assert str(parse_money("12.50")) == "12.50"


def test_parse_money_accepts_trailing_zeros_beyond_six_places_when_the_value_is_exact() -> None:
    assert parse_money("1.230000000") == Decimal("1.23")


@pytest.mark.parametrize("value", [12.5, 0.1, 1.0])
def test_parse_money_rejects_floats(value: float) -> None:
    with pytest.raises(MoneyError, match="float"):
        parse_money(value)


def test_parse_money_rejects_booleans() -> None:
    with pytest.raises(MoneyError):
        parse_money(True)


@pytest.mark.parametrize("value", ["12.3456789", Decimal("0.0000001"), "-1.0000005"])
def test_parse_money_rejects_more_than_six_decimal_places(value: object) -> None:
    with pytest.raises(MoneyError, match="more than 6 decimal places"):
        parse_money(value)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", Decimal("NaN")])
def test_parse_money_rejects_nan_and_infinities(value: object) -> None:
    with pytest.raises(MoneyError, match="finite"):
        parse_money(value)


@pytest.mark.parametrize("value", [MAX_AMOUNT + Decimal("0.000001"), -MAX_AMOUNT - 1])
def test_parse_money_rejects_magnitudes_above_the_maximum(value: Decimal) -> None:
    with pytest.raises(MoneyError, match="out of range"):
        parse_money(value)


@pytest.mark.parametrize("value", ["", "abc", "12,50", "1.2.3"])
def test_parse_money_rejects_strings_that_are_not_numbers(value: str) -> None:
    with pytest.raises(MoneyError, match="not a number"):
        parse_money(value)


@pytest.mark.parametrize("value", [None, [1], {"amount": "1"}, b"12"])
def test_parse_money_rejects_other_types(value: object) -> None:
    with pytest.raises(MoneyError, match="decimal string"):
        parse_money(value)


# to_micros / from_micros / quantize


@pytest.mark.parametrize(
    ("amount", "micros"),
    [
        (Decimal("12.345678"), 12_345_678),
        (Decimal("12.50"), 12_500_000),
        (Decimal("0.000001"), 1),
        (Decimal("0"), 0),
        (Decimal("-2.5"), -2_500_000),
        (MAX_AMOUNT, 10**18),
    ],
)
def test_to_micros_is_exact(amount: Decimal, micros: int) -> None:
    assert to_micros(amount) == micros


def test_to_micros_refuses_to_round() -> None:
    with pytest.raises(MoneyError, match="more than 6 decimal places"):
        to_micros(Decimal("1.0000001"))


@pytest.mark.parametrize(
    ("micros", "shown"),
    [
        (12_500_000, "12.50"),
        (123_456, "0.123456"),
        (12_345_678, "12.345678"),
        (12_000_000, "12.00"),
        (12_340_000, "12.34"),
        (12_345_000, "12.345"),
        (0, "0.00"),
        (1, "0.000001"),
        (-2_500_000, "-2.50"),
        (10**18, "1000000000000.00"),
    ],
)
def test_from_micros_shows_at_least_two_places_and_no_needless_zeros(
    micros: int, shown: str
) -> None:
    amount = from_micros(micros)

    assert str(amount) == shown
    assert amount == Decimal(shown)


def test_from_micros_accepts_a_decimal_count_of_micros() -> None:
    # Some backends return SUM() over a BIGINT as a Decimal.
    assert str(from_micros(Decimal(12_500_000))) == "12.50"


@pytest.mark.parametrize(
    "amount", ["12.345678", "12.50", "0.000001", "999999999999.999999", "-7.000001"]
)
def test_micros_round_trip_is_exact(amount: str) -> None:
    assert from_micros(to_micros(Decimal(amount))) == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1.0000005", "1.00"),  # half-even: ...0|5 goes down to the even 0
        ("1.0000015", "1.000002"),  # ...1|5 goes up to the even 2
        ("0.1234565", "0.123456"),
        ("0.1234575", "0.123458"),
        ("0.12345651", "0.123457"),  # above the half goes up
        ("2.5", "2.50"),
        ("10", "10.00"),
        ("3.333333333333", "3.333333"),
    ],
)
def test_quantize_rounds_half_even_to_six_places_and_shows_like_stored_amounts(
    amount: str, expected: str
) -> None:
    assert str(quantize(Decimal(amount))) == expected


def test_money_str_renders_amounts_and_keeps_none() -> None:
    assert money_str(Decimal("12.50")) == "12.50"
    assert money_str(None) is None


# MoneyField


def test_money_field_round_trips_six_decimal_places_exactly() -> None:
    brand = make_brand(daily="12.345678", monthly="1000")

    stored = Brand.objects.get(pk=brand.pk)

    assert stored.daily_budget == Decimal("12.345678")
    assert str(stored.daily_budget) == "12.345678"
    assert str(stored.monthly_budget) == "1000.00"


def test_money_field_stores_whole_micro_units_in_an_integer_column() -> None:
    brand = make_brand(daily="12.345678", monthly="1000")

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT daily_budget, monthly_budget FROM {Brand._meta.db_table} WHERE id = %s",
            [brand.pk],
        )
        row = cursor.fetchone()

    assert row is not None
    assert (int(row[0]), int(row[1])) == (12_345_678, 1_000_000_000)
    assert MoneyField().get_internal_type() == "BigIntegerField"


def test_money_field_filters_by_exact_amount() -> None:
    brand = make_brand(daily="12.345678", monthly="1000")
    make_brand(daily="12.345679", monthly="1000")

    found = Brand.objects.filter(daily_budget=Decimal("12.345678"))

    assert list(found) == [brand]
    assert Brand.objects.filter(daily_budget__gt="12.345678").count() == 1


def test_money_field_keeps_null_for_optional_caps() -> None:
    campaign = Campaign.objects.create(brand=make_brand(), name="No caps")

    stored = Campaign.objects.get(pk=campaign.pk)

    assert stored.daily_budget is None and stored.monthly_budget is None


def test_full_clean_rejects_seven_decimal_places() -> None:
    brand = brand_with_budget(Decimal("12.3456789"))

    with pytest.raises(ValidationError) as caught:
        brand.full_clean()

    assert "daily_budget" in caught.value.message_dict
    assert "more than 6 decimal places" in caught.value.message_dict["daily_budget"][0]


def test_full_clean_rejects_a_float_budget() -> None:
    float_budget: Any = 12.5
    brand = brand_with_budget(float_budget)

    with pytest.raises(ValidationError) as caught:
        brand.full_clean()

    assert "float" in caught.value.message_dict["daily_budget"][0]


def test_saving_a_float_budget_without_validation_is_refused() -> None:
    float_budget: Any = 12.5

    with pytest.raises(MoneyError, match="float"), transaction.atomic():
        Brand.objects.create(
            name="Floaty", daily_budget=float_budget, monthly_budget=Decimal("100")
        )

    assert not Brand.objects.filter(name="Floaty").exists()


def test_full_clean_accepts_six_decimal_places_and_strings() -> None:
    brand = brand_with_budget("12.345678", "100")

    brand.full_clean()

    assert brand.daily_budget == Decimal("12.345678")
    assert brand.monthly_budget == Decimal("100")


def test_money_field_to_python_treats_empty_as_none() -> None:
    field = MoneyField()

    assert field.to_python("") is None
    assert field.to_python(None) is None
    assert field.to_python("3.10") == Decimal("3.10")


def test_money_form_field_allows_six_places_and_refuses_seven() -> None:
    form_field = Brand._meta.get_field("daily_budget").formfield()
    assert form_field is not None

    assert form_field.clean("12.345678") == Decimal("12.345678")
    with pytest.raises(ValidationError):
        form_field.clean("12.3456789")


@pytest.mark.parametrize(
    "micros",
    [0, 1, 10, 999_999, 1_000_000, 12_500_000, 123_456, -1, -12_500_000, 10**18, 7_010_000],
)
def test_money_text_is_the_text_of_from_micros(micros: int) -> None:
    from ads.core.money import money_text

    assert money_text(micros) == str(from_micros(micros))
