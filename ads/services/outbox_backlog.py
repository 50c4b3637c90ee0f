"""How far behind each outbox is: what waits to leave, since when the longest-waiting due row
has been due, and what failed for good.

One function per outbox, one query each whatever the number of rows, read by ``/status``,
``/metrics`` and ``doctor`` alike: one rule, several readers. While the broker is down the
web keeps serving and these rows pile up; these figures are how an operator sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NotRequired, Protocol, TypedDict

from django.conf import settings
from django.db.models import Case, Count, F, Min, Q, When

from ads.models import AlertDelivery, AlertDeliveryState, DeliveryState, PlatformDelivery
from ads.platforms.outbox import LEASE

# A delivery still pending after this has missed its retries' window (about 8 minutes of
# backoff over 6 attempts): a worker is missing.
STUCK_DELIVERY = timedelta(minutes=10)


class OutboxStatus(TypedDict):
    ok: bool
    # None only when the figures could not be read (then ``detail`` says why).
    backlog: int | None
    oldest_due: str | None
    oldest_due_age_seconds: int | None
    failed: int | None
    detail: NotRequired[str]


@dataclass(frozen=True)
class OutboxBacklog:
    outbox: str
    at: datetime
    # Rows still to deliver (due now, backing off, or in flight).
    backlog: int
    # Rows that failed for good: someone has to look.
    failed: int
    # Since when the longest-waiting row that could be sent now has been due.
    oldest_due: datetime | None
    # A due row waiting longer than this means no worker is taking them.
    wait_limit: timedelta

    @property
    def oldest_due_age(self) -> timedelta | None:
        if self.oldest_due is None:
            return None
        # A row created "after" ``at`` (another machine's clock) has waited for no time.
        return max(timedelta(0), self.at - self.oldest_due)

    @property
    def oldest_due_age_seconds(self) -> int | None:
        age = self.oldest_due_age
        return None if age is None else int(age.total_seconds())

    @property
    def ok(self) -> bool:
        age = self.oldest_due_age
        return self.failed == 0 and (age is None or age <= self.wait_limit)

    def as_dict(self) -> OutboxStatus:
        return {
            "ok": self.ok,
            "backlog": self.backlog,
            "oldest_due": self.oldest_due.isoformat() if self.oldest_due else None,
            "oldest_due_age_seconds": self.oldest_due_age_seconds,
            "failed": self.failed,
        }

    def describe(self) -> str:
        limit = int(self.wait_limit.total_seconds())
        due = (
            "none due"
            if self.oldest_due is None
            else f"oldest due {self.oldest_due_age_seconds}s ago (limit {limit}s)"
        )
        return f"{self.backlog} waiting, {due}; {self.failed} failed for good"


def platform_pushes_backlog(*, at: datetime) -> OutboxBacklog:
    """The platform status outbox (ads/platforms/outbox.py) at ``at``. Only reads."""
    S = DeliveryState
    # Due as the claim sees it: pending and its backoff over, or sending with the lease run
    # out (its worker died), due again since the lease ended.
    due_since = Case(
        When(state=S.PENDING, next_attempt_at__lte=at, then=F("next_attempt_at")),
        When(state=S.SENDING, lease_until__lt=at, then=F("lease_until")),
    )
    figures = PlatformDelivery.objects.filter(state__in=(S.PENDING, S.SENDING, S.FAILED)).aggregate(
        backlog=Count("id", filter=Q(state__in=(S.PENDING, S.SENDING))),
        failed=Count("id", filter=Q(state=S.FAILED)),
        oldest_due=Min(due_since),
    )
    return OutboxBacklog(
        outbox="platform_pushes",
        at=at,
        backlog=figures["backlog"],
        failed=figures["failed"],
        oldest_due=figures["oldest_due"],
        # Beat starts a pass every push interval, and a pass under way holds its rows for up
        # to a lease: a due row older than both is one no worker is taking.
        wait_limit=LEASE + timedelta(minutes=settings.PLATFORM_PUSH_INTERVAL_MINUTES),
    )


def alert_deliveries_backlog(*, at: datetime) -> OutboxBacklog:
    """The alert outbox at ``at``. Only reads.

    Its rows know only their state and creation (retries wait in the broker, not in the
    row), so every pending row counts as due since it was created.
    """
    figures = AlertDelivery.objects.filter(
        state__in=(AlertDeliveryState.PENDING, AlertDeliveryState.FAILED)
    ).aggregate(
        backlog=Count("id", filter=Q(state=AlertDeliveryState.PENDING)),
        failed=Count("id", filter=Q(state=AlertDeliveryState.FAILED)),
        oldest_due=Min("created_at", filter=Q(state=AlertDeliveryState.PENDING)),
    )
    return OutboxBacklog(
        outbox="alert_deliveries",
        at=at,
        backlog=figures["backlog"],
        failed=figures["failed"],
        oldest_due=figures["oldest_due"],
        wait_limit=STUCK_DELIVERY,
    )


class BacklogReader(Protocol):
    def __call__(self, *, at: datetime) -> OutboxBacklog: ...


# Every outbox by the name its figures carry, in the order they are reported.
OUTBOXES: dict[str, BacklogReader] = {
    "platform_pushes": platform_pushes_backlog,
    "alert_deliveries": alert_deliveries_backlog,
}
