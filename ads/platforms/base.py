"""The one interface every ad platform adapter implements (``ads.platforms.registry`` picks
the adapter of an account and loads its credentials).

An adapter turns our decisions into the platform's calls and reads back what the platform
holds. It never touches the database: the outbox and sync services do, around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol

from ads.core.currency import minor_units
from ads.models import CampaignStatus, PlatformStatus


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
class BudgetPush:
    """A campaign's daily budget, exact, in the account's currency."""

    platform_campaign_id: str
    daily_budget: Decimal
    currency: str


def minor_units_floor(amount: Decimal, currency: str) -> int:
    """``amount`` in the currency's minor units (cents, whole yen), rounded down: a budget
    written to a platform is never more than the one decided."""
    return int((amount * 10 ** minor_units(currency)).to_integral_value(rounding=ROUND_FLOOR))


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
    ``reads`` says whether it can read statuses and spend back (a webhook cannot);
    ``overdelivery`` is the most the platform may spend in one day, as a multiple of the
    campaign's daily budget (each adapter cites where its platform says so)."""

    max_batch: int
    reads: bool
    overdelivery: Decimal

    def push_statuses(self, pushes: Sequence[StatusPush]) -> list[PushFailure]:
        """Set each campaign's status (one call per batch). Setting a status a campaign
        already has is a no-op on every platform, so a repeat is harmless. Raises
        PlatformError when the whole call failed."""
        ...

    def push_budgets(self, pushes: Sequence[BudgetPush]) -> list[PushFailure]:
        """Set each campaign's daily budget (rounded down to the currency's minor unit).
        Writing a budget a campaign already has changes nothing, so a repeat is harmless.
        Raises PlatformError when the whole call failed."""
        ...

    def read_statuses(self, platform_campaign_ids: Sequence[str]) -> dict[str, PlatformStatus]:
        """The status the platform holds for each campaign it knows."""
        ...

    def read_daily_spend(
        self, platform_campaign_ids: Sequence[str], days: Sequence[date]
    ) -> list[DailySpend]:
        """Each campaign's spend on each of ``days`` (campaigns without spend may be left out)."""
        ...
