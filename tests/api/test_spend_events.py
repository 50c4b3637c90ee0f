"""POST /api/v1/spend/events: per-event outcomes, idempotency, scope, limits, and the pause."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from ads.models import (
    BrandPeriodSpend,
    CampaignPeriodSpend,
    CampaignStatusChange,
    SpendEvent,
    SpendKind,
)
from tests.api.helpers import (
    NOON,
    ApiClient,
    brand_day,
    by_external_id,
    campaign_day,
    event,
    stored_keys,
)
from tests.factories import make_brand, make_campaign, state

pytestmark = pytest.mark.django_db

ACCEPTED = {"status": "accepted", "reason": None}
DUPLICATE = {"status": "duplicate", "reason": None}


def results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-event results without their index (checked once, here)."""
    assert [item["index"] for item in body["results"]] == list(range(len(body["results"])))
    return [
        {k: v for k, v in item.items() if k != "index" and not (k == "differs" and v is None)}
        for item in body["results"]
    ]


def test_a_valid_batch_is_accepted_stored_and_added_to_the_day(api: ApiClient) -> None:
    brand = make_brand(daily="1000", monthly="10000")
    first, second = make_campaign(brand), make_campaign(brand)

    response = api.post(
        "/spend/events",
        {
            "events": [
                event(first.pk, "12.50", event_id="a-1", currency="USD"),
                event(second.pk, "0.000001", event_id="a-2", source="meta"),
            ]
        },
    )

    assert response.status_code == 200
    assert response.json() == {
        "accepted": 2,
        "duplicates": 0,
        "conflicts": 0,
        "rejected": 0,
        "results": [
            {"index": 0, "status": "accepted", "reason": None, "differs": None},
            {"index": 1, "status": "accepted", "reason": None, "differs": None},
        ],
        "detail": None,
    }
    rows = SpendEvent.objects.order_by("external_id")
    assert [(r.campaign_id, r.amount, r.source, r.external_id, r.kind) for r in rows] == [
        (first.pk, Decimal("12.50"), "google-ads", "a-1", SpendKind.EVENT),
        (second.pk, Decimal("0.000001"), "meta", "a-2", SpendKind.EVENT),
    ]
    assert campaign_day(first.pk) == Decimal("12.50")
    assert brand_day(brand.pk) == Decimal("12.500001")


def test_spend_counts_towards_the_brand_local_day_of_occurred_at(api: ApiClient) -> None:
    # 03:00 UTC on June 10 is 23:00 on June 9 in New York.
    brand = make_brand(timezone="America/New_York")
    campaign = make_campaign(brand)

    response = api.post(
        "/spend/events", {"events": [event(campaign.pk, "7", occurred_at="2026-06-10T03:00:00Z")]}
    )

    assert response.status_code == 200
    assert campaign_day(campaign.pk, date(2026, 6, 9)) == Decimal("7.00")
    assert campaign_day(campaign.pk) is None


