"""The management API's spend sources: the learned and set lags of a brand's sources,
read with `read`, set with `manage` (a source not seen yet is created, null learns again),
audited, If-Match, bad values a 422 that changes nothing, another brand's a 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from ads.models import Brand, ConfigChange, SpendSource, TokenScope
from ads.services.lags import lags_learn
from ads.services.tokens import token_create
from tests.api.helpers import NOON, ApiClient
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db


def client(*brands: Brand, scope: TokenScope = TokenScope.MANAGE) -> ApiClient:
    _, secret = token_create(
        name="planner",
        brand_ids=[brand.pk for brand in brands],
        by_superuser=False,
        at=NOON,
        scopes=[scope],
    )
    return ApiClient(secret)


@pytest.fixture(autouse=True)
def frozen() -> Any:
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def acme() -> Brand:
    brand = make_brand("Acme", daily="100000", monthly="1000000")
    campaign = make_campaign(brand)
    for n in range(20):
        spend(campaign, "1", at=NOON, occurred_at=NOON - timedelta(minutes=n + 1), source="meta")
    lags_learn(at=NOON)
    return brand


def test_the_list_shows_learned_figures_and_the_lag_in_use(acme: Brand) -> None:
    SpendSource.objects.create(brand=acme, source="google_ads", lag_minutes=180)

    response = client(acme, scope=TokenScope.READ).get(f"/brands/{acme.pk}/sources")

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "source": "google_ads",
                "lag_minutes": 180,
                "learned_p50_minutes": None,
                "learned_p95_minutes": None,
                "lag_in_use_minutes": 180,
                "learned_min_minutes": None,
                "samples": 0,
                "learned_at": None,
            },
            {
                "source": "meta",
                "lag_minutes": None,
                "learned_p50_minutes": 10,
                "learned_p95_minutes": 19,
                "lag_in_use_minutes": 19,
                "learned_min_minutes": 1,
                "samples": 20,
                "learned_at": "2026-06-10T12:00:00Z",
            },
        ]
    }


def test_patch_sets_the_lag_then_null_learns_again_audited_by_token(acme: Brand) -> None:
    api = client(acme)

    set_ = api.patch(f"/brands/{acme.pk}/sources/meta", {"lag_minutes": 180})
    cleared = api.patch(f"/brands/{acme.pk}/sources/meta", {"lag_minutes": None})

    assert set_.status_code == cleared.status_code == 200
    assert (set_.json()["lag_minutes"], set_.json()["lag_in_use_minutes"]) == (180, 180)
    assert set_.json()["transitions"] == []
    assert (cleared.json()["lag_minutes"], cleared.json()["lag_in_use_minutes"]) == (None, 19)
    assert list(
        ConfigChange.objects.order_by("id").values_list("actor", "object_type", "changes")
    ) == [
        ("api:planner", "spend source", {"lag_minutes": [None, 180]}),
        ("api:planner", "spend source", {"lag_minutes": [180, None]}),
    ]


def test_a_source_not_seen_yet_is_created(acme: Brand) -> None:
    response = client(acme).patch(f"/brands/{acme.pk}/sources/tiktok", {"lag_minutes": 60})

    assert response.status_code == 200
    assert response.json()["source"] == "tiktok" and response.json()["samples"] == 0
    assert SpendSource.objects.get(brand=acme, source="tiktok").lag_minutes == 60


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"lag_minutes": -5}, "from 0 to 2880"),
        ({"lag_minutes": 3000}, "from 0 to 2880"),
        ({"lag_minutes": "180"}, "whole number"),
        ({"lag_minutes": 1.5}, "whole number"),
        ({"lag_minutes": True}, "whole number"),
        ({}, "lag_minutes is required"),
    ],
)
def test_a_bad_lag_is_a_422_naming_the_field_and_changes_nothing(
    acme: Brand, body: dict[str, Any], words: str
) -> None:
    response = client(acme).patch(f"/brands/{acme.pk}/sources/meta", body)

    assert response.status_code == 422
    assert words in response.json()["detail"]
    assert response.json()["errors"][0]["loc"][-1] == "lag_minutes"
    assert SpendSource.objects.get(brand=acme, source="meta").lag_minutes is None
    assert not ConfigChange.objects.exists()


def test_an_unknown_field_is_a_422(acme: Brand) -> None:
    response = client(acme).patch(f"/brands/{acme.pk}/sources/meta", {"lag": 5})
    assert response.status_code == 422


def test_a_source_name_over_64_characters_is_a_422(acme: Brand) -> None:
    response = client(acme).patch(f"/brands/{acme.pk}/sources/{'x' * 65}", {"lag_minutes": 5})
    assert response.status_code == 422
    assert "longer than 64" in response.json()["detail"]
    assert SpendSource.objects.filter(brand=acme).count() == 1


def test_read_cannot_write_and_ingest_cannot_read(acme: Brand) -> None:
    write = client(acme, scope=TokenScope.READ).patch(
        f"/brands/{acme.pk}/sources/meta", {"lag_minutes": 5}
    )
    read = client(acme, scope=TokenScope.INGEST).get(f"/brands/{acme.pk}/sources")

    assert write.status_code == read.status_code == 403
    assert "detail" in write.json() and "detail" in read.json()
    assert SpendSource.objects.get(brand=acme, source="meta").lag_minutes is None


def test_another_brands_sources_are_a_404_and_untouched(acme: Brand) -> None:
    globex = make_brand("Globex")
    api = client(globex)

    listed = api.get(f"/brands/{acme.pk}/sources")
    one = api.get(f"/brands/{acme.pk}/sources/meta")
    written = api.patch(f"/brands/{acme.pk}/sources/meta", {"lag_minutes": 5})

    assert listed.status_code == one.status_code == written.status_code == 404
    assert "Acme" not in written.content.decode()
    assert SpendSource.objects.get(brand=acme, source="meta").lag_minutes is None


def test_if_match_with_the_etag_of_the_last_read(acme: Brand) -> None:
    api = client(acme)
    read = api.get(f"/brands/{acme.pk}/sources/meta")
    assert read.status_code == 200 and read.json()["source"] == "meta"

    first = api.patch(
        f"/brands/{acme.pk}/sources/meta", {"lag_minutes": 30}, **{"If-Match": read["ETag"]}
    )
    stale = api.patch(
        f"/brands/{acme.pk}/sources/meta", {"lag_minutes": 90}, **{"If-Match": read["ETag"]}
    )

    assert first.status_code == 200 and first["ETag"] != read["ETag"]
    assert stale.status_code == 412
    assert SpendSource.objects.get(brand=acme, source="meta").lag_minutes == 30
    assert api.get(f"/brands/{acme.pk}/sources/none").status_code == 404


def test_a_source_name_with_a_slash_can_be_read_and_set(acme: Brand) -> None:
    api = client(acme)

    written = api.patch(f"/brands/{acme.pk}/sources/agency/tracker", {"lag_minutes": 45})
    read = api.get(f"/brands/{acme.pk}/sources/agency%2Ftracker")

    assert written.status_code == read.status_code == 200
    assert read.json()["source"] == "agency/tracker" and read.json()["lag_minutes"] == 45
