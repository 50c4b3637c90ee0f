"""A generic signed webhook: pushes statuses to any URL (another platform, an agency's own
system). Push-only: it has no statuses or spend to read back.

The request: ``POST <url>`` with a JSON body
``{"sent_at": "<ISO-8601>", "campaigns": [{"id": "<platform campaign id>", "status":
"paused" | "running"}, ...]}`` and two headers:

- ``X-Ads-Timestamp``: Unix seconds when it was signed;
- ``X-Ads-Signature``: ``v1=`` + hex HMAC-SHA256, keyed with the shared secret, of the
  timestamp, a dot, and the raw body bytes (``b"1767225600." + body``).

A receiver recomputes the signature over the bytes it received, compares in constant time,
and refuses timestamps older than a few minutes (replays); ``verify_signature`` below does
exactly that. It answers 2xx when done (optionally ``{"failed": [{"id": ..., "message":
...}]}`` for campaigns it refused), 429 or 5xx to be retried (``Retry-After`` in seconds is
honoured), 401 or 403 when the signature is not accepted. Delivering the same status twice
must be harmless for the receiver (it is for every platform we push to).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import requests

from ads.models import PlatformStatus
from ads.platforms.base import DailySpend, PlatformError, PushFailure, StatusPush

TIMESTAMP_HEADER = "X-Ads-Timestamp"
SIGNATURE_HEADER = "X-Ads-Signature"
SIGNATURE_VERSION = "v1"
# Receivers should refuse a timestamp further than this from their clock.
DEFAULT_TOLERANCE_SECONDS = 300
TIMEOUT_SECONDS = 15


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Ads-Signature`` value for ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={digest.hexdigest()}"


def verify_signature(
    *,
    secret: str,
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """For receivers: whether a request is authentic and fresh. ``now`` is Unix seconds."""
    if not timestamp_header or not signature_header:
        return False
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature_header.strip())


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return None


class WebhookAdapter:
    max_batch = 5_000
    reads = False

    def __init__(self, *, url: str, credentials: Mapping[str, Any]) -> None:
        secret = credentials.get("secret")
        if not isinstance(secret, str) or not secret:
            raise PlatformError(
                'webhook credentials need {"secret": "..."}', retryable=False, auth=True
            )
        self.url = url
        self.secret = secret
        self.session = requests.Session()

    def push_statuses(self, pushes: Sequence[StatusPush]) -> list[PushFailure]:
        sent_at = datetime.now(UTC)
        body = json.dumps(
            {
                "sent_at": sent_at.isoformat(),
                "campaigns": [
                    {"id": push.platform_campaign_id, "status": str(push.status)} for push in pushes
                ],
            },
            separators=(",", ":"),
        ).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
        }
        try:
            response = self.session.post(
                self.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS
            )
        except requests.RequestException as exc:
            raise PlatformError(f"webhook unreachable: {exc}", retryable=True) from None
        status = response.status_code
        text = response.text[:500]
        if status == 429 or status >= 500:
            raise PlatformError(
                f"webhook answered {status}: {text}",
                retryable=True,
                retry_after=_retry_after(response.headers),
            )
        if status in (401, 403):
            raise PlatformError(f"webhook answered {status}: {text}", retryable=False, auth=True)
        if not 200 <= status < 300:
            raise PlatformError(f"webhook answered {status}: {text}", retryable=False)
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = {}
        failed = answer.get("failed", []) if isinstance(answer, dict) else []
        return [
            PushFailure(str(item.get("id")), str(item.get("message", "refused")))
            for item in failed
            if isinstance(item, dict)
        ]

    def read_statuses(self, platform_campaign_ids: Sequence[str]) -> dict[str, PlatformStatus]:
        return {}

    def read_daily_spend(
        self, platform_campaign_ids: Sequence[str], days: Sequence[date]
    ) -> list[DailySpend]:
        return []
