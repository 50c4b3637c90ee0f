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


@pytest.mark.parametrize("raw", ["", " , ", "0", "-5,80", "1000.01", "80,lots", "NaN", "Infinity"])
def test_anything_but_percentages_above_zero_and_up_to_a_thousand_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a list of percentages"):
        parse_percentage_list(raw)
