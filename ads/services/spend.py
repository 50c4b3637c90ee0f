"""Recording spend: the ledger, the period totals, and the pause, in one transaction."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from django.db import OperationalError, connection, transaction

from ads.models import SpendKind, SpendPeriod, Trigger
from ads.money import MoneyError, parse_money, to_micros
from ads.services.locks import brands_lock
from ads.services.periods import local_date
from ads.services.reconcile import (
    SYSTEM_ACTOR,
    Scope,
    Transition,
    log_transitions,
    reconcile_locked,
)
from ads.services.sql import adapt, in_ids, rows_cte

logger = logging.getLogger(__name__)

# Clocks of ad platforms and of this server drift a little; anything further ahead is a bug
# on the sender's side and would count towards a day that has not begun.
MAX_FUTURE_SKEW = timedelta(minutes=5)
MAX_SOURCE_LENGTH = 64
MAX_EXTERNAL_ID_LENGTH = 128
# PostgreSQL reports a deadlock or serialization failure with these; both are retried.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SpendEventInput:
    """One event as a caller hands it over; everything is validated by ``spend_record``."""

    campaign_id: int
    amount: Any
    occurred_at: datetime | None
    source: str
    external_id: str


class EventStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class EventOutcome:
    index: int
    status: EventStatus
    reason: str | None = None


@dataclass
class SpendBatchResult:
    outcomes: list[EventOutcome]
    transitions: list[Transition] = field(default_factory=list)

    def _count(self, status: EventStatus) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def accepted(self) -> int:
        return self._count(EventStatus.ACCEPTED)

    @property
    def duplicates(self) -> int:
        return self._count(EventStatus.DUPLICATE)

    @property
    def rejected(self) -> int:
        return self._count(EventStatus.REJECTED)


@dataclass(frozen=True)
class LedgerRow:
    """One row for the ledger, validated and resolved to its brand and brand-local date."""

    campaign_id: int
    brand_id: int
    micros: int
    occurred_at: datetime
    local_date: date
    source: str
    external_id: str
    kind: SpendKind = SpendKind.EVENT

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.external_id)


@dataclass(frozen=True)
class _Valid(LedgerRow):
    index: int = -1


def _check_fields(event: SpendEventInput, at: datetime) -> tuple[Decimal | None, str | None]:
    """The amount, or the reason the event is rejected before looking at the database."""
    try:
        amount = parse_money(event.amount)
    except MoneyError as exc:
        return None, str(exc)
    if amount <= 0:
        return None, f"amount must be greater than zero, got {amount}"
    occurred_at = event.occurred_at
    if not isinstance(occurred_at, datetime):
        return None, "occurred_at is required"
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        return None, "occurred_at has no time zone offset; send e.g. 2026-06-10T10:00:00+02:00"
    if occurred_at > at + MAX_FUTURE_SKEW:
        return None, (
            f"occurred_at {occurred_at.isoformat()} is more than "
            f"{int(MAX_FUTURE_SKEW.total_seconds() // 60)} minutes in the future"
        )
    for name, value, limit in (
        ("source", event.source, MAX_SOURCE_LENGTH),
        ("external_id", event.external_id, MAX_EXTERNAL_ID_LENGTH),
    ):
        if not isinstance(value, str) or not value.strip():
            return None, f"{name} is required"
        if len(value) > limit:
            return None, f"{name} is longer than {limit} characters"
    return amount, None


def _campaign_brands(campaign_ids: set[int]) -> dict[int, tuple[int, str]]:
    """campaign id -> (brand id, brand time zone), one query."""
    if not campaign_ids:
        return {}
    clause, params = in_ids("c.id", sorted(campaign_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, c.brand_id, b.timezone FROM ads_campaign c "
            f"JOIN ads_brand b ON b.id = c.brand_id WHERE {clause}",
            params,
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def _validate(
    events: Sequence[SpendEventInput], at: datetime
) -> tuple[list[_Valid], dict[int, EventOutcome]]:
    outcomes: dict[int, EventOutcome] = {}
    checked: list[tuple[int, SpendEventInput, Decimal]] = []
    for index, event in enumerate(events):
        amount, reason = _check_fields(event, at)
        if amount is None:
            outcomes[index] = EventOutcome(index, EventStatus.REJECTED, reason)
        else:
            checked.append((index, event, amount))
    brands = _campaign_brands(
        {e.campaign_id for _, e, _ in checked if isinstance(e.campaign_id, int)}
    )
    valid: list[_Valid] = []
    seen: set[tuple[str, str]] = set()
    for index, event, amount in checked:
        found = brands.get(event.campaign_id) if isinstance(event.campaign_id, int) else None
        if found is None:
            outcomes[index] = EventOutcome(
                index, EventStatus.REJECTED, f"unknown campaign {event.campaign_id!r}"
            )
            continue
        key = (event.source, event.external_id)
        if key in seen:
            outcomes[index] = EventOutcome(index, EventStatus.DUPLICATE)
            continue
        seen.add(key)
        brand_id, timezone = found
        assert event.occurred_at is not None  # checked by _check_fields
        valid.append(
            _Valid(
                index=index,
                campaign_id=event.campaign_id,
                brand_id=brand_id,
                micros=to_micros(amount),
                occurred_at=event.occurred_at,
                local_date=local_date(event.occurred_at, timezone),
                source=event.source,
                external_id=event.external_id,
            )
        )
    return valid, outcomes


def ledger_insert(rows: Sequence[LedgerRow], at: datetime) -> set[tuple[str, str]]:
    """Insert ledger rows once; return the (source, external_id) keys that were new.
    Helper: runs inside the caller's transaction, after the brands are locked."""
    if not rows:
        return set()
    cte, params = rows_cte(
        "v",
        (
            ("campaign_id", "bigint"),
            ("kind", "text"),
            ("amount", "bigint"),
            ("occurred_at", "timestamptz"),
            ("local_date", "date"),
            ("source", "text"),
            ("external_id", "text"),
        ),
        [
            (r.campaign_id, r.kind, r.micros, r.occurred_at, r.local_date, r.source, r.external_id)
            for r in rows
        ],
    )
    with connection.cursor() as cursor:
        # `WHERE 1 = 1` resolves SQLite's parsing ambiguity between a join's ON and the
        # upsert's ON CONFLICT.
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO ads_spendevent (campaign_id, kind, amount, occurred_at, local_date,
                source, external_id, recorded_at)
            SELECT campaign_id, kind, amount, occurred_at, local_date, source, external_id, %s
            FROM v WHERE 1 = 1
            ON CONFLICT (source, external_id) DO NOTHING
            RETURNING source, external_id""",
            params + [adapt(at)],
        )
        return {(row[0], row[1]) for row in cursor.fetchall()}


def _add_to_totals(table: str, owner: str, sums: dict[tuple[int, str, date], int]) -> None:
    """Upsert period totals: `amount = amount + delta`, done by the database."""
    if not sums:
        return
    cte, params = rows_cte(
        "v",
        ((owner, "bigint"), ("period", "text"), ("period_start", "date"), ("amount", "bigint")),
        [(owner_id, period, start, amount) for (owner_id, period, start), amount in sums.items()],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO {table} ({owner}, period, period_start, amount)
            SELECT {owner}, period, period_start, amount FROM v WHERE 1 = 1
            ON CONFLICT ({owner}, period, period_start)
            DO UPDATE SET amount = {table}.amount + excluded.amount""",
            params,
        )


