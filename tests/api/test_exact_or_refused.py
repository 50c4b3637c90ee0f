"""Issue "exact or refused" at the HTTP API: every amount stored exactly or refused per item
with a reason, resends that disagree reported as conflicts, and JSON on every answer."""

from __future__ import annotations

import json
from decimal import Decimal
from unittest import mock

import pytest
from django.test import override_settings

from ads.models import SpendEvent, SpendKind
from tests.api.helpers import (
    NOON,
    TODAY,
    ApiClient,
    by_external_id,
    campaign_day,
    event,
    stored_keys,
)
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db


def _raw_events(campaign_id: int, amounts: list[str]) -> str:
    """A body whose amounts are written as raw JSON (numbers exactly as given)."""
    items = [
        json.dumps(event(campaign_id, "0", event_id=f"raw-{index}")).replace(
            '"amount": "0"', f'"amount": {amount}'
        )
        for index, amount in enumerate(amounts)
    ]
    return '{"events": [' + ", ".join(items) + "]}"


def test_json_numbers_are_taken_by_their_exact_digits(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))

    response = api.post_raw("/spend/events", _raw_events(campaign.pk, ["12.10", "0.1", "7"]))

    assert response.status_code == 200, response.json()
    assert response.json()["accepted"] == 3
    amounts = sorted(SpendEvent.objects.values_list("amount", flat=True))
    assert amounts == [Decimal("0.1"), Decimal("7"), Decimal("12.10")]
    assert campaign_day(campaign.pk) == Decimal("19.20")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1e3", "plain decimal notation"),
        ("1E+999999999999999999", "plain decimal notation"),
        ("99999999999999999999999.0000001", "more than 6 decimal places"),
        ("123456789012345678901234567890", "out of range"),
        ("NaN", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("1." + "0" * 5000 + "1", "too long"),
    ],
)
def test_hostile_json_numbers_are_refused_per_item_and_the_rest_is_stored(
    api: ApiClient, raw: str, reason: str
) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))

    response = api.post_raw("/spend/events", _raw_events(campaign.pk, ["5", raw]))

    assert response.status_code == 200, response.content[:300]
    good, bad = response.json()["results"]
    assert good["status"] == "accepted"
    assert bad["status"] == "rejected"
    assert reason in bad["reason"]
    assert len(bad["reason"]) < 300
    assert campaign_day(campaign.pk) == Decimal("5.00")


@pytest.mark.parametrize(
    "raw", ["1e3", "1E+999999999999999999", "99999999999999999999999.0000001", "NaN"]
)
def test_hostile_totals_are_refused_per_item_on_the_daily_totals_endpoint(
    api: ApiClient, raw: str
) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    item = {
        "campaign": campaign.pk,
        "date": TODAY.isoformat(),
        "total": "__",
        "reported_at": NOON.isoformat(),
        "source": "google-ads",
    }
    body = '{"totals": [' + json.dumps(item).replace('"__"', raw) + "]}"

    response = api.post_raw("/spend/daily-totals", body)

    assert response.status_code == 422
    assert response.json()["results"][0]["status"] == "rejected"
    assert not SpendEvent.objects.exists()


