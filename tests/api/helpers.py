"""Small typed helpers for the HTTP API tests: a client that speaks JSON with a token."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.test import Client

from ads.models import BrandPeriodSpend, CampaignPeriodSpend, SpendEvent

if TYPE_CHECKING:
    # What django.test.Client returns (a stub-only name): a response with .json().
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

# Wednesday 2026-06-10, noon UTC: 08:00 in New York (EDT, -04:00), 21:00 in Tokyo.
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 10)
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

_numbers = itertools.count(1)


class ApiClient:
    """django.test.Client with `Authorization: Bearer <secret>` on every request."""

    def __init__(self, secret: str | None, *, raise_request_exception: bool = True) -> None:
        headers = {} if secret is None else {"authorization": f"Bearer {secret}"}
        self.secret = secret
        # raise_request_exception=False turns an unhandled error into the 500 a client sees.
        self.client = Client(headers=headers, raise_request_exception=raise_request_exception)

    def post(self, path: str, body: Any, **headers: str) -> Response:
        return self.client.post(
            f"/api/v1{path}",
            data=json.dumps(body),
            content_type="application/json",
            headers=headers,
        )

    def patch(self, path: str, body: Any, **headers: str) -> Response:
        return self.client.patch(
            f"/api/v1{path}",
            data=json.dumps(body),
            content_type="application/json",
            headers=headers,
        )

    def delete(self, path: str, **headers: str) -> Response:
        return self.client.delete(f"/api/v1{path}", headers=headers)

    def post_raw(self, path: str, data: str | bytes) -> Response:
        return self.client.post(f"/api/v1{path}", data=data, content_type="application/json")

    def get(self, path: str) -> Response:
        return self.client.get(f"/api/v1{path}")


def event(campaign_id: int, amount: str = "10.00", **extra: Any) -> dict[str, Any]:
    """One spend event as a platform sends it (by campaign id unless overridden)."""
    body: dict[str, Any] = {
        "campaign": campaign_id,
        "amount": amount,
        "occurred_at": NOON.isoformat(),
        "source": "google-ads",
        "event_id": f"evt-{next(_numbers)}",
    }
    body.update(extra)
    return {key: value for key, value in body.items() if value is not None}


def by_external_id(external_id: str, amount: str = "10.00", **extra: Any) -> dict[str, Any]:
    return event(0, amount, campaign=None, campaign_external_id=external_id, **extra)


def stored_keys() -> set[tuple[str, str]]:
    """(source, external id) of every ledger row."""
    return set(SpendEvent.objects.values_list("source", "external_id"))


def campaign_day(campaign_id: int, day: date = TODAY) -> Decimal | None:
    row = CampaignPeriodSpend.objects.filter(
        campaign_id=campaign_id, period="day", period_start=day
    ).first()
    return None if row is None else row.amount


def brand_day(brand_id: int, day: date = TODAY) -> Decimal | None:
    row = BrandPeriodSpend.objects.filter(brand_id=brand_id, period="day", period_start=day).first()
    return None if row is None else row.amount
