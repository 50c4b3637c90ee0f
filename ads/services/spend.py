"""Recording spend: the ledger, the period totals, and the pause, in one transaction."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar, cast

import psycopg
from django.db import DataError, OperationalError, connection, transaction

from ads import metrics
from ads.core.money import (
    MAX_TOTAL_MICROS,
    MoneyError,
    from_micros,
    money_text,
    parse_money,
    to_micros,
)
from ads.core.periods import instant_problem, local_date, local_period
from ads.core.sql import (
    adapt,
    array_literal,
    as_aware,
    as_date,
    in_ids,
    is_postgres,
    rows_cte,
)
from ads.models import BrandAlertSettings, SpendKind, SpendPeriod, Trigger
from ads.schemas import MAX_ID
from ads.services.alerts import alerts_record_for_totals, alerts_record_for_totals_locked
from ads.services.locks import SpendTarget, SpendTargets, brands_lock, campaigns_lock
from ads.services.reconcile import (
    SYSTEM_ACTOR,
    Scope,
    Transition,
    log_transitions,
    reconcile_locked,
)

logger = logging.getLogger(__name__)

# Clocks of ad platforms and of this server drift a little; anything further ahead is a bug
# on the sender's side and would count towards a day that has not begun.
MAX_FUTURE_SKEW = timedelta(minutes=5)
# Spend (and restated totals) older than this is refused: platforms restate recent days, and
# a year and a month covers last year's same month. It also keeps every date far from the
# limits of the calendar types.
MAX_SPEND_AGE = timedelta(days=400)
MAX_SOURCE_LENGTH = 64
MAX_EXTERNAL_ID_LENGTH = 128
# PostgreSQL reports a deadlock or serialization failure with these; both are retried.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
# "numeric value out of range": a period total would pass what a BIGINT holds.
_NUMERIC_OUT_OF_RANGE = "22003"
_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SpendEventInput:
    """One event as a caller hands it over; everything is validated by ``spend_record``."""

    campaign_id: int
    amount: Any
    occurred_at: datetime | None
    source: str
    external_id: str
    currency: str | None = None  # if given, must be the brand's


class EventStatus(StrEnum):
    ACCEPTED = "accepted"
    # The same (source, event_id) with the same campaign, amount and time: counted once.
    DUPLICATE = "duplicate"
    # The same (source, event_id) with a different campaign, amount or time: the recorded
    # event stays as it is, and this one changes nothing (as idempotency keys in payment APIs).
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass(frozen=True)
class EventOutcome:
    index: int
    status: EventStatus
    reason: str | None = None
    # For a conflict: the fields that differ from the recorded event.
    differs: tuple[str, ...] = ()


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
    def conflicts(self) -> int:
        return self._count(EventStatus.CONFLICT)

    @property
    def rejected(self) -> int:
        return self._count(EventStatus.REJECTED)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly counts and per-event results (the API's and the task's answer)."""
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
            "results": [
                {
                    "index": o.index,
                    "status": o.status.value,
                    "reason": o.reason,
                    **({"differs": list(o.differs)} if o.differs else {}),
                }
                for o in self.outcomes
            ],
        }


# (source, external_id, kind): the ledger's unique key, the primary key of ads_spendeventkey
# (a table of its own: the ledger is partitioned by month). The kind is part of it so that
# rows the system writes (adjustments, corrections) can never collide with a client's event
# id.
LedgerKey = tuple[str, str, str]


class TotalsOverflow(Exception):
    """Adding these rows would take a period total past MAX_TOTAL_MICROS. Raised inside
    the caller's transaction, which must roll back; ``totals_room`` then says which rows fit."""


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
    def key(self) -> LedgerKey:
        return (self.source, self.external_id, self.kind.value)


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
    if not isinstance(event.campaign_id, int) or not 1 <= event.campaign_id <= MAX_ID:
        return None, f"unknown campaign {event.campaign_id!r}"
    problem = instant_problem(event.occurred_at, "occurred_at")
    if problem is not None:
        return None, problem
    occurred_at = cast(datetime, event.occurred_at)
    if occurred_at > at + MAX_FUTURE_SKEW:
        return None, (
            f"occurred_at {occurred_at.isoformat()} is more than "
            f"{int(MAX_FUTURE_SKEW.total_seconds() // 60)} minutes in the future"
        )
    if occurred_at < at - MAX_SPEND_AGE:
        return (
            None,
            f"occurred_at {occurred_at.isoformat()} is more than {MAX_SPEND_AGE.days} days ago",
        )
    for name, value, limit in (
        ("source", event.source, MAX_SOURCE_LENGTH),
        ("external_id", event.external_id, MAX_EXTERNAL_ID_LENGTH),
    ):
        if not isinstance(value, str) or not value.strip():
            return None, f"{name} is required"
        if len(value) > limit:
            return None, f"{name} is longer than {limit} characters"
        if "\x00" in value:
            # PostgreSQL refuses NUL in text; SQLite's JSON functions would cut the key at it.
            return None, f"{name} must not contain NUL characters"
    return amount, None


