"""The management API's brands: list, read with an ETag, change the budgets (enforced at
once, audited, If-Match), zone and currency read only, another brand's a 404."""

from __future__ import annotations

import pytest

from ads.models import Brand, ConfigChange, TokenScope
from ads.services.tokens import token_create
from tests.api.helpers import NOON, ApiClient
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db


def manager(*brands: Brand, name: str = "planner") -> ApiClient:
    _, secret = token_create(
        name=name,
        brand_ids=[brand.pk for brand in brands],
        by_superuser=not brands,
        at=NOON,
        scopes=[TokenScope.MANAGE],
    )
    return ApiClient(secret)


def test_the_list_holds_the_tokens_brands_only_with_budgets_as_strings() -> None:
    acme = make_brand("Acme", timezone="America/New_York", daily="100", monthly="1000")
    make_brand("Globex")

    response = manager(acme).get("/brands")

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": acme.pk,
                "name": "Acme",
                "timezone": "America/New_York",
                "currency": "USD",
                "daily_budget": "100.00",
                "monthly_budget": "1000.00",
            }
        ]
    }


def test_a_brand_answers_with_an_etag_and_another_brand_is_a_404_without_its_name() -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    client = manager(acme)

    mine = client.get(f"/brands/{acme.pk}")
    other = client.get(f"/brands/{globex.pk}")
    missing = client.get("/brands/999999")

    assert mine.status_code == 200
    assert mine["ETag"].startswith('"') and len(mine["ETag"]) == 34
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"] == f"no brand {globex.pk} for this token"
    assert "Globex" not in other.content.decode()


def test_lowering_a_budget_pauses_at_once_answers_the_transition_and_is_audited() -> None:
    brand = make_brand("Acme", daily="100", monthly="1000")
    campaign = make_campaign(brand)
    spend(campaign, "60", at=NOON)

    response = manager(brand, name="sheet sync").patch(
        f"/brands/{brand.pk}", {"daily_budget": "50.5"}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["daily_budget"], body["monthly_budget"]) == ("50.50", "1000.00")
    assert body["transitions"] == [
        {"campaign": campaign.pk, "to": "paused", "reason": "brand_daily_budget"}
    ]
    assert state(campaign) == ("paused", "brand_daily_budget")
    change = ConfigChange.objects.get(object_type="brand")
    assert (change.actor, change.action, change.changes) == (
        "api:sheet sync",
        "changed",
        {"daily_budget": ["100.00", "50.50"]},
    )
    assert response["ETag"] == manager(brand).get(f"/brands/{brand.pk}")["ETag"]


@pytest.mark.parametrize("field", ["timezone", "currency", "name"])
def test_zone_currency_and_name_are_read_only(field: str) -> None:
    brand = make_brand("Acme")

    response = manager(brand).patch(f"/brands/{brand.pk}", {field: "EUR", "daily_budget": "5"})

    assert response.status_code == 422
    assert response.json()["detail"] == f"{field} is read only"
    assert response.json()["errors"] == [{"loc": [field], "msg": f"{field} is read only"}]
    brand.refresh_from_db()
    assert (brand.currency, str(brand.daily_budget)) == ("USD", "100.00")


@pytest.mark.parametrize(
    ("currency", "amount", "why"),
    [
        ("USD", "0", "daily_budget must be above zero"),
        ("USD", "-5", "daily_budget must be above zero"),
        ("USD", "10.005", "daily_budget USD amounts have at most 2 decimals (10.005 has more)"),
        ("JPY", "100.5", "daily_budget JPY amounts have no decimals (100.5 has more)"),
        ("USD", "1e3", "not a number in plain decimal notation"),
        ("USD", 12.5, None),  # a JSON number is taken by its digits
        ("USD", "NaN", "is not a finite number"),
        ("USD", None, "cannot be null"),
        ("USD", True, "an amount is a decimal string"),
    ],
)
def test_a_budget_is_a_decimal_string_above_zero_with_the_currencys_decimals(
    currency: str, amount: object, why: str | None
) -> None:
    brand = make_brand("Acme", currency=currency, daily="100", monthly="1000")

    response = manager(brand).patch(f"/brands/{brand.pk}", {"daily_budget": amount})

    brand.refresh_from_db()
    if why is None:
        assert response.status_code == 200
        assert brand.daily_budget == 12.5
        return
    assert response.status_code == 422
    assert "daily_budget" in response.json()["detail"]
    assert why in response.json()["detail"]
    assert str(brand.daily_budget) == "100.00"
    assert not ConfigChange.objects.exists()


def test_a_monthly_budget_below_the_daily_one_is_refused_naming_the_field() -> None:
    brand = make_brand("Acme", daily="100", monthly="1000")

    response = manager(brand).patch(f"/brands/{brand.pk}", {"monthly_budget": "50"})

    assert response.status_code == 422
    assert response.json()["detail"] == (
        "monthly_budget: The monthly budget cannot be below the daily budget."
    )


def test_an_unknown_field_is_refused() -> None:
    brand = make_brand("Acme")

    response = manager(brand).patch(f"/brands/{brand.pk}", {"weekly_budget": "5"})

    assert response.status_code == 422
    assert "weekly_budget" in response.json()["detail"]


def test_if_match_with_the_last_etag_writes_and_a_stale_one_is_a_412() -> None:
    brand = make_brand("Acme", daily="100", monthly="1000")
    first, second = manager(brand, name="first"), manager(brand, name="second")
    tag = first.get(f"/brands/{brand.pk}")["ETag"]

    written = second.patch(f"/brands/{brand.pk}", {"daily_budget": "80"}, if_match=tag)
    stale = first.patch(f"/brands/{brand.pk}", {"daily_budget": "90"}, if_match=tag)
    fresh = first.patch(f"/brands/{brand.pk}", {"daily_budget": "90"}, if_match=written["ETag"])
    unconditional = first.patch(f"/brands/{brand.pk}", {"monthly_budget": "900"})

    assert written.status_code == 200
    assert stale.status_code == 412
    assert "changed (or deleted) since you read it" in stale.json()["detail"]
    assert fresh.status_code == 200 and unconditional.status_code == 200
    brand.refresh_from_db()
    assert (str(brand.daily_budget), str(brand.monthly_budget)) == ("90.00", "900.00")
    assert ConfigChange.objects.filter(object_type="brand").count() == 3


def test_spend_does_not_change_the_etag() -> None:
    brand = make_brand("Acme", daily="100")
    campaign = make_campaign(brand)
    client = manager(brand)
    tag = client.get(f"/brands/{brand.pk}")["ETag"]

    spend(campaign, "150", at=NOON)

    assert client.get(f"/brands/{brand.pk}")["ETag"] == tag
    assert client.patch(f"/brands/{brand.pk}", {"daily_budget": "200"}, if_match=tag).json()[
        "transitions"
    ] == [{"campaign": campaign.pk, "to": "running", "reason": None}]
