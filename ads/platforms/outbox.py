"""Delivering the transactional outbox of status pushes to ad platforms.

The rows are written by the engine, in the transaction of the transition that decided them
(``ads.services.platform_queue``). Delivering (``deliveries_push``, nudged after commit and
on a beat schedule): per account, claim due
rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; a conditional UPDATE everywhere), send them in
batches of the platform's size, record each row's outcome. A claimed row carries a lease; if
its worker dies after the platform call but before recording the outcome, the lease runs out
and the next pass sends the same status again, which every platform treats as a no-op.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from ads.core.sql import adapt, in_ids, rows_cte
from ads.models import (
    AccountHealth,
    AdAccount,
    CampaignStatus,
    DeliveryState,
)
from ads.platforms.base import Adapter, PlatformError, PushFailure, StatusPush
from ads.platforms.registry import adapter_for
from ads.services.outbox import Finished, backoff_seconds, claim_due, due, finish_claimed
from ads.services.platform_queue import LEASE

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SKIPPED_MESSAGE = "paused on the platform by someone else; not resumed"


@dataclass
class PushReport:
    """What one pass did, summed over the accounts it served."""

    dry_run: bool
    accounts: int = 0
    due: int = 0
    delivered: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0
    superseded: int = 0
    calls: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "accounts": self.accounts,
            "due": self.due,
            "delivered": self.delivered,
            "failed": self.failed,
            "retrying": self.retrying,
            "skipped": self.skipped,
            "superseded": self.superseded,
            "calls": self.calls,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class _Claimed:
    id: int
    campaign_id: int
    desired_status: str
    attempts: int
    platform_campaign_id: str
    paused_elsewhere: bool
    lost: bool = False  # an older row of a campaign claimed with a newer one: never sent


def _due_count(account_id: int, at: datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM ads_platformdelivery d WHERE d.account_id = %s AND {due()}",
            [account_id, adapt(at), adapt(at)],
        )
        return int(cursor.fetchone()[0])


def _supersede_stale(account_id: int, at: datetime) -> int:
    """A row back in the queue after a failed try loses to any newer decision."""
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE ads_platformdelivery SET state = %s, finished_at = %s, lease_until = NULL
            WHERE account_id = %s AND state = %s AND EXISTS (
                SELECT 1 FROM ads_platformdelivery n
                WHERE n.campaign_id = ads_platformdelivery.campaign_id
                    AND n.id > ads_platformdelivery.id)""",
            [DeliveryState.SUPERSEDED, adapt(at), account_id, DeliveryState.PENDING],
        )
        return int(cursor.rowcount)


def _claim(account_id: int, at: datetime, lease_until: datetime, limit: int) -> list[_Claimed]:
    """Take up to ``limit`` due rows of the account, oldest first. A campaign with a row
    still in flight elsewhere waits, so two statuses of one campaign never race."""
    rows = claim_due(
        table="ads_platformdelivery",
        returning="id, campaign_id, desired_status, attempts",
        at=at,
        lease_until=lease_until,
        limit=limit,
        where=f"""d.account_id = %s AND NOT EXISTS (
            SELECT 1 FROM ads_platformdelivery s
            WHERE s.campaign_id = d.campaign_id AND s.id <> d.id
                AND s.state = '{DeliveryState.SENDING}' AND s.lease_until >= %s)""",
        params=[account_id, adapt(at)],
    )
    if not rows:
        return []
    clause, params = in_ids("c.id", [row[1] for row in rows])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT c.id, c.platform_campaign_id, COALESCE(p.paused_elsewhere, FALSE),
                c.ad_account_id
            FROM ads_campaign c
            LEFT JOIN ads_campaignplatformstate p ON p.campaign_id = c.id
            WHERE {clause}""",
            params,
        )
        # A campaign unlinked (or moved to another account) since its row was queued: the row
        # is dropped rather than sent to the wrong place.
        campaigns = {
            row[0]: (row[1] or "", bool(row[2]), row[3] == account_id and bool(row[1]))
            for row in cursor.fetchall()
        }
    newest = {row[1]: row[0] for row in sorted(rows)}
    return [
        _Claimed(
            id=row[0],
            campaign_id=row[1],
            desired_status=row[2],
            attempts=row[3],
            platform_campaign_id=campaigns[row[1]][0],
            paused_elsewhere=campaigns[row[1]][1],
            # The newest claimed row of each campaign wins.
            lost=newest[row[1]] != row[0] or not campaigns[row[1]][2],
        )
        for row in sorted(rows)
    ]


@dataclass(frozen=True)
class _Outcome:
    row: _Claimed
    state: str
    error: str = ""
    next_attempt_at: datetime | None = None


def _finish(outcomes: Sequence[_Outcome], *, at: datetime, lease_until: datetime) -> None:
    """Record outcomes, set-based; only rows still under this worker's lease change."""
    if not outcomes:
        return
    finish_claimed(
        table="ads_platformdelivery",
        outcomes=[Finished(o.row.id, o.state, o.error, o.next_attempt_at) for o in outcomes],
        lease_until=lease_until,
        stamp_column="finished_at",
        stamp_states=(
            DeliveryState.DELIVERED,
            DeliveryState.FAILED,
            DeliveryState.SKIPPED,
            DeliveryState.SUPERSEDED,
        ),
        at=at,
    )
    # In campaign order, as the sync writes the same rows: concurrent upserts then queue
    # behind each other instead of deadlocking.
    pushed = sorted(
        (o.row.campaign_id, o.row.desired_status)
        for o in outcomes
        if o.state == DeliveryState.DELIVERED
    )
    errors = sorted(
        (o.row.campaign_id, o.error) for o in outcomes if o.state == DeliveryState.FAILED
    )
    platform_state_pushed(pushed, at=at)
    platform_state_errors(errors, at=at)


