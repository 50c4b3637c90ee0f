"""The management API's flights: created with their campaigns (paused outside the dates at
once), read with spend, remaining, days left and projection, changed, deleted; bad input is
a 422 naming the field and changes nothing; another brand's flight is a 404."""

from __future__ import annotations

from typing import Any

import pytest

from ads.models import ConfigChange, Flight, TokenScope
from tests.api.helpers import NOON
from tests.api.test_manage_brands import manager
from tests.api.test_manage_scopes import client_with
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db


def flight_body(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Black Friday",
        "starts_on": "2026-06-01",
        "ends_on": "2026-06-30",
        "budget": "3000",
        **extra,
    }


def test_a_flight_is_created_enforced_at_once_audited_and_answers_its_figures() -> None:
    brand = make_brand("Acme", daily="1000", monthly="10000")
    running, later = make_campaign(brand, "Now"), make_campaign(brand, "Later")
    spend(running, "100", at=NOON)
    client = manager(brand, name="planner")

    now = client.post(f"/brands/{brand.pk}/flights", flight_body(campaigns=[running.pk]))
    future = client.post(
        f"/brands/{brand.pk}/flights",
        flight_body(
            name="July", starts_on="2026-07-01", ends_on="2026-07-31", campaigns=[later.pk]
        ),
    )

    assert now.status_code == 201
    body = now.json()
    flight = Flight.objects.get(name="Black Friday")
    assert body == {
        "id": flight.pk,
        "brand": brand.pk,
        "name": "Black Friday",
        "starts_on": "2026-06-01",
        "ends_on": "2026-06-30",
        "budget": "3000.00",
        "campaigns": [running.pk],
        "spend": "100.00",
        "remaining": "2900.00",
        "days_left": 21,
        "projected": body["projected"],
        "pace": body["pace"],
        "on_pace": body["on_pace"],
        "transitions": [],
    }
    assert now["ETag"] == client.get(f"/flights/{flight.pk}")["ETag"]
    assert future.json()["transitions"] == [
        {"campaign": later.pk, "to": "paused", "reason": "outside_flight"}
    ]
    assert state(later) == ("paused", "outside_flight")
    change = ConfigChange.objects.get(object_type="flight", object_id=flight.pk)
    assert (change.actor, change.action) == ("api:planner", "created")


def test_the_list_holds_the_brands_flights_by_date() -> None:
    brand = make_brand("Acme")
    client = manager(brand)
    client.post(f"/brands/{brand.pk}/flights", flight_body(name="B", starts_on="2026-06-05"))
    client.post(f"/brands/{brand.pk}/flights", flight_body(name="A", starts_on="2026-06-20"))

    response = client_with(TokenScope.READ).get(f"/brands/{brand.pk}/flights")

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["items"]] == ["B", "A"]


@pytest.mark.parametrize(
    ("extra", "field", "why"),
    [
        ({"ends_on": "2026-05-31"}, "ends_on", "cannot end (2026-05-31) before it starts"),
        ({"budget": "0"}, "budget", "must be above zero"),
        ({"budget": "10.001"}, "budget", "at most 2 decimals"),
        ({"budget": "1e3"}, "budget", "plain decimal notation"),
        ({"budget": 12.5}, None, None),
        ({"starts_on": "2026-6-1"}, "starts_on", "YYYY-MM-DD"),
        ({"starts_on": "2026-02-30"}, "starts_on", "is not a date"),
        ({"starts_on": 20260601}, "starts_on", "YYYY-MM-DD"),
        ({"ends_on": "9999-12-31"}, "ends_on", "between 2000-01-01 and 2199-12-31"),
        ({"name": ""}, "name", "must have 1 to 200 characters"),
        ({"campaigns": [0]}, "campaigns", "greater than or equal to 1"),
        ({"campaigns": "1"}, "campaigns", "valid list"),
    ],
)
def test_bad_flight_input_is_a_422_naming_the_field_and_creates_nothing(
    extra: dict[str, Any], field: str | None, why: str | None
) -> None:
    brand = make_brand("Acme")

    response = manager(brand).post(f"/brands/{brand.pk}/flights", flight_body(**extra))

    if why is None:
        assert response.status_code == 201
        return
    assert response.status_code == 422, response.json()
    assert response.json()["detail"].startswith(field)
    assert why in response.json()["detail"]
    assert not Flight.objects.exists()


def test_overlapping_flights_for_a_campaign_are_refused_naming_the_other_flight() -> None:
    brand = make_brand("Acme")
    campaign = make_campaign(brand, "Shoes")
    client = manager(brand)
    client.post(f"/brands/{brand.pk}/flights", flight_body(campaigns=[campaign.pk]))

    response = client.post(
        f"/brands/{brand.pk}/flights",
        flight_body(
            name="Overlap", starts_on="2026-06-30", ends_on="2026-07-05", campaigns=[campaign.pk]
        ),
    )

    assert response.status_code == 422
    assert response.json()["detail"].startswith("campaigns: Campaign 'Shoes' is already in flight")
    assert Flight.objects.count() == 1


def test_a_campaign_of_another_brand_is_refused_without_its_name() -> None:
    brand, other = make_brand("Acme"), make_brand("Globex")
    theirs = make_campaign(other, "Secret")

    response = manager(brand).post(
        f"/brands/{brand.pk}/flights", flight_body(campaigns=[theirs.pk])
    )

    assert response.status_code == 422
    assert response.json()["detail"] == f"campaigns: No campaign of this brand has id {theirs.pk}."
    assert "Secret" not in response.content.decode() and "Globex" not in response.content.decode()