def currency_problem(given: str | None, brand_currency: str) -> str | None:
    """Why a currency named with spend (optional) cannot be taken for this brand, or None."""
    if given is not None and given.upper() != brand_currency:
        return f"currency {given!r} does not match the brand's currency {brand_currency!r}"
    return None


@dataclass(frozen=True)
class _Checked:
    index: int
    event: SpendEventInput
    occurred_at: datetime
    micros: int


def _check_all(
    events: Sequence[SpendEventInput], at: datetime
) -> tuple[list[_Checked], dict[int, EventOutcome]]:
    """Field checks that need no database."""
    outcomes: dict[int, EventOutcome] = {}
    checked: list[_Checked] = []
    for index, event in enumerate(events):
        amount, reason = _check_fields(event, at)
        if amount is None or event.occurred_at is None:
            outcomes[index] = EventOutcome(index, EventStatus.REJECTED, reason)
        else:
            checked.append(_Checked(index, event, event.occurred_at, to_micros(amount)))
    return checked, outcomes


def _resolve(
    checked: Sequence[_Checked],
    targets: SpendTargets,
    allowed_brand_ids: frozenset[int] | None,
) -> tuple[list[_Valid], list[_Valid], dict[int, EventOutcome]]:
    """Campaign, scope and currency checks against what was read under lock. Returns the
    first valid occurrence of each key (to insert), later occurrences of a key within the
    batch (decided against what the first one leaves recorded), and the rejections."""
    outcomes: dict[int, EventOutcome] = {}
    valid: list[_Valid] = []
    repeats: list[_Valid] = []
    seen: set[LedgerKey] = set()
    for item in checked:
        event = item.event
        target = targets.campaigns.get(event.campaign_id)
        reason = None
        if target is None or (
            allowed_brand_ids is not None and target.brand_id not in allowed_brand_ids
        ):
            # The same words for a campaign of another brand as for one that does not
            # exist: a rejection must not tell a token what other brands hold.
            reason = f"unknown campaign {event.campaign_id!r}"
        else:
            reason = currency_problem(event.currency, target.currency)
        if reason is not None or target is None:
            outcomes[item.index] = EventOutcome(item.index, EventStatus.REJECTED, reason)
            continue
        row = _Valid(
            index=item.index,
            campaign_id=event.campaign_id,
            brand_id=target.brand_id,
            micros=item.micros,
            occurred_at=item.occurred_at,
            local_date=local_date(item.occurred_at, target.timezone),
            source=event.source,
            external_id=event.external_id,
        )
        if row.key in seen:
            repeats.append(row)
            continue
        seen.add(row.key)
        valid.append(row)
    # A fixed order of inserts: two batches sharing keys then wait on each other instead
    # of deadlocking.
    valid.sort(key=lambda v: v.key)
    return valid, repeats, outcomes


@dataclass(frozen=True)
class _Recorded:
    """What the ledger holds (or this batch inserted) under an event key."""

    campaign_id: int
    micros: int
    occurred_at: datetime


def _compare(row: _Valid, recorded: _Recorded) -> EventOutcome:
    """A resend of a recorded key: a duplicate if it says the same, else a conflict naming
    what differs. The recorded values are shown only for the same campaign: a key can have
    been used by another brand's sender, whose figures this caller must not learn."""
    differs: list[str] = []
    details: list[str] = []
    if row.campaign_id != recorded.campaign_id:
        differs.append("campaign")
        details.append("it was recorded for another campaign")
    else:
        if row.micros != recorded.micros:
            differs.append("amount")
            details.append(
                f"amount {money_text(row.micros)} (recorded: {money_text(recorded.micros)})"
            )
        if row.occurred_at != recorded.occurred_at:
            differs.append("occurred_at")
            details.append(
                f"occurred_at {row.occurred_at.isoformat()} "
                f"(recorded: {recorded.occurred_at.astimezone(row.occurred_at.tzinfo).isoformat()})"
            )
    if not differs:
        return EventOutcome(row.index, EventStatus.DUPLICATE)
    return EventOutcome(
        row.index,
        EventStatus.CONFLICT,
        f"source {row.source!r} and event_id {row.external_id!r} were already recorded with "
        f"different values: {'; '.join(details)}. The recorded event is kept; send a new "
        "event_id for new spend",
        tuple(differs),
    )


def _decide(
    valid: Sequence[_Valid],
    repeats: Sequence[_Valid],
    inserted: set[LedgerKey],
) -> dict[int, EventOutcome]:
    """Accepted for what was inserted; duplicate or conflict for the rest, compared with
    the recorded event (one query, only when some key was already known)."""
    decided: dict[int, EventOutcome] = {}
    recorded: dict[LedgerKey, _Recorded] = {}
    known: list[_Valid] = []
    for v in valid:
        if v.key in inserted:
            decided[v.index] = EventOutcome(v.index, EventStatus.ACCEPTED)
            recorded[v.key] = _Recorded(v.campaign_id, v.micros, v.occurred_at)
        else:
            known.append(v)
    recorded.update(_recorded_events([v.key for v in known]))
    for v in [*known, *repeats]:
        previous = recorded.get(v.key)
        if previous is None:
            # Only a dry run gets here (nothing was inserted, nothing is recorded).
            decided[v.index] = EventOutcome(v.index, EventStatus.ACCEPTED)
            recorded[v.key] = _Recorded(v.campaign_id, v.micros, v.occurred_at)
        else:
            decided[v.index] = _compare(v, previous)
    return decided


