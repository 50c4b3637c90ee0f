"""How far behind each outbox is: what waits to leave, since when the longest-waiting due row
has been due, and what failed for good.

One function per outbox, one query each whatever the number of rows, read by ``/status``,
``/metrics`` and ``doctor`` alike: one rule, several readers. While the broker is down the
web keeps serving and these rows pile up; these figures are how an operator sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NotRequired, Protocol, TypedDict

from django.conf import settings
from django.db.models import Case, Count, F, Min, Q, When

from ads.models import AlertDelivery, PlatformDelivery
from ads.services.outbox import PENDING, SENDING
from ads.services.platform_queue import LEASE

# An alert delivery due for longer than this was not taken by the deliver_alerts job, which
# beat runs every minute: a worker (or beat) is missing.
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
    # Where staff look at the rows.
    admin_page: str

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


def _figures(model: type[PlatformDelivery] | type[AlertDelivery], at: datetime) -> dict[str, Any]:
    """Backlog, failed and oldest due of an outbox table; both share the claim's states."""
    # Due as the claim sees it (ads.services.outbox): pending and its backoff over, or
    # sending with the lease run out (its worker died), due again since the lease ended.
    due_since = Case(
        When(state=PENDING, next_attempt_at__lte=at, then=F("next_attempt_at")),
        When(state=SENDING, lease_until__lt=at, then=F("lease_until")),
    )
    return model.objects.filter(state__in=(PENDING, SENDING, "failed")).aggregate(
        backlog=Count("id", filter=Q(state__in=(PENDING, SENDING))),
        failed=Count("id", filter=Q(state="failed")),
        oldest_due=Min(due_since),
    )


def platform_pushes_backlog(*, at: datetime) -> OutboxBacklog:
    """The platform status outbox (ads/platforms/outbox.py) at ``at``. Only reads."""
    figures = _figures(PlatformDelivery, at)
    return OutboxBacklog(
        outbox="platform_pushes",
        at=at,
        backlog=figures["backlog"],
        failed=figures["failed"],
        oldest_due=figures["oldest_due"],
        # Beat starts a pass every push interval, and a pass under way holds its rows for up
        # to a lease: a due row older than both is one no worker is taking.
        wait_limit=LEASE + timedelta(minutes=settings.PLATFORM_PUSH_INTERVAL_MINUTES),
        admin_page="Platform deliveries",
    )


def alert_deliveries_backlog(*, at: datetime) -> OutboxBacklog:
    """The alert outbox (ads/notifications/alerts.py) at ``at``. Only reads."""
    figures = _figures(AlertDelivery, at)
    return OutboxBacklog(
        outbox="alert_deliveries",
        at=at,
        backlog=figures["backlog"],
        failed=figures["failed"],
        oldest_due=figures["oldest_due"],
        wait_limit=STUCK_DELIVERY,
        admin_page="Alert deliveries",
    )


class BacklogReader(Protocol):
    def __call__(self, *, at: datetime) -> OutboxBacklog: ...


# Every outbox by the name its figures carry, in the order they are reported.
OUTBOXES: dict[str, BacklogReader] = {
    "platform_pushes": platform_pushes_backlog,
    "alert_deliveries": alert_deliveries_backlog,
}
