"""Fixtures for the HTTP API: a frozen clock, tokens, and clients that carry them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import time_machine

from ads.models import Brand
from ads.services.tokens import token_create
from tests.api.helpers import NOON, ApiClient


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    """The API reads django.utils.timezone.now(); every test here starts at NOON, frozen."""
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def secret(db: None) -> str:
    """The secret of a token that may write to every brand."""
    _, value = token_create(name="all brands", brand_ids=[], by_superuser=True, at=NOON)
    return value


@pytest.fixture
def api(secret: str) -> ApiClient:
    return ApiClient(secret)


@pytest.fixture
def api_for(db: None) -> Callable[..., ApiClient]:
    """A client whose token may write to the given brands only."""

    def build(*brands: Brand) -> ApiClient:
        _, value = token_create(
            name="scoped", brand_ids=[brand.pk for brand in brands], by_superuser=False, at=NOON
        )
        return ApiClient(value)

    return build