def _ledger_cte(
    rows: Sequence[LedgerRow], *, ids: Mapping[LedgerKey, int] | None = None
) -> tuple[str, list[Any]]:
    """The rows as the CTE `v`, with every column the ledger statements need; with ``ids``
    (each row's key to the event id its key was given), an `id` column first."""
    columns: tuple[tuple[str, str], ...] = (
        ("campaign_id", "bigint"),
        ("brand_id", "bigint"),
        ("kind", "text"),
        ("amount", "bigint"),
        ("occurred_at", "timestamptz"),
        ("local_date", "date"),
        ("source", "text"),
        ("external_id", "text"),
    )
    values: list[tuple[Any, ...]] = [
        (
            r.campaign_id,
            r.brand_id,
            r.kind,
            r.micros,
            r.occurred_at,
            r.local_date,
            r.source,
            r.external_id,
        )
        for r in rows
    ]
    if ids is not None:
        columns = (("id", "bigint"), *columns)
        values = [(ids[r.key], *value) for r, value in zip(rows, values)]
    return rows_cte("v", columns, values)


def ledger_insert(rows: Sequence[LedgerRow], at: datetime) -> set[LedgerKey]:
    """Insert ledger rows once; return the keys that were new. The key table decides: a
    key inserted (``ON CONFLICT DO NOTHING``) is new, and only its row goes into the ledger,
    with the id the key was given. Totals are not touched: use ``ledger_and_totals_add``.
    Used on SQLite, whose single writer makes the ids taken from the highest one safe.
    Helper: inside the caller's transaction, brands locked."""
    if not rows:
        return set()
    cte, params = _ledger_cte(rows)
    with connection.cursor() as cursor:
        # `WHERE 1 = 1` resolves SQLite's parsing ambiguity between a join's ON and the
        # upsert's ON CONFLICT.
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO ads_spendeventkey (source, external_id, kind, local_date, event_id)
            SELECT source, external_id, kind, local_date,
                (SELECT COALESCE(MAX(id), 0) FROM ads_spendevent) + ROW_NUMBER() OVER ()
            FROM v WHERE 1 = 1
            ON CONFLICT (source, external_id, kind) DO NOTHING
            RETURNING source, external_id, kind, event_id""",
            params,
        )
        ids = {(row[0], row[1], row[2]): row[3] for row in cursor.fetchall()}
        new = [r for r in rows if r.key in ids]
        if not new:
            return set()
        cte, params = _ledger_cte(new, ids=ids)
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO ads_spendevent (id, campaign_id, kind, amount, occurred_at, local_date,
                source, external_id, recorded_at)
            SELECT id, campaign_id, kind, amount, occurred_at, local_date, source,
                external_id, %s
            FROM v""",
            params + [adapt(at)],
        )
        return set(ids)


