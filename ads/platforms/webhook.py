"""A generic signed webhook: pushes statuses to any URL (another platform, an agency's own
system). Push-only: it has no statuses or spend to read back.

The request: ``POST <url>`` with a JSON body
``{"sent_at": "<ISO-8601>", "campaigns": [{"id": "<platform campaign id>", "status":
"paused" | "running"}, ...]}``, signed as every webhook of this system is
(``ads.core.signing``: ``X-Ads-Timestamp`` and ``X-Ads-Signature``; a receiver checks it with
``verify_signature``). It goes through the egress policy (``ads.core.http``): https to a
public address, no redirect followed.

Budgets (the pacing of daily budgets): the same signed ``POST`` with ``{"sent_at", "campaigns":
[{"id": "<platform campaign id>", "daily_budget": "<decimal>", "currency": "<ISO 4217>"},
...]}``, the budget rounded down to the currency's unit; the receiver keeps each campaign's
spend of a day within it, and answers as for statuses.

A receiver answers 2xx when done (optionally ``{"failed": [{"id": ..., "message": ...}]}``
for campaigns it refused; each message is kept, cut to 500 printable characters), 429 or 5xx
to be retried (``Retry-After`` in seconds is honoured), 401 or 403 when the signature is not
accepted. Anything else it says is not shown to staff: a failure reads as the status code and
a fixed message. Delivering the same status twice must be harmless for the receiver (it is
for every platform we push to).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ads.core import http
from ads.core.currency import minor_units
from ads.core.signing import signed_headers
from ads.models import PlatformStatus
from ads.platforms.base import (
    BudgetPush,
    DailySpend,
    PlatformError,
    PushFailure,
    StatusPush,
    minor_units_floor,
)

TIMEOUT_SECONDS = 15


def failed_items(answer: object) -> list[PushFailure]:
    """The campaigns a 2xx answer says were refused (``{"failed": [...]}``), messages cut to
    printable text."""
    failed = answer.get("failed", []) if isinstance(answer, dict) else []
    if not isinstance(failed, list):
        return []
    return [
        PushFailure(
            http.printable(item.get("id"), 128),
            http.printable(item.get("message", "refused")) or "refused",
        )
        for item in failed
        if isinstance(item, dict)
    ]


def budget_text(push: BudgetPush) -> str:
    """The daily budget as a decimal string in the currency's own units, rounded down:
    ``"123.45"`` USD, ``"1500"`` JPY."""
    minor = Decimal(minor_units_floor(push.daily_budget, push.currency))
    return f"{minor.scaleb(-minor_units(push.currency)):f}"


class WebhookAdapter:
    max_batch = 5_000
    reads = False
    # A receiver is told the daily budget to keep to (README, "The webhook, for receivers"):
    # nothing in the protocol lets it spend more.
    overdelivery = Decimal(1)

    def __init__(self, *, url: str, credentials: Mapping[str, Any]) -> None:
        secret = credentials.get("secret")
        if not isinstance(secret, str) or not secret:
            raise PlatformError(
                'webhook credentials need {"secret": "..."}', retryable=False, auth=True
            )
        self.url = url
        self.secret = secret
        self.session = http.session()

    def push_statuses(self, pushes: Sequence[StatusPush]) -> list[PushFailure]:
        campaigns = [
            {"id": push.platform_campaign_id, "status": str(push.status)} for push in pushes
        ]
        return self._post(campaigns, "status webhook")

    def push_budgets(self, pushes: Sequence[BudgetPush]) -> list[PushFailure]:
        campaigns = [
            {
                "id": push.platform_campaign_id,
                # Rounded down to the currency's unit, as every platform is written.
                "daily_budget": budget_text(push),
                "currency": push.currency,
            }
            for push in pushes
        ]
        return self._post(campaigns, "budget webhook")

    def _post(self, campaigns: list[dict[str, str]], what: str) -> list[PushFailure]:
        body = json.dumps(
            {"sent_at": datetime.now(UTC).isoformat(), "campaigns": campaigns},
            separators=(",", ":"),
        ).encode()
        headers = signed_headers(secret=self.secret, timestamp=int(time.time()), body=body)
        try:
            response = http.post(
                self.session,
                self.url,
                body=body,
                headers=headers,
                timeout=TIMEOUT_SECONDS,
                what=what,
            )
        except http.HttpFailure as exc:
            raise PlatformError(
                f"webhook {exc.message}",
                retryable=exc.retryable,
                retry_after=exc.retry_after,
                auth=exc.auth,
            ) from None
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = {}
        return failed_items(answer)

    def read_statuses(self, platform_campaign_ids: Sequence[str]) -> dict[str, PlatformStatus]:
        return {}

    def read_daily_spend(
        self, platform_campaign_ids: Sequence[str], days: Sequence[date]
    ) -> list[DailySpend]:
        return []