def test_valid_events_are_stored_when_others_in_the_batch_are_rejected(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))

    response = api.post(
        "/spend/events",
        {
            "events": [
                event(campaign.pk, "10", event_id="ok-1"),
                event(999_999, "20", event_id="bad-1"),
                event(campaign.pk, "1.1234567", event_id="bad-2"),
                event(campaign.pk, "5", event_id="ok-2"),
            ]
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, 2)
    assert body["detail"] is None
    assert results(body) == [
        ACCEPTED,
        {"status": "rejected", "reason": "unknown campaign 999999"},
        {"status": "rejected", "reason": "amount '1.1234567' has more than 6 decimal places"},
        ACCEPTED,
    ]
    assert stored_keys() == {("google-ads", "ok-1"), ("google-ads", "ok-2")}
    assert campaign_day(campaign.pk) == Decimal("15.00")


def test_sending_the_same_batch_again_accepts_nothing_new(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    batch = {"events": [event(campaign.pk, "10"), event(campaign.pk, "2.5")]}
    assert api.post("/spend/events", batch).json()["accepted"] == 2

    again = api.post("/spend/events", batch)

    assert again.status_code == 200
    body = again.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (0, 2, 0)
    assert results(body) == [DUPLICATE, DUPLICATE]
    assert SpendEvent.objects.count() == 2
    assert campaign_day(campaign.pk) == Decimal("12.50")


def test_an_event_repeated_within_one_batch_is_counted_once(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    once = event(campaign.pk, "10")

    response = api.post("/spend/events", {"events": [once, dict(once)]})

    assert response.status_code == 200
    assert results(response.json()) == [ACCEPTED, DUPLICATE]
    assert campaign_day(campaign.pk) == Decimal("10.00")


def test_the_same_event_id_from_another_source_is_another_event(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))

    response = api.post(
        "/spend/events",
        {
            "events": [
                event(campaign.pk, "1", source="google-ads", event_id="x"),
                event(campaign.pk, "2", source="meta", event_id="x"),
            ]
        },
    )

    assert results(response.json()) == [ACCEPTED, ACCEPTED]
    assert campaign_day(campaign.pk) == Decimal("3.00")


def test_campaign_external_id_resolves_within_the_brands_of_the_token(
    api_for: Callable[..., ApiClient],
) -> None:
    mine, theirs = make_brand("Mine"), make_brand("Theirs")
    my_campaign = make_campaign(mine)
    their_campaign = make_campaign(theirs)
    for campaign in (my_campaign, their_campaign):
        campaign.external_id = "cmp-1"
        campaign.save()

    response = api_for(mine).post("/spend/events", {"events": [by_external_id("cmp-1", "4")]})

    assert response.status_code == 200
    assert results(response.json()) == [ACCEPTED]
    assert list(SpendEvent.objects.values_list("campaign_id", flat=True)) == [my_campaign.pk]


def test_an_external_id_in_several_brands_needs_the_brand_by_id_or_name(api: ApiClient) -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    in_acme, in_globex = make_campaign(acme), make_campaign(globex)
    for campaign in (in_acme, in_globex):
        campaign.external_id = "shared"
        campaign.save()

    response = api.post(
        "/spend/events",
        {
            "events": [
                by_external_id("shared", "1", event_id="no-brand"),
                by_external_id("shared", "2", event_id="by-id", brand=globex.pk),
                by_external_id("shared", "3", event_id="by-name", brand="Acme"),
                by_external_id("shared", "4", event_id="wrong-brand", brand="Initech"),
            ]
        },
    )

    assert response.status_code == 200
    assert results(response.json()) == [
        {
            "status": "rejected",
            "reason": "campaign_external_id 'shared' exists in several brands ('Acme', "
            "'Globex'); add \"brand\"",
        },
        ACCEPTED,
        ACCEPTED,
        {
            "status": "rejected",
            "reason": "unknown campaign_external_id 'shared' in brand 'Initech'",
        },
    ]
    stored = dict(SpendEvent.objects.values_list("external_id", "campaign_id"))
    assert stored == {"by-id": in_globex.pk, "by-name": in_acme.pk}


def test_an_ambiguous_external_id_alone_is_a_422_saying_so(api: ApiClient) -> None:
    for brand in (make_brand("Acme"), make_brand("Globex")):
        campaign = make_campaign(brand)
        campaign.external_id = "shared"
        campaign.save()

    response = api.post("/spend/events", {"events": [by_external_id("shared")]})

    assert response.status_code == 422
    assert "exists in several brands" in response.json()["detail"]
    assert SpendEvent.objects.count() == 0


def test_an_event_for_a_brand_outside_the_tokens_scope_is_rejected_and_not_stored(
    api_for: Callable[..., ApiClient],
) -> None:
    mine, theirs = make_brand("Mine"), make_brand("Theirs", daily="1", monthly="1")
    my_campaign, their_campaign = make_campaign(mine), make_campaign(theirs)
    their_campaign.external_id = "only-theirs"
    their_campaign.save()

    response = api_for(mine).post(
        "/spend/events",
        {
            "events": [
                event(my_campaign.pk, "5", event_id="mine"),
                event(their_campaign.pk, "5", event_id="theirs-by-id"),
                by_external_id("only-theirs", "5", event_id="theirs-by-external-id"),
                by_external_id("only-theirs", "5", event_id="theirs-by-name", brand="Theirs"),
            ]
        },
    )

    assert response.status_code == 200
    outcomes = results(response.json())
    assert outcomes[0] == ACCEPTED
    # Word for word what a campaign that does not exist gets: nothing about the other brand.
    assert outcomes[1:] == [
        {"status": "rejected", "reason": f"unknown campaign {their_campaign.pk}"},
        {"status": "rejected", "reason": "unknown campaign_external_id 'only-theirs'"},
        {
            "status": "rejected",
            "reason": "unknown campaign_external_id 'only-theirs' in brand 'Theirs'",
        },
    ]
    assert not any("Theirs" in o["reason"] for o in outcomes[1:3])
    assert stored_keys() == {("google-ads", "mine")}
    assert not BrandPeriodSpend.objects.filter(brand=theirs).exists()
    assert not CampaignPeriodSpend.objects.filter(campaign=their_campaign).exists()
    # Its tiny budget would have paused it had anything been recorded.
    assert state(their_campaign) == ("running", None)


# (what is wrong with the event, the reason given for it)
INVALID_EVENTS = [
    pytest.param({"currency": "EUR"}, "currency 'EUR' does not match the brand's currency 'USD'"),
    pytest.param({"amount": "1.1234567"}, "has more than 6 decimal places", id="7-decimals"),
    pytest.param({"amount": "1e3"}, "not a number in plain decimal notation", id="exponent"),
    pytest.param({"amount": "1_000"}, "not a number in plain decimal notation", id="underscore"),
    pytest.param({"amount": "\u0661\u0662"}, "not a number in plain decimal notation", id="arabic"),
    pytest.param({"amount": "12."}, "not a number in plain decimal notation", id="bare-point"),
    pytest.param(
        {"amount": "99999999999999999999999.0000001"}, "more than 6 decimal places", id="29-digits"
    ),
    pytest.param({"amount": "1E+999999999999999999"}, "plain decimal notation", id="huge-exp"),
    pytest.param({"amount": 10**40}, "out of range", id="json-huge-integer"),
    pytest.param({"amount": True}, "amount: Input should be a valid string", id="json-bool"),
    pytest.param({"amount": "0"}, "amount must be greater than zero", id="zero"),
    pytest.param({"amount": "-3"}, "amount must be greater than zero", id="negative"),
    pytest.param({"amount": "ten"}, "amount 'ten' is not a number", id="not-a-number"),
    pytest.param({"amount": "NaN"}, "is not a finite number", id="nan"),
    pytest.param(
        {"occurred_at": "2026-06-10T12:00:00"}, "occurred_at has no time zone offset", id="naive"
    ),
    pytest.param(
        {"occurred_at": "2026-06-10T12:05:01+00:00"},
        "is more than 5 minutes in the future",
        id="5min-1s-ahead",
    ),
    pytest.param(
        {"occurred_at": "yesterday"}, "is not an ISO-8601 date and time", id="not-iso-8601"
    ),
    pytest.param({"campaign": 999_999}, "unknown campaign 999999", id="unknown-campaign"),
    pytest.param(
        {"campaign_external_id": "x"},
        "give exactly one of campaign and campaign_external_id",
        id="two-references",
    ),
    pytest.param({"event_id": None}, "event_id: Field required", id="no-event-id"),
    pytest.param({"source": ""}, "source: String should have at least 1 character", id="no-source"),
    pytest.param({"colour": "red"}, "colour: Extra inputs are not permitted", id="extra-field"),
]


@pytest.mark.parametrize(("change", "reason"), INVALID_EVENTS)
def test_an_invalid_event_is_rejected_with_its_reason_and_the_valid_one_is_stored(
    api: ApiClient, change: dict[str, Any], reason: str
) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    bad = {**event(campaign.pk, "3", event_id="bad"), **change}
    bad = {key: value for key, value in bad.items() if value is not None}

    response = api.post("/spend/events", {"events": [event(campaign.pk, "2", event_id="ok"), bad]})

    assert response.status_code == 200
    first, second = results(response.json())
    assert first == ACCEPTED
    assert second["status"] == "rejected"
    assert reason in second["reason"]
    assert stored_keys() == {("google-ads", "ok")}
    assert campaign_day(campaign.pk) == Decimal("2.00")


@pytest.mark.parametrize(("change", "reason"), INVALID_EVENTS)
def test_a_batch_of_only_invalid_events_answers_422_and_stores_nothing(
    api: ApiClient, change: dict[str, Any], reason: str
) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    bad = {**event(campaign.pk, "3"), **change}
    bad = {key: value for key, value in bad.items() if value is not None}

    response = api.post("/spend/events", {"events": [bad]})

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("no event was accepted; first reason: ")
    assert reason in detail
    assert SpendEvent.objects.count() == 0
    assert not CampaignPeriodSpend.objects.exists()


def test_an_event_exactly_5_minutes_ahead_is_accepted(api: ApiClient) -> None:
    campaign = make_campaign(make_brand())
    ahead = (NOON + timedelta(minutes=5)).isoformat()

    response = api.post("/spend/events", {"events": [event(campaign.pk, occurred_at=ahead)]})

    assert results(response.json()) == [ACCEPTED]


def test_the_422_answer_has_the_batch_shape_with_counts_results_and_detail(api: ApiClient) -> None:
    campaign = make_campaign(make_brand())

    response = api.post(
        "/spend/events",
        {"events": [event(campaign.pk, currency="EUR"), event(999_999)]},
    )

    assert response.status_code == 422
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (0, 0, 2)
    assert results(body) == [
        {
            "status": "rejected",
            "reason": "currency 'EUR' does not match the brand's currency 'USD'",
        },
        {"status": "rejected", "reason": "unknown campaign 999999"},
    ]
    assert body["detail"] == (
        "no event was accepted; first reason: currency 'EUR' does not match the brand's "
        "currency 'USD'"
    )


def test_a_batch_that_crosses_the_brand_daily_budget_returns_with_the_campaigns_paused(
    api: ApiClient,
) -> None:
    brand = make_brand(daily="100", monthly="1000")
    first, second = make_campaign(brand), make_campaign(brand)

    response = api.post(
        "/spend/events", {"events": [event(first.pk, "60"), event(second.pk, "50")]}
    )
    assert response.status_code == 200

    for campaign in (first, second):
        shown = api.get(f"/campaigns/{campaign.pk}").json()
        assert (shown["status"], shown["pause_reason"]) == ("paused", "brand_daily_budget")
        assert shown["status_changed_at"] == "2026-06-10T12:00:00Z"
        assert shown["budgets"][0] == {
            "scope": "brand",
            "period": "day",
            "period_start": "2026-06-10",
            "spend": "110.00",
            "budget": "100.00",
            "remaining": "0.00",
            "exhausted": True,
            "name": None,
            "period_end": None,
        }
    change = CampaignStatusChange.objects.get(campaign=first)
    assert (change.to_status, change.reason, change.actor) == (
        "paused",
        "brand_daily_budget",
        "api:all brands",
    )


def test_a_batch_below_the_budget_leaves_the_campaign_running(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="100", monthly="1000"))

    api.post("/spend/events", {"events": [event(campaign.pk, "99.999999")]})

    shown = api.get(f"/campaigns/{campaign.pk}").json()
    assert (shown["status"], shown["pause_reason"]) == ("running", None)
    assert shown["budgets"][0]["remaining"] == "0.000001"


def test_malformed_json_is_a_400_with_a_message(api: ApiClient) -> None:
    response = api.post_raw("/spend/events", '{"events": [')

    assert response.status_code == 400
    assert response["content-type"].startswith("application/json")
    assert response.json()["detail"] == "Cannot parse request body"
    assert SpendEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param([], "events: Field required", id="a-list"),
        pytest.param(None, "events: Field required", id="null"),
        pytest.param({"totals": []}, "events: Field required", id="no-events"),
        pytest.param({"events": "x"}, "events: Input should be a valid list", id="not-a-list"),
        pytest.param(
            {"events": [1]}, "events.0: Input should be a valid dictionary", id="not-objects"
        ),
    ],
)
def test_a_body_without_a_list_of_event_objects_is_a_422_with_a_message(
    api: ApiClient, body: Any, message: str
) -> None:
    response = api.post("/spend/events", body)

    assert response.status_code == 422
    assert response.json()["detail"] == message