def test_a_resend_with_another_amount_is_a_conflict_and_changes_nothing(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    api.post("/spend/events", {"events": [event(campaign.pk, "10.00", event_id="e-1")]})

    response = api.post(
        "/spend/events",
        {
            "events": [
                event(campaign.pk, "99.00", event_id="e-1"),
                event(campaign.pk, "10.00", event_id="e-1"),
            ]
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["conflicts"]) == (0, 1, 1)
    conflict, duplicate = body["results"]
    assert conflict["status"] == "conflict"
    assert conflict["differs"] == ["amount"]
    assert "amount 99.00 (recorded: 10.00)" in conflict["reason"]
    assert duplicate["status"] == "duplicate"
    assert campaign_day(campaign.pk) == Decimal("10.00")
    assert SpendEvent.objects.get().amount == Decimal("10.00")


def test_a_batch_of_only_conflicts_answers_422_and_names_the_first(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    other = make_campaign(campaign.brand)
    api.post("/spend/events", {"events": [event(campaign.pk, "10.00", event_id="e-1")]})

    response = api.post(
        "/spend/events",
        {
            "events": [
                event(other.pk, "10.00", event_id="e-1"),
                event(campaign.pk, "10.00", event_id="e-1", occurred_at="2026-06-10T11:00:00Z"),
            ]
        },
    )

    assert response.status_code == 422
    body = response.json()
    assert [r["differs"] for r in body["results"]] == [["campaign"], ["occurred_at"]]
    assert "already recorded with different values" in body["detail"]
    assert SpendEvent.objects.count() == 1


def test_a_conflict_within_one_batch_keeps_the_first_event(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))

    response = api.post(
        "/spend/events",
        {
            "events": [
                event(campaign.pk, "1.00", event_id="x"),
                event(campaign.pk, "2.00", event_id="x"),
            ]
        },
    )

    assert [r["status"] for r in response.json()["results"]] == ["accepted", "conflict"]
    assert campaign_day(campaign.pk) == Decimal("1.00")


def test_a_conflict_does_not_show_another_brands_figures(api: ApiClient, api_for: object) -> None:
    theirs = make_campaign(make_brand("Theirs", daily="1000", monthly="10000"))
    mine_brand = make_brand("Mine", daily="1000", monthly="10000")
    mine = make_campaign(mine_brand)
    api.post("/spend/events", {"events": [event(theirs.pk, "777.77", event_id="shared")]})

    client = api_for(mine_brand)  # type: ignore[operator]
    response = client.post("/spend/events", {"events": [event(mine.pk, "1.00", event_id="shared")]})

    result = response.json()["results"][0]
    assert result["status"] == "conflict"
    assert result["differs"] == ["campaign"]
    assert "777.77" not in result["reason"] and str(theirs.pk) not in result["reason"]


def test_a_client_event_id_cannot_take_the_key_of_a_daily_total_adjustment(
    api: ApiClient,
) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    key = f"daily-total:{campaign.pk}:{TODAY}:{NOON.isoformat()}"
    api.post("/spend/events", {"events": [event(campaign.pk, "3.00", event_id=key)]})

    response = api.post(
        "/spend/daily-totals",
        {
            "totals": [
                {
                    "campaign": campaign.pk,
                    "date": TODAY.isoformat(),
                    "total": "10.00",
                    "reported_at": NOON.isoformat(),
                    "source": "google-ads",
                }
            ]
        },
    )

    assert response.json()["results"][0]["status"] == "applied"
    kinds = sorted(SpendEvent.objects.values_list("kind", "amount"))
    assert kinds == [(SpendKind.ADJUSTMENT, Decimal("7.00")), (SpendKind.EVENT, Decimal("3.00"))]
    # The totals are what the ledger holds: the reported 10.00, not 3.00 + 7.00 twice or 3.00.
    assert campaign_day(campaign.pk) == Decimal("10.00")


def test_an_unknown_path_under_api_answers_json_404_also_with_debug(api: ApiClient) -> None:
    with override_settings(DEBUG=True):
        for path in ("/api/v1/nope", "/api/v2/spend/events", "/api/", "/api"):
            response = api.client.get(path)
            assert response.status_code == 404, path
            assert response["Content-Type"].startswith("application/json"), path
            assert "detail" in response.json()


def test_a_post_to_an_unknown_path_is_a_json_404_not_a_csrf_refusal() -> None:
    # A client posting to a mistyped path must learn the path is wrong: API clients send no
    # CSRF cookie, and Django's CSRF check would otherwise answer 403 before the view.
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/spend-events", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["detail"].startswith("no such endpoint: POST /api/v1/spend-events")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", "/api/v1/spend/events", "POST"),
        ("put", "/api/v1/spend/daily-totals", "POST"),
        ("delete", "/api/v1/campaigns/1", "GET, PATCH"),
        ("patch", "/api/v1/brands/1/budget", "GET"),
        ("options", "/api/v1/spend/events", "POST"),
    ],
)
def test_a_method_an_endpoint_does_not_serve_answers_json_405_with_allow(
    api: ApiClient, debug: bool, method: str, path: str, allowed: str
) -> None:
    with override_settings(DEBUG=debug):
        response = getattr(api.client, method)(path)

    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    # The framework lists several methods in no fixed order.
    assert sorted(response["Allow"].split(", ")) == allowed.split(", ")
    assert response.json()["detail"] == (
        f"method {method.upper()} is not allowed on {path}; allowed: {response['Allow']}"
    )


def test_a_head_request_to_a_post_endpoint_answers_405_as_json(api: ApiClient) -> None:
    response = api.client.head("/api/v1/spend/events")

    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("debug", [False, True])
def test_a_request_for_a_host_not_served_answers_json_400_under_api(
    api: ApiClient, debug: bool
) -> None:
    # Django refuses the Host header before any view runs; its page is HTML (with DEBUG a
    # technical page naming the setting).
    with override_settings(DEBUG=debug):
        response = api.client.get("/api/v1/campaigns/1", headers={"host": "evil.example"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Bad Request"}
    assert "ALLOWED_HOSTS" not in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_an_internal_error_answers_json_500_without_a_traceback(secret: str, debug: bool) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    client = ApiClient(secret, raise_request_exception=False)
    with (
        override_settings(DEBUG=debug),
        mock.patch("ads.api.views.spend_ingest", side_effect=RuntimeError("boom")),
    ):
        response = client.post("/spend/events", {"events": [event(campaign.pk, "1")]})

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert "boom" not in response.content.decode()
    assert "internal error" in response.json()["detail"]
    assert stored_keys() == set()


def test_an_unknown_campaign_external_id_and_another_brands_read_the_same(
    api_for: object,
) -> None:
    mine, theirs = make_brand("Mine"), make_brand("Theirs")
    their_campaign = make_campaign(theirs)
    their_campaign.external_id = "shared-name"
    their_campaign.save()
    client = api_for(mine)  # type: ignore[operator]

    response = client.post(
        "/spend/events",
        {
            "events": [
                by_external_id("shared-name", "1", event_id="a"),
                by_external_id("no-such-name", "1", event_id="b"),
            ]
        },
    )

    reasons = [r["reason"] for r in response.json()["results"]]
    assert reasons == [
        "unknown campaign_external_id 'shared-name'",
        "unknown campaign_external_id 'no-such-name'",
    ]