def _add_to_totals(
    table: str, owner: str, sums: dict[tuple[int, str, date], int]
) -> dict[tuple[int, str, date], int]:
    """Upsert period totals (`amount = amount + delta`, done by the database); return the
    new totals."""
    if not sums:
        return {}
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
            DO UPDATE SET amount = {table}.amount + excluded.amount
            RETURNING {owner}, period, period_start, amount""",
            params,
        )
        return {(row[0], row[1], as_date(row[2])): _total(row[3]) for row in cursor.fetchall()}


def _total(value: object) -> int:
    """A total as the upsert returned it. SQLite turns an integer sum past 64 bits into a
    float silently; that (and PostgreSQL's "bigint out of range") means TotalsOverflow."""
    if not isinstance(value, int) or not -MAX_TOTAL_MICROS <= value <= MAX_TOTAL_MICROS:
        raise TotalsOverflow()
    return value


TotalKey = tuple[int, str, date]  # (campaign or brand id, period, period start)


def add_spend_to_totals(
    rows: Sequence[tuple[int, int, date, int]],
) -> tuple[dict[TotalKey, int], dict[TotalKey, int]]:
    """Add (campaign, brand, local date, micros) rows to the day and month totals of both
    the campaign and the brand; return the new campaign and brand totals touched.
    Helper: runs inside the caller's transaction."""
    campaign_sums: dict[TotalKey, int] = defaultdict(int)
    brand_sums: dict[TotalKey, int] = defaultdict(int)
    for campaign_id, brand_id, day, micros in rows:
        for period, start in ((SpendPeriod.DAY, day), (SpendPeriod.MONTH, day.replace(day=1))):
            campaign_sums[(campaign_id, period.value, start)] += micros
            brand_sums[(brand_id, period.value, start)] += micros
    # Sorted, so concurrent batches touch total rows in the same order.
    return (
        _add_to_totals(
            "ads_campaignperiodspend", "campaign_id", dict(sorted(campaign_sums.items()))
        ),
        _add_to_totals("ads_brandperiodspend", "brand_id", dict(sorted(brand_sums.items()))),
    )


def ledger_and_totals_add(
    rows: Sequence[LedgerRow], at: datetime
) -> tuple[set[LedgerKey], tuple[dict[TotalKey, int], dict[TotalKey, int]]]:
    """Insert ledger rows once and add exactly the rows that were new to the day and month
    totals of their campaigns and brands: the keys inserted, and the new campaign and brand
    totals. The only way the ledger and the totals are written together, so the totals
    cannot drift from the ledger. Raises TotalsOverflow (the caller's transaction must then
    roll back; see ``totals_room``). Helper: inside the caller's transaction, after the
    brands are locked."""
    if not rows:
        return set(), ({}, {})
    if not is_postgres():
        inserted = ledger_insert(rows, at)
        new = [
            (r.campaign_id, r.brand_id, r.local_date, r.micros) for r in rows if r.key in inserted
        ]
        return inserted, add_spend_to_totals(new)
    try:
        return _ledger_and_totals_fused(rows, at)
    except DataError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _NUMERIC_OUT_OF_RANGE:
            raise TotalsOverflow() from exc
        raise


def totals_room(rows: Sequence[LedgerRow]) -> tuple[list[LedgerRow], dict[LedgerKey, str]]:
    """Which rows can be added without taking a period total past MAX_TOTAL_MICROS, in
    order, and the reason for each that cannot. Rows already in the ledger pass (they add
    nothing). Only called after TotalsOverflow, so its extra queries cost nothing in the
    common case. Helper: inside the caller's transaction, after the brands are locked."""
    known = set(_recorded_keys([r.key for r in rows]))
    fresh = [r for r in rows if r.key not in known]
    totals = _current_totals(fresh)
    fits: list[LedgerRow] = []
    refused: dict[LedgerKey, str] = {}
    for row in rows:
        if row.key in known:
            fits.append(row)
            continue
        month = row.local_date.replace(day=1)
        keys = [
            ("campaign", row.campaign_id, SpendPeriod.DAY.value, row.local_date),
            ("campaign", row.campaign_id, SpendPeriod.MONTH.value, month),
            ("brand", row.brand_id, SpendPeriod.DAY.value, row.local_date),
            ("brand", row.brand_id, SpendPeriod.MONTH.value, month),
        ]
        over = next(
            (k for k in keys if abs(totals.get(k, 0) + row.micros) > MAX_TOTAL_MICROS), None
        )
        if over is not None:
            owner, owner_id, period, start = over
            refused[row.key] = (
                f"this amount would take {owner} {owner_id}'s "
                f"{'daily' if period == SpendPeriod.DAY else 'monthly'} total for "
                f"{start if period == SpendPeriod.DAY else start.strftime('%Y-%m')} past "
                f"{money_text(MAX_TOTAL_MICROS)}, the most a period total can hold"
            )
            continue
        for k in keys:
            totals[k] = totals.get(k, 0) + row.micros
        fits.append(row)
    return fits, refused


def _current_totals(rows: Sequence[LedgerRow]) -> dict[tuple[str, int, str, date], int]:
    """The stored day and month totals of these rows' campaigns and brands (two queries)."""
    found: dict[tuple[str, int, str, date], int] = {}
    for owner, table, ids in (
        ("campaign", "ads_campaignperiodspend", sorted({r.campaign_id for r in rows})),
        ("brand", "ads_brandperiodspend", sorted({r.brand_id for r in rows})),
    ):
        if not ids:
            continue
        days = sorted({r.local_date for r in rows} | {r.local_date.replace(day=1) for r in rows})
        clause, params = in_ids(f"{owner}_id", ids)
        dates = ", ".join(["%s"] * len(days))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {owner}_id, period, period_start, amount FROM {table} "
                f"WHERE {clause} AND period_start IN ({dates})",
                params + [adapt(day) for day in days],
            )
            for owner_id, period, start, amount in cursor.fetchall():
                found[(owner, owner_id, period, as_date(start))] = int(amount)
    return found


# The rows of `v` (campaign_id, brand_id, amount, local_date) as their day and month periods,
# and the running-totals upsert from them: shared by the two PostgreSQL statements below.
# The key is inserted first and decides; the ledger row takes the id drawn for it (a key
# that already existed wastes its number: ids have gaps, as sequences always may).
_NEXT_EVENT_ID = "nextval('ads_spendevent_id_seq'::regclass)"
_PERIODS = f"(VALUES ('{SpendPeriod.DAY.value}'), ('{SpendPeriod.MONTH.value}')) AS p(period)"
_PERIOD_START = (
    f"CASE WHEN p.period = '{SpendPeriod.DAY.value}' THEN v.local_date "
    "ELSE date_trunc('month', v.local_date)::date END"
)


