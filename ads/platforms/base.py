"""The one interface every ad platform adapter implements, and how credentials are read.

An adapter turns our decisions into the platform's calls and reads back what the platform
holds. It never touches the database: the outbox and sync services do, around it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlsplit

from ads.models import AdAccount, CampaignStatus, Platform, PlatformStatus


class PlatformError(Exception):
    """A whole call failed. ``retryable``: timeouts, throttling (429) and 5xx; then
    ``retry_after`` is the platform's hint in seconds, if it gave one. ``auth``: the account's
    credentials or permissions were refused, which no retry will fix."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        auth: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.auth = auth


@dataclass(frozen=True)
class StatusPush:
    platform_campaign_id: str
    status: CampaignStatus


@dataclass(frozen=True)
class PushFailure:
    """One campaign of a batch that the platform refused (the rest went through)."""

    platform_campaign_id: str
    message: str
    retryable: bool = False


@dataclass(frozen=True)
class DailySpend:
    platform_campaign_id: str
    day: date  # the account's own reporting date, which the account's zone defines
    amount: Decimal


class Adapter(Protocol):
    """One platform account. ``max_batch`` is the most statuses one call may carry;
    ``reads`` says whether it can read statuses and spend back (a webhook cannot)."""

    max_batch: int
    reads: bool

    def push_statuses(self, pushes: Sequence[StatusPush]) -> list[PushFailure]:
        """Set each campaign's status (one call per batch). Setting a status a campaign
        already has is a no-op on every platform, so a repeat is harmless. Raises
        PlatformError when the whole call failed."""
        ...

    def read_statuses(self, platform_campaign_ids: Sequence[str]) -> dict[str, PlatformStatus]:
        """The status the platform holds for each campaign it knows."""
        ...

    def read_daily_spend(
        self, platform_campaign_ids: Sequence[str], days: Sequence[date]
    ) -> list[DailySpend]:
        """Each campaign's spend on each of ``days`` (campaigns without spend may be left out)."""
        ...


def account_credentials(account: AdAccount, environ: Mapping[str, str] = os.environ) -> Any:
    """The account's secrets: JSON in the variable named by ``credentials_env``, or in the
    file that ``<credentials_env>_FILE`` names. Never stored in the database."""
    name = account.credentials_env
    raw = environ.get(name, "").strip()
    path = environ.get(f"{name}_FILE", "").strip()
    if not raw and path:
        try:
            with open(path, encoding="utf-8") as handle:
                raw = handle.read()
        except OSError as exc:
            raise PlatformError(
                f"cannot read {name}_FILE={path!r}: {exc.strerror}", retryable=False, auth=True
            ) from None
    if not raw:
        raise PlatformError(
            f"no credentials: set {name} (JSON) or {name}_FILE (a path to JSON)",
            retryable=False,
            auth=True,
        )
    try:
        value = json.loads(raw)
    except ValueError:
        raise PlatformError(
            f"credentials in {name} are not JSON", retryable=False, auth=True
        ) from None
    if not isinstance(value, dict):
        raise PlatformError(
            f"credentials in {name} must be a JSON object", retryable=False, auth=True
        )
    return value


def is_loopback_url(url: str) -> bool:
    """Plain-text endpoints (http, insecure gRPC) are allowed to this machine only: the local
    fake servers of the tests and the benchmark."""
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    return host in {"127.0.0.1", "localhost", "::1"}


def adapter_for(account: AdAccount) -> Adapter:
    """The adapter of the account's platform, with its credentials loaded."""
    credentials = account_credentials(account)
    # Imported here: each platform's client library is loaded only when an account uses it.
    if account.platform == Platform.WEBHOOK:
        from ads.platforms.webhook import WebhookAdapter

        return WebhookAdapter(url=account.account_id, credentials=credentials)
    if account.platform == Platform.META:
        from ads.platforms.meta import MetaAdapter

        return MetaAdapter(account_id=account.account_id, credentials=credentials)
    if account.platform == Platform.GOOGLE_ADS:
        from ads.platforms.google_ads import GoogleAdsAdapter

        return GoogleAdsAdapter(customer_id=account.account_id, credentials=credentials)
    raise PlatformError(f"unknown platform {account.platform!r}", retryable=False, auth=True)
