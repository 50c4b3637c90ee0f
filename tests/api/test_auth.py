"""Bearer tokens: who may call, and that the secret never reaches a log. Public docs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection

from ad_budget_system.logfmt import KeyValueFormatter
from ads.models import Campaign, SpendEvent
from ads.services.tokens import token_create, tokens_revoke
from tests.api.helpers import NOON, ApiClient, event
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(db: None) -> Campaign:
    return make_campaign(make_brand("Acme"))


def call_every_endpoint(client: ApiClient, campaign: Campaign) -> list[tuple[int, Any]]:
    """(status, body) of each endpoint, called with a valid request."""
    responses = [
        client.get(f"/campaigns/{campaign.pk}"),
        client.get(f"/brands/{campaign.brand_id}/budget"),
        client.post("/spend/events", {"events": [event(campaign.pk)]}),
        client.post(
            "/spend/daily-totals",
            {
                "totals": [
                    {
                        "campaign": campaign.pk,
                        "date": "2026-06-10",
                        "total": "1",
                        "reported_at": NOON.isoformat(),
                        "source": "platform",
                    }
                ]
            },
        ),
    ]
    return [(response.status_code, response.json()) for response in responses]


UNAUTHORIZED = [(401, {"detail": "Unauthorized"})] * 4


def test_a_valid_token_may_call_every_endpoint(secret: str, campaign: Campaign) -> None:
    assert [status for status, _ in call_every_endpoint(ApiClient(secret), campaign)] == [
        200,
        200,
        200,
        200,
    ]


def test_without_a_token_every_endpoint_is_a_401_and_nothing_is_stored(
    campaign: Campaign,
) -> None:
    assert call_every_endpoint(ApiClient(None), campaign) == UNAUTHORIZED
    assert not SpendEvent.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer abk_not-a-real-token", id="unknown-token"),
        pytest.param("Bearer ", id="empty-token"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic-auth"),
    ],
)
def test_a_wrong_token_is_a_401(campaign: Campaign, header: str) -> None:
    client = ApiClient(None)
    client.client.defaults["HTTP_AUTHORIZATION"] = header

    assert call_every_endpoint(client, campaign) == UNAUTHORIZED
    assert not SpendEvent.objects.exists()


def test_a_revoked_token_is_a_401(campaign: Campaign) -> None:
    token, secret = token_create(name="feed", brand_ids=[], by_superuser=True, at=NOON)
    client = ApiClient(secret)
    assert client.get(f"/campaigns/{campaign.pk}").status_code == 200

    tokens_revoke(token_ids=[token.pk], at=NOON)

    assert call_every_endpoint(client, campaign) == UNAUTHORIZED
    assert SpendEvent.objects.count() == 0


def test_an_expired_token_is_a_401_from_its_expiry_on(
    campaign: Campaign, clock: time_machine.Traveller
) -> None:
    expires_at = NOON + timedelta(hours=1)
    _, secret = token_create(
        name="feed", brand_ids=[], by_superuser=True, at=NOON, expires_at=expires_at
    )
    client = ApiClient(secret)

    clock.move_to(expires_at - timedelta(seconds=1))
    assert client.get(f"/campaigns/{campaign.pk}").status_code == 200

    clock.move_to(expires_at)
    assert call_every_endpoint(client, campaign) == UNAUTHORIZED


def test_a_successful_call_records_when_the_token_was_last_used(campaign: Campaign) -> None:
    token, secret = token_create(name="feed", brand_ids=[], by_superuser=True, at=NOON)

    ApiClient(secret).get(f"/campaigns/{campaign.pk}")

    token.refresh_from_db()
    assert token.last_used_at == NOON


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def logs() -> Iterator[_Records]:
    """Every record at DEBUG and above, SQL included, formatted as the console would.

    A handler of its own rather than caplog, so this also runs under `-p no:logging`.
    """
    handler = _Records()
    root, sql = logging.getLogger(), logging.getLogger("django.db.backends")
    levels = root.level, sql.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    sql.setLevel(logging.DEBUG)
    connection.force_debug_cursor = True
    try:
        yield handler
    finally:
        connection.force_debug_cursor = False
        root.removeHandler(handler)
        root.setLevel(levels[0])
        sql.setLevel(levels[1])


def test_the_secret_never_appears_in_the_logs(
    campaign: Campaign, logs: _Records, clock: time_machine.Traveller
) -> None:
    token, secret = token_create(name="feed", brand_ids=[], by_superuser=True, at=NOON)
    client = ApiClient(secret)

    ok = client.post("/spend/events", {"events": [event(campaign.pk, "5")]})
    rejected = client.post("/spend/events", {"events": [event(campaign.pk, "-5")]})
    malformed = client.post_raw("/spend/events", "{")
    tokens_revoke(token_ids=[token.pk], at=NOON)
    clock.shift(timedelta(minutes=2))  # so the token lookup is not skipped as recent
    refused = client.get(f"/campaigns/{campaign.pk}")

    assert [r.status_code for r in (ok, rejected, malformed, refused)] == [200, 422, 400, 401]
    # The capture works: the requests and the token lookup were logged.
    assert "spend batch: 1 accepted" in logs.text
    assert "Unauthorized: /api/v1/campaigns/" in logs.text
    assert "ads_apitoken" in logs.text
    assert secret not in logs.text
    assert secret[len(token.prefix) :] not in logs.text


def test_the_openapi_schema_is_public(db: None) -> None:
    response = ApiClient(None).get("/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) == {
        "/api/v1/spend/events",
        "/api/v1/spend/daily-totals",
        "/api/v1/campaigns/{campaign_id}",
        "/api/v1/brands/{brand_id}/budget",
        "/api/v1/brands",
        "/api/v1/brands/{brand_id}",
        "/api/v1/campaigns",
        "/api/v1/brands/{brand_id}/flights",
        "/api/v1/flights/{flight_id}",
        "/api/v1/brands/{brand_id}/shared-budgets",
        "/api/v1/shared-budgets/{shared_budget_id}",
        "/api/v1/brands/{brand_id}/budget-changes",
        "/api/v1/budget-changes/{change_id}",
        "/api/v1/brands/{brand_id}/sources",
        "/api/v1/brands/{brand_id}/sources/{source}",
    }
    assert schema["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_the_docs_page_is_public_and_serves_its_assets_locally(db: None) -> None:
    client = ApiClient(None)

    response = client.get("/docs")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/" in page
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs", "https://"):
        assert cdn not in page
    assert client.client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