def _totals_upsert_sql(table: str, owner: str, returning: str) -> str:
    """Add the CTE `new` (owner, period, period_start, amount) to a totals table with
    ``amount = amount + excluded.amount`` (never read-modify-write)."""
    return f"""INSERT INTO {table} ({owner}, period, period_start, amount)
        SELECT {owner}, period, period_start, SUM(amount) FROM new
        GROUP BY {owner}, period, period_start
        ON CONFLICT ({owner}, period, period_start)
        DO UPDATE SET amount = {table}.amount + excluded.amount
        RETURNING {returning}"""


def _ledger_and_totals_fused(
    rows: Sequence[LedgerRow], at: datetime
) -> tuple[set[LedgerKey], tuple[dict[TotalKey, int], dict[TotalKey, int]]]:
    """The same as the two steps, in one statement (PostgreSQL's data-modifying CTEs): the
    totals are summed from exactly the rows the insert returned. On a single-event API call
    the two round trips saved are a fifth of the request."""
    cte, params = _ledger_cte(rows)
    returning = "{owner} AS owner, period, period_start, amount"
    campaigns = _totals_upsert_sql(
        "ads_campaignperiodspend", "campaign_id", returning.format(owner="campaign_id")
    )
    brands = _totals_upsert_sql(
        "ads_brandperiodspend", "brand_id", returning.format(owner="brand_id")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte},
            ins AS (
                INSERT INTO ads_spendeventkey (source, external_id, kind, local_date, event_id)
                SELECT source, external_id, kind, local_date, {_NEXT_EVENT_ID}
                FROM v
                ON CONFLICT (source, external_id, kind) DO NOTHING
                RETURNING source, external_id, kind, event_id
            ),
            ledger AS (
                INSERT INTO ads_spendevent (id, campaign_id, kind, amount, occurred_at,
                    local_date, source, external_id, recorded_at)
                SELECT ins.event_id, v.campaign_id, v.kind, v.amount, v.occurred_at,
                    v.local_date, v.source, v.external_id, %s
                FROM ins JOIN v ON v.source = ins.source AND v.external_id = ins.external_id
                    AND v.kind = ins.kind
            ),
            new AS (
                SELECT v.campaign_id, v.brand_id, v.amount, p.period,
                    {_PERIOD_START} AS period_start
                FROM ins JOIN v ON v.source = ins.source AND v.external_id = ins.external_id
                    AND v.kind = ins.kind
                CROSS JOIN {_PERIODS}
            ),
            c AS ({campaigns}),
            b AS ({brands})
            SELECT 'event', NULL::bigint, source, NULL::date, NULL::bigint, external_id, kind
                FROM ins
            UNION ALL SELECT 'campaign', owner, period, period_start, amount, NULL, NULL FROM c
            UNION ALL SELECT 'brand', owner, period, period_start, amount, NULL, NULL FROM b""",
            params + [adapt(at)],
        )
        inserted: set[LedgerKey] = set()
        campaign_totals: dict[TotalKey, int] = {}
        brand_totals: dict[TotalKey, int] = {}
        for what, owner, period, start, amount, external_id, kind in cursor.fetchall():
            if what == "event":
                inserted.add((period, external_id, kind))
            elif what == "campaign":
                campaign_totals[(owner, period, start)] = int(amount)
            else:
                brand_totals[(owner, period, start)] = int(amount)
    return inserted, (campaign_totals, brand_totals)


# --- One event, one statement (PostgreSQL) ------------------------------------------------
# A single event is the API's most common call. The general path costs four round trips
# (BEGIN, lock and read the brand, ledger and totals, COMMIT); this one sends a single
# statement in autocommit that locks the brand row, checks the campaign, inserts the event,
# adds it to the totals and returns what the answer and the limit check need.
#
# The brand-local date is computed in Python (zoneinfo, as everywhere else) before the
# brand is known: for every zone brands use, and the statement picks the brand's. Every
# zone's UTC offset is a multiple of 15 minutes, so an instant's local date in each zone is
# the same across a 15-minute UTC block: the dates are computed once per block. A brand in a
# zone this process has not seen yet writes nothing; the zones are read again and the
# general path records the event.

_BLOCK_SECONDS = 15 * 60


@dataclass(frozen=True)
class _Zones:
    """The zones brands use and, per 15-minute block, an instant's local date in each.
    Replaced whole on reload, so a thread never pairs one list's zones with another's
    dates (gunicorn runs threads)."""

    names: tuple[str, ...]
    dates: dict[int, list[date]] = field(default_factory=dict)

    def local_dates(self, instant: datetime) -> list[date]:
        block = int(instant.timestamp()) // _BLOCK_SECONDS
        dates = self.dates.get(block)
        if dates is None:
            if len(self.dates) > 1024:
                self.dates.clear()
            dates = self.dates[block] = [local_date(instant, zone) for zone in self.names]
        return dates


_zones = _Zones(())


def _zones_reload() -> _Zones:
    global _zones
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT timezone FROM ads_brand ORDER BY timezone")
        _zones = _Zones(tuple(row[0] for row in cursor.fetchall()))
    return _zones


_ONE_EVENT = f"""
    WITH t AS (
        SELECT c.id, c.brand_id, b.timezone, b.currency, b.daily_budget, b.monthly_budget,
            c.daily_budget AS cap_daily, c.monthly_budget AS cap_monthly,
            s.id AS alert_settings, s.thresholds AS alert_thresholds,
            s.pacing_margin AS alert_margin
        FROM ads_campaign c JOIN ads_brand b ON b.id = c.brand_id
        LEFT JOIN ads_brandalertsettings s ON s.brand_id = b.id
        WHERE c.id = %(campaign)s
        FOR NO KEY UPDATE OF b
    ),
    v AS (
        SELECT t.id AS campaign_id, t.brand_id, %(kind)s::text AS kind,
            %(amount)s::bigint AS amount, %(occurred_at)s::timestamptz AS occurred_at,
            z.local_date, %(source)s::text AS source, %(external_id)s::text AS external_id
        FROM t
        JOIN unnest(%(zones)s::text[], %(dates)s::date[]) AS z(zone, local_date)
            ON z.zone = t.timezone
        WHERE (%(currency)s::text IS NULL OR upper(%(currency)s::text) = t.currency)
            AND (%(allowed)s::bigint[] IS NULL OR t.brand_id = ANY(%(allowed)s::bigint[]))
    ),
    ins AS (
        INSERT INTO ads_spendeventkey (source, external_id, kind, local_date, event_id)
        SELECT source, external_id, kind, local_date, {_NEXT_EVENT_ID}
        FROM v
        ON CONFLICT (source, external_id, kind) DO NOTHING
        RETURNING event_id
    ),
    ledger AS (
        INSERT INTO ads_spendevent (id, campaign_id, kind, amount, occurred_at, local_date,
            source, external_id, recorded_at)
        SELECT ins.event_id, campaign_id, kind, amount, occurred_at, local_date, source,
            external_id, %(at)s
        FROM v CROSS JOIN ins
    ),
    new AS (
        SELECT v.campaign_id, v.brand_id, v.amount, p.period, {_PERIOD_START} AS period_start
        FROM v CROSS JOIN {_PERIODS}
        WHERE EXISTS (SELECT FROM ins)
    ),
    ct AS ({_totals_upsert_sql("ads_campaignperiodspend", "campaign_id", "period, amount")}),
    bt AS ({_totals_upsert_sql("ads_brandperiodspend", "brand_id", "period, amount")})
    SELECT t.brand_id, (SELECT local_date FROM v), t.currency, t.daily_budget,
        t.monthly_budget, t.cap_daily, t.cap_monthly, (SELECT count(*) FROM ins),
        (SELECT array_agg(period || ':' || amount) FROM ct),
        (SELECT array_agg(period || ':' || amount) FROM bt),
        t.timezone, t.alert_settings, t.alert_thresholds, t.alert_margin
    FROM t
