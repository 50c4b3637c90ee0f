"""A request body is read as JSON only when it says it is JSON: any other Content-Type, or
none, is refused with 415 and a message saying what to send."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ads.models import ReportedDailyTotal, SpendEvent
from tests.api.helpers import NOON, TODAY, ApiClient, event
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db

SEND_JSON = "send the body as JSON with Content-Type: application/json"


def _bodies(campaign_id: int) -> dict[str, dict[str, Any]]:
    return {
        "/spend/events": {"events": [event(campaign_id, "1.00")]},
        "/spend/daily-totals": {
            "totals": [
                {
                    "campaign": campaign_id,
                    "date": TODAY.isoformat(),
                    "total": "5.00",
                    "reported_at": NOON.isoformat(),
                    "source": "google-ads",
                }
            ]
        },
    }


def _stored() -> tuple[int, int]:
    return SpendEvent.objects.count(), ReportedDailyTotal.objects.count()


@pytest.mark.parametrize("path", ["/spend/events", "/spend/daily-totals"])
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "application/octet-stream",
        # A +json type names another format (a patch, a problem report, JSON:API's
        # envelope); these endpoints take plain JSON only.
        "application/merge-patch+json",
        "application/vnd.api+json",
        "application/jsonx",
    ],
)
def test_a_json_body_sent_as_another_media_type_is_refused_with_415(
    api: ApiClient, path: str, content_type: str
) -> None:
    body = json.dumps(_bodies(make_campaign(make_brand()).pk)[path])

    response = api.client.post(f"/api/v1{path}", data=body, content_type=content_type)

    assert response.status_code == 415
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "detail": f"Content-Type {content_type} is not accepted; {SEND_JSON}"
    }
    assert _stored() == (0, 0)


@pytest.mark.parametrize("path", ["/spend/events", "/spend/daily-totals"])
def test_a_body_without_a_content_type_is_refused_with_415_saying_so(
    api: ApiClient, path: str
) -> None:
    body = json.dumps(_bodies(make_campaign(make_brand()).pk)[path])

    response = api.client.generic("POST", f"/api/v1{path}", data=body, content_type="")

    assert response.status_code == 415
    assert response.json() == {"detail": f"the request has a body but no Content-Type; {SEND_JSON}"}
    assert _stored() == (0, 0)


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "Application/JSON", "APPLICATION/json;charset=UTF-8"],
)
def test_application_json_is_taken_in_any_case_and_with_parameters(
    api: ApiClient, content_type: str
) -> None:
    body = json.dumps(_bodies(make_campaign(make_brand()).pk)["/spend/events"])

    response = api.client.post("/api/v1/spend/events", data=body, content_type=content_type)

    assert response.status_code == 200, response.json()
    assert response.json()["accepted"] == 1


def test_the_token_is_checked_before_the_content_type(secret: str) -> None:
    response = ApiClient(None).client.post(
        "/api/v1/spend/events", data="events=1", content_type="text/plain"
    )

    assert response.status_code == 401


def test_an_empty_body_has_nothing_to_refuse_and_is_a_malformed_envelope(api: ApiClient) -> None:
    response = api.client.post("/api/v1/spend/events", data="", content_type="text/plain")

    assert response.status_code == 422
    assert response.json()["detail"] == "Field required"


def test_the_openapi_document_lists_415_for_the_endpoints_that_take_a_body(
    api: ApiClient,
) -> None:
    document = api.client.get("/api/v1/openapi.json").json()

    for path in ("/api/v1/spend/events", "/api/v1/spend/daily-totals"):
        post = document["paths"][path]["post"]
        assert "415" in post["responses"], path
        assert list(post["requestBody"]["content"]) == ["application/json"], path
    assert "Content-Type: application/json" in document["info"]["description"]