def add_spend_to_totals(rows: Sequence[tuple[int, int, date, int]]) -> None:
    """Add (campaign, brand, local date, micros) rows to the day and month totals of both
    the campaign and the brand. Helper: runs inside the caller's transaction."""
    campaign_sums: dict[tuple[int, str, date], int] = defaultdict(int)
    brand_sums: dict[tuple[int, str, date], int] = defaultdict(int)
    for campaign_id, brand_id, day, micros in rows:
        for period, start in ((SpendPeriod.DAY, day), (SpendPeriod.MONTH, day.replace(day=1))):
            campaign_sums[(campaign_id, period.value, start)] += micros
            brand_sums[(brand_id, period.value, start)] += micros
    # Sorted, so concurrent batches touch total rows in the same order.
    _add_to_totals("ads_campaignperiodspend", "campaign_id", dict(sorted(campaign_sums.items())))
    _add_to_totals("ads_brandperiodspend", "brand_id", dict(sorted(brand_sums.items())))


def _known_keys(keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (source, external_id) keys the ledger already holds, in one query."""
    if not keys:
        return set()
    cte, params = rows_cte("k", (("source", "text"), ("external_id", "text")), keys)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte} SELECT e.source, e.external_id FROM ads_spendevent e
            JOIN k ON k.source = e.source AND k.external_id = e.external_id""",
            params,
        )
        return {(row[0], row[1]) for row in cursor.fetchall()}


