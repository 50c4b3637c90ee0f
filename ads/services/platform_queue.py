"""The ad-platform outbox's writing side, in the engine: pushes queued in the transaction of
the transition (or the link) that decided them, so a crash can delay a push but never lose
or invent one. An older pending row of the same campaign is superseded there: the newest
decision wins. Delivering the rows is ``ads.platforms.outbox``'s job (an integration)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction

from ads.core import nudge
from ads.core.sql import adapt, rows_cte
from ads.models import DeliveryState, PlatformDelivery
from ads.services.rule import Transition

# A claimed row is another worker's for this long; then it is claimable again.
LEASE = timedelta(minutes=5)
# The beat job that delivers this outbox, nudged after each commit that queued a push.
PUSH_TASK = "ads.push_platform_status"


def deliveries_enqueue_locked(transitions: Sequence[Transition], *, at: datetime) -> int:
    """Add a delivery for each transition that changes the status of a campaign with an ad
    account, inside the caller's transaction. Returns how many were added."""
    return enqueue_locked(
        [(t.campaign_id, t.to_status) for t in transitions if t.from_status != t.to_status],
        at=at,
    )


def enqueue_locked(rows: Sequence[tuple[int, str]], *, at: datetime) -> int:
    """Queue (campaign id, desired status) pushes inside the caller's transaction."""
    if not rows:
        return 0
    with connection.cursor() as cursor:
        # Without any ad account (the common case before platforms are connected) a sweep's
        # transitions cost one indexed probe here, not a join over all of them (nor building
        # their rows: 0.05 s for 40,000).
        cursor.execute("SELECT 1 FROM ads_adaccount LIMIT 1")
        if cursor.fetchone() is None:
            return 0
        cte, params = rows_cte("v", (("campaign_id", "bigint"), ("status", "text")), rows)
        # Set-based: one statement supersedes what is still waiting, one adds the new rows
        # (campaigns without an account drop out in the join).
        cursor.execute(
            f"""WITH {cte}
            UPDATE ads_platformdelivery SET state = %s, finished_at = %s
            WHERE state = %s AND campaign_id IN (SELECT campaign_id FROM v)""",
            params + [DeliveryState.SUPERSEDED, adapt(at), DeliveryState.PENDING],
        )
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO ads_platformdelivery
                (account_id, campaign_id, desired_status, state, created_at, attempts,
                 next_attempt_at, last_error)
            SELECT c.ad_account_id, c.id, v.status, %s, %s, 0, %s, ''
            FROM v JOIN ads_campaign c ON c.id = v.campaign_id
            WHERE c.ad_account_id IS NOT NULL""",
            params + [DeliveryState.PENDING, adapt(at), adapt(at)],
        )
        added = int(cursor.rowcount)
    if added:
        transaction.on_commit(_push_soon)
    return added


def _push_soon() -> None:
    nudge.request(PUSH_TASK)


def deliveries_retry(*, delivery_ids: Sequence[int], at: datetime) -> int:
    """Queue failed deliveries again (staff, after fixing the cause), unless a newer decision
    for the campaign exists. Safe to run twice."""
    with transaction.atomic():
        count = (
            # A newer decision for the campaign supersedes it at the next claim.
            PlatformDelivery.objects.filter(id__in=delivery_ids, state=DeliveryState.FAILED).update(
                state=DeliveryState.PENDING, next_attempt_at=at, attempts=0, finished_at=None
            )
        )
    if count:
        transaction.on_commit(_push_soon)
    return count
