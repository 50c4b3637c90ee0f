"""The ledger's one write path: rows inserted once (the key table decides) and exactly the
new rows added to the day and month totals of their campaigns and brands, in the caller's
transaction. Every writer of spend (events, restated daily totals, corrections, the bench's
builders) goes through ``ledger_and_totals_add``, so the totals cannot drift from the
ledger, which ``verify_totals`` proves.

On PostgreSQL the key, the ledger row and the totals are one statement (data-modifying
CTEs); on SQLite, whose single writer makes it safe, they are three.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import DataError, connection

from ads.core.money import MAX_TOTAL_MICROS, money_text
from ads.core.sql import adapt, as_aware, as_date, dialect, in_ids, rows_cte
from ads.models import SpendKind, SpendPeriod

# "numeric value out of range": a period total would pass what a BIGINT holds.
NUMERIC_OUT_OF_RANGE = "22003"


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


TotalKey = tuple[int, str, date]  # (campaign or brand id, period, period start)


@dataclass(frozen=True)
class Recorded:
    """What the ledger holds (or this batch inserted) under an event key."""

    campaign_id: int
    micros: int
    occurred_at: datetime


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
    if not dialect().writing_ctes:
        inserted = ledger_insert(rows, at)
        new = [
            (r.campaign_id, r.brand_id, r.local_date, r.micros) for r in rows if r.key in inserted
        ]
        return inserted, add_spend_to_totals(new)
    try:
        return _ledger_and_totals_fused(rows, at)
    except DataError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == NUMERIC_OUT_OF_RANGE:
            raise TotalsOverflow() from exc
        raise


def totals_room(rows: Sequence[LedgerRow]) -> tuple[list[LedgerRow], dict[LedgerKey, str]]:
    """Which rows can be added without taking a period total past MAX_TOTAL_MICROS, in
    order, and the reason for each that cannot. Rows already in the ledger pass (they add
    nothing). Only called after TotalsOverflow, so its extra queries cost nothing in the
    common case. Helper: inside the caller's transaction, after the brands are locked."""
    known = set(recorded_keys([r.key for r in rows]))
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
NEXT_EVENT_ID = "nextval('ads_spendevent_id_seq'::regclass)"
PERIODS = f"(VALUES ('{SpendPeriod.DAY.value}'), ('{SpendPeriod.MONTH.value}')) AS p(period)"
PERIOD_START = (
    f"CASE WHEN p.period = '{SpendPeriod.DAY.value}' THEN v.local_date "
    "ELSE date_trunc('month', v.local_date)::date END"
)


def totals_upsert_sql(table: str, owner: str, returning: str) -> str:
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
    campaigns = totals_upsert_sql(
        "ads_campaignperiodspend", "campaign_id", returning.format(owner="campaign_id")
    )
    brands = totals_upsert_sql(
        "ads_brandperiodspend", "brand_id", returning.format(owner="brand_id")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte},
            ins AS (
                INSERT INTO ads_spendeventkey (source, external_id, kind, local_date, event_id)
                SELECT source, external_id, kind, local_date, {NEXT_EVENT_ID}
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
                    {PERIOD_START} AS period_start
                FROM ins JOIN v ON v.source = ins.source AND v.external_id = ins.external_id
                    AND v.kind = ins.kind
                CROSS JOIN {PERIODS}
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


def recorded_keys(keys: Sequence[LedgerKey]) -> list[LedgerKey]:
    """Which of these keys the ledger already holds, in one query."""
    return [
        (row[0], row[1], row[2])
        for row in _recorded_rows(keys, "sk.source, sk.external_id, sk.kind", events=False)
    ]


def recorded_events(keys: Sequence[LedgerKey]) -> dict[LedgerKey, Recorded]:
    """What the ledger holds under these keys, in one query (none: no query)."""
    rows = _recorded_rows(
        keys,
        "sk.source, sk.external_id, sk.kind, e.campaign_id, e.amount, e.occurred_at",
        events=True,
    )
    return {
        (source, external_id, kind): Recorded(campaign_id, int(amount), as_aware(occurred_at))
        for source, external_id, kind, campaign_id, amount, occurred_at in rows
    }