_T = TypeVar("_T")


def run_with_retry(work: Callable[[], _T]) -> _T:
    """Run ``work`` (which owns its transaction), retrying PostgreSQL deadlocks and
    serialization failures so they never reach the caller."""
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            return work()
        except OperationalError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if sqlstate not in _RETRYABLE_SQLSTATES or attempt == _MAX_ATTEMPTS:
                raise
            logger.warning(
                "retrying after %s (attempt %s)", sqlstate, attempt, extra={"sqlstate": sqlstate}
            )
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def spend_record(
    *,
    events: Sequence[SpendEventInput],
    at: datetime,
    actor: str = SYSTEM_ACTOR,
    dry_run: bool = False,
) -> SpendBatchResult:
    """Record a batch of spend events and enforce budgets before returning.

    Valid events are stored once, added to the brand-local day and month totals, and the
    affected brands are reconciled in the same transaction, so a campaign that reached a
    budget is paused when this returns. Rejected events change nothing. Safe to run twice:
    a repeated (source, external_id) is a duplicate, counted once. With ``dry_run`` it
    only says what it would do with each event.
    """
    if at.tzinfo is None:
        raise ValueError("spend_record needs an aware `at`")
    valid, outcomes = _validate(events, at)
    if dry_run:
        known = _known_keys([v.key for v in valid])
        for v in valid:
            status = EventStatus.DUPLICATE if v.key in known else EventStatus.ACCEPTED
            outcomes[v.index] = EventOutcome(v.index, status)
        return SpendBatchResult(outcomes=[outcomes[index] for index in range(len(events))])
    # A fixed order of inserts: two batches sharing keys then wait on each other instead
    # of deadlocking.
    valid.sort(key=lambda v: (v.source, v.external_id))
    brand_ids = sorted({v.brand_id for v in valid})

    def work() -> tuple[set[tuple[str, str]], list[Transition]]:
        with transaction.atomic():
            if not valid:
                return set(), []
            # Every writer of a brand's totals or campaign states locks the brand row first,
            # in id order: batches for one brand queue here, each sees the totals of the one
            # before, and exactly one of them crosses the budget and pauses.
            brands_lock(brand_ids)
            inserted = ledger_insert(valid, at)
            new = [v for v in valid if (v.source, v.external_id) in inserted]
            add_spend_to_totals([(v.campaign_id, v.brand_id, v.local_date, v.micros) for v in new])
            transitions: list[Transition] = []
            if new:
                transitions = reconcile_locked(
                    at=at,
                    trigger=Trigger.SPEND,
                    actor=actor,
                    scope=Scope(brand_ids=tuple(sorted({v.brand_id for v in new}))),
                )
            return inserted, transitions

    inserted, transitions = run_with_retry(work)
    for v in valid:
        if (v.source, v.external_id) in inserted:
            outcomes[v.index] = EventOutcome(v.index, EventStatus.ACCEPTED)
        else:
            outcomes[v.index] = EventOutcome(v.index, EventStatus.DUPLICATE)
    log_transitions(transitions, at=at, trigger=Trigger.SPEND, actor=actor)
    result = SpendBatchResult(
        outcomes=[outcomes[index] for index in range(len(events))], transitions=transitions
    )
    logger.info(
        "spend batch: %s accepted, %s duplicate, %s rejected",
        result.accepted,
        result.duplicates,
        result.rejected,
        extra={
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
            "actor": actor,
        },
    )
    return result
