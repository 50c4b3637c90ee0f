from __future__ import annotations

import pytest

from ads.core.periods import is_valid_timezone


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Sao_Paulo", "Asia/Kolkata"])
def test_iana_names_are_time_zones(name: str) -> None:
    assert is_valid_timezone(name)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "CEST"])
def test_other_names_are_not(name: str) -> None:
    assert not is_valid_timezone(name)