def test_another_brands_flight_is_a_404_for_every_method() -> None:
    brand, other = make_brand("Acme"), make_brand("Globex")
    theirs = manager(other).post(f"/brands/{other.pk}/flights", flight_body()).json()["id"]
    client = manager(brand)

    for response in (
        client.get(f"/flights/{theirs}"),
        client.patch(f"/flights/{theirs}", {"budget": "1"}),
        client.delete(f"/flights/{theirs}"),
        client.get(f"/brands/{other.pk}/flights"),
        client.post(f"/brands/{other.pk}/flights", flight_body(name="X")),
    ):
        assert response.status_code == 404
        assert "Black Friday" not in response.content.decode()
    assert Flight.objects.get().budget == 3000


def test_ending_a_flight_early_pauses_its_campaigns_and_extending_it_resumes_them() -> None:
    brand = make_brand("Acme")
    campaign = make_campaign(brand)
    client = manager(brand)
    created = client.post(f"/brands/{brand.pk}/flights", flight_body(campaigns=[campaign.pk]))
    flight_id = created.json()["id"]

    ended = client.patch(f"/flights/{flight_id}", {"ends_on": "2026-06-09"})
    extended = client.patch(
        f"/flights/{flight_id}", {"ends_on": "2026-06-30"}, if_match=ended["ETag"]
    )

    assert ended.json()["transitions"] == [
        {"campaign": campaign.pk, "to": "paused", "reason": "outside_flight"}
    ]
    assert (ended.json()["days_left"], ended.json()["pace"]) == (0, "ended")
    assert extended.json()["transitions"] == [
        {"campaign": campaign.pk, "to": "running", "reason": None}
    ]
    assert extended.json()["days_left"] == 21


def test_a_budget_under_the_flights_spend_pauses_flight_budget_and_remaining_goes_negative() -> (
    None
):
    brand = make_brand("Acme", daily="1000", monthly="10000")
    campaign = make_campaign(brand)
    client = manager(brand)
    flight_id = client.post(
        f"/brands/{brand.pk}/flights", flight_body(campaigns=[campaign.pk])
    ).json()["id"]
    spend(campaign, "120", at=NOON)

    response = client.patch(f"/flights/{flight_id}", {"budget": "100"})

    assert response.json()["remaining"] == "-20.00"
    assert response.json()["transitions"] == [
        {"campaign": campaign.pk, "to": "paused", "reason": "flight_budget"}
    ]


def test_a_stale_if_match_is_a_412_and_changes_nothing() -> None:
    brand = make_brand("Acme")
    client = manager(brand)
    created = client.post(f"/brands/{brand.pk}/flights", flight_body())
    flight_id, tag = created.json()["id"], created["ETag"]
    client.patch(f"/flights/{flight_id}", {"budget": "2000"})

    stale_patch = client.patch(f"/flights/{flight_id}", {"budget": "1000"}, if_match=tag)
    stale_delete = client.delete(f"/flights/{flight_id}", if_match=tag)

    assert stale_patch.status_code == stale_delete.status_code == 412
    assert Flight.objects.get().budget == 2000


def test_deleting_a_flight_lets_its_campaigns_run_as_in_no_flight() -> None:
    brand = make_brand("Acme")
    campaign = make_campaign(brand)
    client = manager(brand)
    created = client.post(
        f"/brands/{brand.pk}/flights",
        flight_body(starts_on="2026-07-01", ends_on="2026-07-31", campaigns=[campaign.pk]),
    )
    assert state(campaign) == ("paused", "outside_flight")

    deleted = client.delete(f"/flights/{created.json()['id']}", if_match=created["ETag"])

    assert deleted.status_code == 200
    assert deleted.json() == {
        "id": created.json()["id"],
        "deleted": True,
        "transitions": [{"campaign": campaign.pk, "to": "running", "reason": None}],
    }
    assert not Flight.objects.exists()
    assert client.get(f"/flights/{created.json()['id']}").status_code == 404
    assert ConfigChange.objects.filter(object_type="flight", action="deleted").count() == 1


@pytest.mark.parametrize("body", [{"name": None}, {"budget": None}, {"brand": 1}])
def test_a_field_that_cannot_be_cleared_or_set_is_refused(body: dict[str, Any]) -> None:
    brand = make_brand("Acme")
    client = manager(brand)
    flight_id = client.post(f"/brands/{brand.pk}/flights", flight_body()).json()["id"]

    response = client.patch(f"/flights/{flight_id}", body)

    assert response.status_code == 422
    assert next(iter(body)) in response.json()["detail"]


def test_days_left_count_the_brands_dates_at_utc_plus_14() -> None:
    # At noon UTC on June 10 it is already 02:00 on June 11 in Kiritimati (UTC+14).
    brand = make_brand("Line Islands", timezone="Pacific/Kiritimati")
    campaign = make_campaign(brand)
    client = manager(brand)

    starting = client.post(
        f"/brands/{brand.pk}/flights",
        flight_body(starts_on="2026-06-11", ends_on="2026-06-11", campaigns=[campaign.pk]),
    )
    ended = client.post(
        f"/brands/{brand.pk}/flights",
        flight_body(name="Yesterday there", starts_on="2026-06-10", ends_on="2026-06-10"),
    )

    assert (starting.json()["days_left"], starting.json()["transitions"]) == (1, [])
    assert state(campaign) == ("running", None)
    assert (ended.json()["days_left"], ended.json()["pace"]) == (0, "ended")


def test_the_openapi_schema_documents_each_management_operation() -> None:
    schema = manager().get("/openapi.json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description"), (method, path)
            if method in ("patch", "delete"):
                assert {"403", "404", "412", "422"} <= set(operation["responses"]), (method, path)
                assert any(p["name"] == "If-Match" for p in operation["parameters"]), path
    flight = schema["components"]["schemas"]["FlightOut"]["properties"]
    assert "negative when over" in flight["remaining"]["description"]