"""


def _execute_prepared(sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """Run ``sql`` as a prepared statement (server-side binding; the connection keeps the
    plan) and return its first row. Planning this statement took as long as running it;
    Django's cursors bind on the client and plan every time. Logged like Django's queries."""
    connection.ensure_connection()
    started = time.perf_counter()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        found = cursor.fetchone()
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.perf_counter() - started:.3f}"})
    return found


def _record_one(
    item: _Checked, at: datetime, actor: str, allowed_brand_ids: frozenset[int] | None
) -> tuple[dict[int, EventOutcome], list[Transition]] | None:
    """Record one checked event with one statement, or None to use the general path
    (zone not known or changed, overflow). Helper for ``spend_record``."""
    event = item.event
    zones = _zones if _zones.names else _zones_reload()
    row = _Valid(
        index=item.index,
        campaign_id=event.campaign_id,
        brand_id=0,  # not known before the statement; unused below
        micros=item.micros,
        occurred_at=item.occurred_at,
        local_date=date.min,  # chosen by the statement, from the brand's zone; unused below
        source=event.source,
        external_id=event.external_id,
    )
    params: dict[str, Any] = {
        "campaign": event.campaign_id,
        "kind": row.kind.value,
        "amount": row.micros,
        "occurred_at": row.occurred_at,
        "zones": array_literal(zones.names),
        "dates": array_literal(zones.local_dates(row.occurred_at), "date"),
        "source": row.source,
        "external_id": row.external_id,
        "currency": event.currency,
        "allowed": None if allowed_brand_ids is None else sorted(allowed_brand_ids),
        "at": at,
    }

    # Inside a caller's transaction, a savepoint keeps a refused statement from aborting it.
    def execute() -> tuple[Any, ...] | None:
        guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
        with guard, connection.wrap_database_errors:
            return _execute_prepared(_ONE_EVENT, params)

    try:
        # A deadlock or serialization failure left nothing written: retrying is safe.
        found = run_with_retry(execute)
    except DataError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _NUMERIC_OUT_OF_RANGE:
            return None  # the statement changed nothing; the general path refuses exactly
        raise
    unknown = EventOutcome(
        item.index, EventStatus.REJECTED, f"unknown campaign {event.campaign_id!r}"
    )
    if found is None:
        return {item.index: unknown}, []
    brand_id, day, currency, daily, monthly, cap_daily, cap_monthly = found[:7]
    inserted, campaign_totals, brand_totals = found[7:10]
    zone, alert_settings, alert_thresholds, alert_margin = found[10:]
    if allowed_brand_ids is not None and brand_id not in allowed_brand_ids:
        return {item.index: unknown}, []
    problem = currency_problem(event.currency, currency)
    if problem is not None:
        return {item.index: EventOutcome(item.index, EventStatus.REJECTED, problem)}, []
    if day is None:
        _zones_reload()
        return None  # a zone not seen before: nothing was written
    if not inserted:
        return _decide([row], [], set()), []
    # The new totals, keyed as the general path's, so the same rule (SpendTargets.reached)
    # decides whether a limit was reached, and the alerts read the same figures.
    starts = {SpendPeriod.DAY.value: day, SpendPeriod.MONTH.value: day.replace(day=1)}

    def keyed(owner_id: int, entries: Sequence[str]) -> dict[TotalKey, int]:
        pairs = (entry.split(":") for entry in entries)
        return {(owner_id, period, starts[period]): int(amount) for period, amount in pairs}

    campaign_new = keyed(event.campaign_id, campaign_totals)
    brand_new = keyed(brand_id, brand_totals)
    target = SpendTarget(brand_id, zone, currency, daily, monthly, cap_daily, cap_monthly)
    reached = SpendTargets({event.campaign_id: target}).reached(campaign_new, brand_new)
    transitions: list[Transition] = []
    if reached:
        # The event is committed; the pause follows at once, under the brand's lock and
        # from the committed totals, before this call returns (retried on its own: the
        # event must not be sent again). Should this process die in between, the next
        # sweep pauses the campaigns.
        def pause() -> list[Transition]:
            with transaction.atomic():
                brands_lock([brand_id])
                return reconcile_locked(
                    at=at, trigger=Trigger.SPEND, actor=actor, scope=Scope(brand_ids=(brand_id,))
                )

        transitions = run_with_retry(pause)

    # Alerts judge the totals this statement returned, in Python: no query unless one is
    # due. A unique row keeps each alert to one, whichever of several concurrent events
    # sees the crossing first. Only the periods of `at` count (a late event for an earlier
    # day of this month still moves the month).
    local = local_period(at, zone)
    own = (
        None
        if alert_settings is None
        else BrandAlertSettings(
            id=alert_settings,
            brand_id=brand_id,
            thresholds=alert_thresholds,
            pacing_margin=alert_margin,
        )
    )
    run_with_retry(
        lambda: alerts_record_for_totals(
            brand_id=brand_id,
            zone=zone,
            daily_budget=from_micros(daily),
            monthly_budget=from_micros(monthly),
            own=own,
            day_total=brand_new.get((brand_id, SpendPeriod.DAY.value, local.day)),
            month_total=brand_new.get((brand_id, SpendPeriod.MONTH.value, local.month)),
            at=at,
        )
    )
    return {item.index: EventOutcome(item.index, EventStatus.ACCEPTED)}, transitions


def _recorded_rows(
    keys: Sequence[LedgerKey], columns: str, *, events: bool
) -> list[tuple[Any, ...]]:
    """The recorded keys among ``keys`` (``sk``), with their ledger rows (``e``: by id and
    date, one partition's primary key) if ``events``."""
    if not keys:
        return []
    cte, params = rows_cte(
        "k", (("source", "text"), ("external_id", "text"), ("kind", "text")), keys
    )
    join = (
        " JOIN ads_spendevent e ON e.id = sk.event_id AND e.local_date = sk.local_date"
        if events
        else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte} SELECT {columns} FROM ads_spendeventkey sk
            JOIN k ON k.source = sk.source AND k.external_id = sk.external_id
                AND k.kind = sk.kind{join}""",
            params,
        )
        return list(cursor.fetchall())


def _recorded_keys(keys: Sequence[LedgerKey]) -> list[LedgerKey]:
    """Which of these keys the ledger already holds, in one query."""
    return [
        (row[0], row[1], row[2])
        for row in _recorded_rows(keys, "sk.source, sk.external_id, sk.kind", events=False)
    ]


def _recorded_events(keys: Sequence[LedgerKey]) -> dict[LedgerKey, _Recorded]:
    """What the ledger holds under these keys, in one query (none: no query)."""
    rows = _recorded_rows(
        keys,
        "sk.source, sk.external_id, sk.kind, e.campaign_id, e.amount, e.occurred_at",
        events=True,
    )
    return {
        (source, external_id, kind): _Recorded(campaign_id, int(amount), as_aware(occurred_at))
        for source, external_id, kind, campaign_id, amount, occurred_at in rows
    }


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


class _RolledBack(Exception):
    """Leaves a dry run's transaction (rolling it back) with the answer it computed."""

    def __init__(self, decided: dict[int, EventOutcome], transitions: list[Transition]):
        super().__init__("dry run")
        self.decided, self.transitions = decided, transitions


def spend_record(
    *,
    events: Sequence[SpendEventInput],
    at: datetime,
    actor: str = SYSTEM_ACTOR,
    dry_run: bool = False,
    allowed_brand_ids: frozenset[int] | None = None,
) -> SpendBatchResult:
    """Record a batch of spend events and enforce budgets before returning.

    Valid events are stored once, added to the brand-local day and month totals, and the
    brands where a total reached its limit are reconciled in the same transaction, so a
    campaign that reached a budget is paused when this returns. Rejected events (including
    campaigns outside ``allowed_brand_ids``, and events that would take a period total
    past what it can hold) change nothing. Safe to run twice: a repeated (source,
    external_id) is a duplicate if it says the same and a conflict if it does not, and
    changes nothing either way. ``dry_run`` does all of it in a transaction that is rolled
    back: the answer (and the transitions) are what recording would do, nothing is kept.
    """
    if at.tzinfo is None:
        raise ValueError("spend_record needs an aware `at`")
    checked, outcomes = _check_all(events, at)
    campaign_ids = sorted({item.event.campaign_id for item in checked})

    def work(careful: bool) -> tuple[dict[int, EventOutcome], list[Transition]]:
        decided: dict[int, EventOutcome] = {}
        with transaction.atomic():
            if not checked:
                return decided, []
            # Every writer of a brand's totals or campaign states locks the brand row first,
            # in id order: batches for one brand queue here, each sees the totals of the one
            # before, and exactly one of them crosses the budget and pauses.
            targets = campaigns_lock(campaign_ids)
            valid, repeats, decided = _resolve(checked, targets, allowed_brand_ids)
            if careful:
                fits, refused = totals_room(valid)
                for v in valid:
                    if v.key in refused:
                        decided[v.index] = EventOutcome(
                            v.index, EventStatus.REJECTED, refused[v.key]
                        )
                valid = [v for v in valid if v.key not in refused]
                repeats = [r for r in repeats if r.key not in refused]
                assert len(fits) == len(valid)
            inserted, totals = ledger_and_totals_add(valid, at)
            decided.update(_decide(valid, repeats, inserted))
            # New positive spend can change the rule's verdict only by making a total reach
            # its limit; only those brands are reconciled here (a batch spread over a
            # thousand brands would otherwise re-evaluate all of them).
            limited = targets.reached(*totals)
            transitions: list[Transition] = []
            if limited:
                transitions = reconcile_locked(
                    at=at, trigger=Trigger.SPEND, actor=actor, scope=Scope(brand_ids=limited)
                )
            # Judged from the new totals the statement returned: no query unless one is due.
            alerts_record_for_totals_locked(brands=targets.alert_brands(), totals=totals[1], at=at)
            if dry_run:
                # Everything was done as for real, so the answer is exactly what recording
                # would do; rolling back undoes it (and drops any after-commit work).
                raise _RolledBack(decided, transitions)
            return decided, transitions

    def attempt(careful: bool) -> tuple[dict[int, EventOutcome], list[Transition]]:
        try:
            return run_with_retry(lambda: work(careful))
        except _RolledBack as rolled_back:
            return rolled_back.decided, rolled_back.transitions

    fast = None
    if len(checked) == 1 and not dry_run and is_postgres():
        fast = _record_one(checked[0], at, actor, allowed_brand_ids)
    try:
        if fast is not None:
            decided, transitions = fast
        else:
            decided, transitions = attempt(careful=False)
    except TotalsOverflow:
        # Rare: some total would overflow. Everything rolled back; again, refusing exactly
        # the events that do not fit.
        decided, transitions = attempt(careful=True)
    if dry_run:
        outcomes.update(decided)
        return SpendBatchResult(
            outcomes=[outcomes[index] for index in range(len(events))], transitions=transitions
        )
    outcomes.update(decided)
    log_transitions(transitions, at=at, trigger=Trigger.SPEND, actor=actor)
    result = SpendBatchResult(
        outcomes=[outcomes[index] for index in range(len(events))], transitions=transitions
    )
    metrics.spend_counted(events=events, outcomes=result.outcomes)
    if not logger.isEnabledFor(logging.INFO):
        return result
    logger.info(
        "spend batch: %s accepted, %s duplicate, %s conflicting, %s rejected",
        result.accepted,
        result.duplicates,
        result.conflicts,
        result.rejected,
        extra={
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "conflicts": result.conflicts,
            "rejected": result.rejected,
            "actor": actor,
        },
    )
    return result