def platform_state_pushed(rows: Sequence[tuple[int, str]], *, at: datetime) -> None:
    """After a push went through: the platform now holds what we sent."""
    if not rows:
        return
    cte, params = rows_cte("v", (("campaign_id", "bigint"), ("status", "text")), rows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO ads_campaignplatformstate
                (campaign_id, platform_status, platform_status_at, paused_elsewhere,
                 pushed_status, pushed_at, last_error, drift_repairs)
            SELECT campaign_id, status, %s, FALSE, status, %s, '', 0 FROM v WHERE 1 = 1
            ON CONFLICT (campaign_id) DO UPDATE SET
                platform_status = excluded.platform_status,
                platform_status_at = excluded.platform_status_at,
                pushed_status = excluded.pushed_status, pushed_at = excluded.pushed_at,
                last_error = '', paused_elsewhere = FALSE""",
            params + [adapt(at), adapt(at)],
        )


def platform_state_errors(rows: Sequence[tuple[int, str]], *, at: datetime) -> None:
    if not rows:
        return
    cte, params = rows_cte("v", (("campaign_id", "bigint"), ("error", "text")), rows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO ads_campaignplatformstate
                (campaign_id, paused_elsewhere, last_error, last_error_at, drift_repairs)
            SELECT campaign_id, FALSE, error, %s, 0 FROM v WHERE 1 = 1
            ON CONFLICT (campaign_id) DO UPDATE SET
                last_error = excluded.last_error, last_error_at = excluded.last_error_at""",
            params + [adapt(at)],
        )


def account_health_set(account: AdAccount, *, error: str | None, at: datetime) -> None:
    """Failing after an auth or configuration error; OK again after any call that worked."""
    if error is None:
        if account.health != AccountHealth.OK:
            logger.info(
                "ad account %s works again", account.pk, extra={"ad_account_id": account.pk}
            )
            AdAccount.objects.filter(pk=account.pk).update(health=AccountHealth.OK)
            account.health = AccountHealth.OK
        return
    logger.error(
        "ad account %s failing: %s", account.pk, error, extra={"ad_account_id": account.pk}
    )
    AdAccount.objects.filter(pk=account.pk).update(
        health=AccountHealth.FAILING, last_error=error, last_error_at=at
    )
    account.health = AccountHealth.FAILING


def _retry_or_fail(
    row: _Claimed, message: str, retry_after: float | None, at: datetime, rng: random.Random
) -> _Outcome:
    if row.attempts >= MAX_ATTEMPTS:
        return _Outcome(
            row, DeliveryState.FAILED, f"gave up after {row.attempts} attempts: {message}"
        )
    delay = backoff_seconds(row.attempts, retry_after, rng)
    return _Outcome(row, DeliveryState.PENDING, message, at + timedelta(seconds=delay))


