from __future__ import annotations

from decimal import Decimal

import pytest

from ads.core.percentages import parse_percentage_list


def test_percentages_come_back_sorted_distinct_and_exact() -> None:
    assert parse_percentage_list(" 100, 50,80 ,50,, 33.33") == (
        Decimal("33.33"),
        Decimal(50),
        Decimal(80),
        Decimal(100),
    )


def test_a_thousand_percent_is_the_largest_accepted() -> None:
    assert parse_percentage_list("1000") == (Decimal(1000),)


@pytest.mark.parametrize(
    "raw", ["", " , ", "0", "-5,80", "1000.01", "80,lots", "NaN", "Infinity", "sNaN", "80,sNaN"]
)
def test_anything_but_percentages_above_zero_and_up_to_a_thousand_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a list of percentages"):
        parse_percentage_list(raw)


def test_a_signalling_nan_is_a_one_line_configuration_error_and_a_form_error() -> None:
    from django.core.exceptions import ImproperlyConfigured, ValidationError

    from ad_budget_system.operations import parse_percentages
    from ads.models import Brand, BrandAlertSettings

    with pytest.raises(ImproperlyConfigured, match="ALERT_THRESHOLDS='sNaN'"):
        parse_percentages({"ALERT_THRESHOLDS": "sNaN"}, "ALERT_THRESHOLDS", default=())
    with pytest.raises(ValidationError, match="Percentages above 0"):
        BrandAlertSettings(brand=Brand(name="x"), thresholds="80,sNaN").clean()
