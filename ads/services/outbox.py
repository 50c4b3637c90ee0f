"""What both outboxes share: platform status pushes (``ads.platforms.outbox``) and alert
deliveries (``ads.notifications.alerts``).

An outbox row is written in the transaction of the change that causes it, then delivered
in three steps, so that no row lock is held while the network is waited on:

1. **claim** (``claim_due``): due rows (``pending`` and due, or ``sending`` with a lease
   that ran out) become ``sending`` with a lease, and their attempt is counted, in one
   statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent workers take
   different rows), committed at once;
2. **send**, with no transaction open;
3. **finish** (``finish_claimed``): each row's outcome, set-based, and only where the row is
   still under this worker's lease (a worker whose lease ran out lost the row to another).

A worker that dies between 2 and 3 leaves its rows ``sending``; when the lease runs out the
next pass sends them again, which the receivers treat as a no-op. Retries back off
exponentially with jitter (``backoff_seconds``), never sooner than the receiver's hint.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from ads.core.sql import adapt, rows_cte, skip_locked

PENDING = "pending"
SENDING = "sending"
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0


def backoff_seconds(attempts: int, retry_after: float | None, rng: random.Random) -> float:
    """Exponential backoff with jitter (half fixed, half random), never sooner than the
    receiver's own retry hint."""
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    delay = delay / 2 + rng.uniform(0, delay / 2)
    return float(max(delay, retry_after or 0.0, 1.0))


def due(alias: str = "d") -> str:
    """Rows of ``alias`` due at an instant: the clause takes that instant twice (``[at, at]``):
    waiting and due, or claimed by a worker whose lease ran out."""
    return (
        f"(({alias}.state = '{PENDING}' AND {alias}.next_attempt_at <= %s)"
        f" OR ({alias}.state = '{SENDING}' AND {alias}.lease_until < %s))"
    )


def claim_due(
    *,
    table: str,
    returning: str,
    at: datetime,
    lease_until: datetime,
    limit: int,
    where: str = "",
    params: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """Claim up to ``limit`` due rows of ``table`` (oldest first; ``where`` narrows with
    alias ``d``), committed before returning ``returning`` of each."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table}
            SET state = %s, lease_until = %s, attempts = attempts + 1
            WHERE id IN (
                SELECT d.id FROM {table} d
                WHERE {due()}{f" AND {where}" if where else ""}
                ORDER BY d.id LIMIT %s{skip_locked()})
            RETURNING {returning}""",
            [SENDING, adapt(lease_until), adapt(at), adapt(at), *params, limit],
        )
        return [tuple(row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class Finished:
    """One claimed row's outcome: its new state, the error to show (empty when none), and
    for a row back in the queue, when it is due again."""

    id: int
    state: str
    error: str = ""
    next_attempt_at: datetime | None = None


def finish_claimed(
    *,
    table: str,
    outcomes: Sequence[Finished],
    lease_until: datetime,
    stamp_column: str,
    stamp_states: Sequence[str],
    at: datetime,
) -> int:
    """Record ``outcomes``, set-based; only rows still under this worker's lease change.
    ``stamp_column`` gets ``at`` for rows entering one of ``stamp_states`` (finished or
    sent), NULL otherwise. Helper: inside the caller's transaction. Rows changed."""
    if not outcomes:
        return 0
    cte, params = rows_cte(
        "v",
        (("id", "bigint"), ("state", "text"), ("error", "text"), ("next_at", "timestamptz")),
        [(o.id, o.state, o.error, o.next_attempt_at) for o in outcomes],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte}
            UPDATE {table} SET state = v.state, last_error = v.error, lease_until = NULL,
                next_attempt_at = COALESCE(v.next_at, {table}.next_attempt_at),
                {stamp_column} = CASE WHEN v.state IN ({", ".join(["%s"] * len(stamp_states))})
                    THEN %s ELSE NULL END
            FROM v
            WHERE {table}.id = v.id AND {table}.state = %s AND {table}.lease_until = %s""",
            params + list(stamp_states) + [adapt(at), SENDING, adapt(lease_until)],
        )
        return int(cursor.rowcount)