def _send(
    adapter: Adapter, batch: Sequence[_Claimed], at: datetime, rng: random.Random
) -> tuple[list[_Outcome], PlatformError | None]:
    """One platform call for a batch; the outcome of each row."""
    pushes = [
        StatusPush(row.platform_campaign_id, CampaignStatus(row.desired_status)) for row in batch
    ]
    try:
        failures = adapter.push_statuses(pushes)
    except PlatformError as exc:
        if exc.retryable:
            return [
                _retry_or_fail(row, exc.message, exc.retry_after, at, rng) for row in batch
            ], exc
        return [_Outcome(row, DeliveryState.FAILED, exc.message) for row in batch], exc
    by_id: dict[str, PushFailure] = {f.platform_campaign_id: f for f in failures}
    outcomes = []
    for row in batch:
        failure = by_id.get(row.platform_campaign_id)
        if failure is None:
            outcomes.append(_Outcome(row, DeliveryState.DELIVERED))
        elif failure.retryable:
            outcomes.append(_retry_or_fail(row, failure.message, None, at, rng))
        else:
            outcomes.append(_Outcome(row, DeliveryState.FAILED, failure.message))
    return outcomes, None


def _log_outcomes(account: AdAccount, outcomes: Iterable[_Outcome]) -> None:
    for outcome in outcomes:
        if outcome.state in (DeliveryState.FAILED, DeliveryState.PENDING):
            logger.warning(
                "push of campaign %s to %s %s: %s",
                outcome.row.campaign_id,
                outcome.row.desired_status,
                "failed" if outcome.state == DeliveryState.FAILED else "will be retried",
                outcome.error,
                extra={
                    "ad_account_id": account.pk,
                    "campaign_id": outcome.row.campaign_id,
                    "delivery_id": outcome.row.id,
                    "attempts": outcome.row.attempts,
                },
            )


def _push_account(
    account: AdAccount, adapter: Adapter, report: PushReport, at: datetime, rng: random.Random
) -> None:
    report.superseded += _supersede_stale(account.pk, at)
    while True:
        lease_until = at + LEASE + timedelta(microseconds=rng.randrange(1, 10**6))
        claimed = _claim(account.pk, at, lease_until, adapter.max_batch)
        if not claimed:
            return
        losers = [_Outcome(row, DeliveryState.SUPERSEDED) for row in claimed if row.lost]
        skipped = [
            _Outcome(row, DeliveryState.SKIPPED, SKIPPED_MESSAGE)
            for row in claimed
            if not row.lost
            and row.desired_status == CampaignStatus.RUNNING
            and row.paused_elsewhere
        ]
        done = {o.row.id for o in losers + skipped}
        batch = [row for row in claimed if row.id not in done]
        outcomes, error = _send(adapter, batch, at, rng) if batch else ([], None)
        report.calls += 1 if batch else 0
        with transaction.atomic():
            _finish(losers + skipped + outcomes, at=at, lease_until=lease_until)
            if error is None or error.auth:
                account_health_set(account, error=error.message if error else None, at=at)
        _log_outcomes(account, outcomes)
        report.superseded += len(losers)
        report.skipped += len(skipped)
        report.delivered += sum(1 for o in outcomes if o.state == DeliveryState.DELIVERED)
        report.failed += sum(1 for o in outcomes if o.state == DeliveryState.FAILED)
        report.retrying += sum(1 for o in outcomes if o.state == DeliveryState.PENDING)
        if error is not None:
            report.errors.append(f"account {account.pk}: {error.message}")
            if error.auth or error.retryable:
                # The rest waits: the next pass retries (or finds the account fixed).
                return


def deliveries_push(
    *, at: datetime, account_id: int | None = None, dry_run: bool = False, seed: int | None = None
) -> PushReport:
    """Deliver the due status pushes of every enabled account (or one), in batches.

    Safe to run twice, and concurrently: rows are claimed before they are sent, and a status
    sent twice changes nothing on the platform. ``dry_run`` only counts what is due.
    """
    report = PushReport(dry_run=dry_run)
    rng = random.Random(seed)
    accounts = AdAccount.objects.filter(enabled=True).select_related("brand").order_by("pk")
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    for account in accounts:
        due = _due_count(account.pk, at)
        if not due:
            continue
        report.accounts += 1
        report.due += due
        if dry_run:
            continue
        try:
            adapter = adapter_for(account)
        except PlatformError as exc:
            # Configuration (credentials): the rows wait untouched until it is fixed.
            account_health_set(account, error=exc.message, at=at)
            report.errors.append(f"account {account.pk}: {exc.message}")
            continue
        _push_account(account, adapter, report, at, rng)
    return report