def test_an_empty_list_is_a_422(api: ApiClient) -> None:
    response = api.post("/spend/events", {"events": []})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("events: List should have at least 1 item")


def test_more_than_1000_events_is_a_422_with_a_message_and_stores_nothing(
    api: ApiClient,
) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))

    response = api.post(
        "/spend/events", {"events": [event(campaign.pk, "0.01") for _ in range(1001)]}
    )

    assert response.status_code == 422
    assert "events: List should have at most 1000 items" in response.json()["detail"]
    assert SpendEvent.objects.count() == 0


def test_a_batch_of_exactly_1000_events_is_taken(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))

    response = api.post(
        "/spend/events", {"events": [event(campaign.pk, "0.01") for _ in range(1000)]}
    )

    assert response.status_code == 200
    assert response.json()["accepted"] == 1000
    assert campaign_day(campaign.pk) == Decimal("10.00")


def test_a_body_over_5_mb_is_a_413_with_a_message(api: ApiClient) -> None:
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 5 * 1024 * 1024
    campaign = make_campaign(make_brand())
    body = json.dumps({"events": [event(campaign.pk, event_id="x" * (5 * 1024 * 1024))]})

    response = api.post_raw("/spend/events", body)

    assert response.status_code == 413
    assert response.json()["detail"] == "request body is larger than 5 MB"
    assert SpendEvent.objects.count() == 0


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024 * 1024)
def test_the_body_limit_follows_the_setting(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    small = json.dumps({"events": [event(campaign.pk)]})
    large = json.dumps({"events": [event(campaign.pk, "1", padding="x" * 1024 * 1024)]})

    assert api.post_raw("/spend/events", small).status_code == 200
    refused = api.post_raw("/spend/events", large)

    assert refused.status_code == 413
    assert refused.json()["detail"] == "request body is larger than 1 MB"
    assert SpendEvent.objects.count() == 1


# --- Inputs that must be refused, never answered with a server error ----------------------


def test_an_occurred_at_whose_local_date_is_out_of_range_is_rejected_not_a_500(
    secret: str,
) -> None:
    campaign = make_campaign(make_brand(timezone="America/New_York"))
    client = ApiClient(secret, raise_request_exception=False)

    response = client.post(
        "/spend/events", {"events": [event(campaign.pk, occurred_at="0001-01-01T00:00:00Z")]}
    )

    assert response.status_code == 422
    assert SpendEvent.objects.count() == 0


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"source": "feed\x00"}, id="source"),
        pytest.param({"event_id": "evt\x00-1"}, id="event_id"),
    ],
)
def test_a_nul_character_in_the_event_key_is_rejected_not_stored_under_another_key(
    secret: str, change: dict[str, str]
) -> None:
    campaign = make_campaign(make_brand())
    client = ApiClient(secret, raise_request_exception=False)

    response = client.post("/spend/events", {"events": [{**event(campaign.pk), **change}]})

    assert response.status_code == 422
    assert SpendEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        pytest.param(
            {"campaign": 2**63},
            "campaign: Input should be less than or equal to 9223372036854775807",
            id="campaign-id-past-bigint",
        ),
        pytest.param(
            {"campaign": None, "campaign_external_id": "cmp\x00"},
            "campaign_external_id: Value error, must not contain NUL characters",
            id="nul-external-id",
        ),
    ],
)
def test_a_campaign_reference_that_cannot_exist_is_rejected_not_queried(
    secret: str, reference: dict[str, Any], reason: str
) -> None:
    campaign = make_campaign(make_brand())
    client = ApiClient(secret, raise_request_exception=False)

    response = client.post("/spend/events", {"events": [event(campaign.pk, **reference)]})

    assert response.status_code == 422
    assert reason in response.json()["detail"]
