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
from typing import Any, NamedTuple

from django.db import DataError, connection

from ads.core.money import MAX_TOTAL_MICROS, money_text
from ads.core.sql import adapt, as_date, dialect, in_ids, rows_cte
from ads.models import SpendKind, SpendPeriod
from ads.services.ledger_reads import LedgerKey, recorded_keys

# "numeric value out of range": a period total would pass what a BIGINT holds.
NUMERIC_OUT_OF_RANGE = "22003"


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


TotalKey = tuple[int, str, date]  # (campaign, brand or shared budget id, period, start)


class NewTotals(NamedTuple):
    """The totals a write touched, as they are after it: day and month totals of campaigns,
    brands and shared budgets by ``TotalKey``, and flights' totals by flight id (with the
    flight's budget and brand, read in the same statement)."""

    campaign: dict[TotalKey, int]
    brand: dict[TotalKey, int]
    shared: dict[TotalKey, int]
    flight: dict[int, tuple[int, int, int]]  # flight id: (total, budget, brand id)


NO_TOTALS = NewTotals({}, {}, {}, {})


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


def ledger_insert(
    rows: Sequence[LedgerRow], at: datetime, *, backfill: bool = False
) -> set[LedgerKey]:
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
                source, external_id, recorded_at, backfill)
            SELECT id, campaign_id, kind, amount, occurred_at, local_date, source,
                external_id, %s, %s
            FROM v""",
            params + [adapt(at), backfill],
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


def _groups(rows: Sequence[tuple[int, int, date, int]]) -> tuple[dict[int, int], dict[Any, int]]:
    """The shared budget of each of these rows' campaigns, and the flight each row's
    (campaign, date) counts toward: two queries, only where campaigns are in any."""
    campaign_ids = sorted({row[0] for row in rows})
    clause, params = in_ids("c.id", campaign_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.shared_budget_id FROM ads_campaign c "
            f"WHERE {clause} AND c.shared_budget_id IS NOT NULL",
            params,
        )
        shared = {campaign_id: shared_id for campaign_id, shared_id in cursor.fetchall()}
        clause, params = in_ids("fc.campaign_id", campaign_ids)
        cursor.execute(
            "SELECT fc.campaign_id, f.id, f.starts_on, f.ends_on FROM ads_flightcampaign fc "
            f"JOIN ads_flight f ON f.id = fc.flight_id WHERE {clause}",
            params,
        )
        memberships = cursor.fetchall()
    flights: dict[Any, int] = {}
    for campaign_id, flight_id, starts_on, ends_on in memberships:
        first, last = as_date(starts_on), as_date(ends_on)
        for row in rows:
            if row[0] == campaign_id and first <= row[2] <= last:
                flights[(campaign_id, row[2])] = flight_id
    return shared, flights


def add_spend_to_totals(rows: Sequence[tuple[int, int, date, int]]) -> NewTotals:
    """Add (campaign, brand, local date, micros) rows to the day and month totals of the
    campaign, the brand and the campaign's shared budget, and to the total of the flight
    holding that date; return the new totals touched. Helper: inside the caller's
    transaction (SQLite's path; PostgreSQL fuses it into the ledger statement)."""
    if not rows:
        return NO_TOTALS
    shared_of, flight_of = _groups(rows)
    campaign_sums: dict[TotalKey, int] = defaultdict(int)
    brand_sums: dict[TotalKey, int] = defaultdict(int)
    shared_sums: dict[TotalKey, int] = defaultdict(int)
    flight_sums: dict[int, int] = defaultdict(int)
    for campaign_id, brand_id, day, micros in rows:
        shared_id = shared_of.get(campaign_id)
        for period, start in ((SpendPeriod.DAY, day), (SpendPeriod.MONTH, day.replace(day=1))):
            campaign_sums[(campaign_id, period.value, start)] += micros
            brand_sums[(brand_id, period.value, start)] += micros
            if shared_id is not None:
                shared_sums[(shared_id, period.value, start)] += micros
        flight_id = flight_of.get((campaign_id, day))
        if flight_id is not None:
            flight_sums[flight_id] += micros
    # Sorted, so concurrent batches touch total rows in the same order.
    return NewTotals(
        _add_to_totals(
            "ads_campaignperiodspend", "campaign_id", dict(sorted(campaign_sums.items()))
        ),
        _add_to_totals("ads_brandperiodspend", "brand_id", dict(sorted(brand_sums.items()))),
        _add_to_totals(
            "ads_sharedbudgetperiodspend", "shared_budget_id", dict(sorted(shared_sums.items()))
        ),
        _add_to_flights(dict(sorted(flight_sums.items()))),
    )


def _add_to_flights(sums: dict[int, int]) -> dict[int, tuple[int, int, int]]:
    """Upsert flight totals; return each flight's new total, budget and brand."""
    if not sums:
        return {}
    cte, params = rows_cte("v", (("flight_id", "bigint"), ("amount", "bigint")), list(sums.items()))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO ads_flightspend (flight_id, amount)
            SELECT flight_id, amount FROM v WHERE 1 = 1
            ON CONFLICT (flight_id) DO UPDATE SET amount = ads_flightspend.amount + excluded.amount
            RETURNING flight_id, amount""",
            params,
        )
        found = {row[0]: _total(row[1]) for row in cursor.fetchall()}
        clause, params = in_ids("id", sorted(found))
        cursor.execute(f"SELECT id, budget, brand_id FROM ads_flight WHERE {clause}", params)
        flights = {row[0]: (int(row[1]), int(row[2])) for row in cursor.fetchall()}
    return {flight_id: (amount, *flights[flight_id]) for flight_id, amount in found.items()}


def ledger_and_totals_add(
    rows: Sequence[LedgerRow], at: datetime, *, backfill: bool = False
) -> tuple[set[LedgerKey], NewTotals]:
    """Insert ledger rows once and add exactly the rows that were new to the totals of
    their campaigns, brands, shared budgets and flights: the keys inserted, and the new
    totals. The only way the ledger and the totals are written together, so the totals
    cannot drift from the ledger. Raises TotalsOverflow (the caller's transaction must then
    roll back; see ``totals_room``). Helper: inside the caller's transaction, after the
    brands are locked. ``backfill``: the rows are old spend loaded on purpose (``import_spend``),
    kept out of what the reporting lags are learned from."""
    if not rows:
        return set(), NO_TOTALS
    if not dialect().writing_ctes:
        inserted = ledger_insert(rows, at, backfill=backfill)
        new = [
            (r.campaign_id, r.brand_id, r.local_date, r.micros) for r in rows if r.key in inserted
        ]
        return inserted, add_spend_to_totals(new)
    try:
        return _ledger_and_totals_fused(rows, at, backfill)
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
    # A flight's total spans its dates, so it can pass the limit before any month does.
    flight_of: dict[Any, int] = {}
    if fresh:
        _, flight_of = _groups([(r.campaign_id, r.brand_id, r.local_date, r.micros) for r in fresh])
        flight_totals = dict(
            _rows(
                "SELECT flight_id, amount FROM ads_flightspend WHERE flight_id IN "
                f"({', '.join(str(int(f)) for f in set(flight_of.values())) or 'NULL'})"
            )
        )
        for flight_id, amount in flight_totals.items():
            totals[("flight", flight_id, "flight", date.min)] = int(amount)
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
        flight_id = flight_of.get((row.campaign_id, row.local_date))
        if flight_id is not None:
            keys.append(("flight", flight_id, "flight", date.min))
        over = next(
            (k for k in keys if abs(totals.get(k, 0) + row.micros) > MAX_TOTAL_MICROS), None
        )
        if over is not None:
            owner, owner_id, period, start = over
            if owner == "flight":
                refused[row.key] = (
                    f"this amount would take flight {owner_id}'s total past "
                    f"{money_text(MAX_TOTAL_MICROS)}, the most a total can hold"
                )
                continue
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


def _rows(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


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
    ``amount = amount + excluded.amount`` (never read-modify-write); rows without an owner
    (a campaign in no shared budget) add nothing."""
    return f"""INSERT INTO {table} ({owner}, period, period_start, amount)
        SELECT {owner}, period, period_start, SUM(amount) FROM new WHERE {owner} IS NOT NULL
        GROUP BY {owner}, period, period_start
        ON CONFLICT ({owner}, period, period_start)
        DO UPDATE SET amount = {table}.amount + excluded.amount
        RETURNING {returning}"""


# A flight's total from the `new` rows of its days (`flight_id` set on day rows only).
FLIGHT_UPSERT = """INSERT INTO ads_flightspend (flight_id, amount)
        SELECT flight_id, SUM(amount) FROM new WHERE flight_id IS NOT NULL GROUP BY flight_id
        ON CONFLICT (flight_id) DO UPDATE SET amount = ads_flightspend.amount + excluded.amount
        RETURNING flight_id, amount"""
# The flight whose dates hold the row's local date, of the flights of its campaign (they
# never overlap, so at most one).
FLIGHT_OF_ROW = """(SELECT f.id FROM ads_flightcampaign fc JOIN ads_flight f ON f.id = fc.flight_id
        WHERE fc.campaign_id = v.campaign_id AND v.local_date >= f.starts_on
            AND v.local_date <= f.ends_on
        LIMIT 1)"""


def _ledger_and_totals_fused(
    rows: Sequence[LedgerRow], at: datetime, backfill: bool
) -> tuple[set[LedgerKey], NewTotals]:
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
    shared = totals_upsert_sql(
        "ads_sharedbudgetperiodspend",
        "shared_budget_id",
        returning.format(owner="shared_budget_id"),
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
                    local_date, source, external_id, recorded_at, backfill)
                SELECT ins.event_id, v.campaign_id, v.kind, v.amount, v.occurred_at,
                    v.local_date, v.source, v.external_id, %s, %s
                FROM ins JOIN v ON v.source = ins.source AND v.external_id = ins.external_id
                    AND v.kind = ins.kind
            ),
            new AS (
                SELECT v.campaign_id, v.brand_id, v.amount, p.period,
                    {PERIOD_START} AS period_start, cg.shared_budget_id,
                    CASE WHEN p.period = '{SpendPeriod.DAY.value}' THEN {FLIGHT_OF_ROW} END
                        AS flight_id
                FROM ins JOIN v ON v.source = ins.source AND v.external_id = ins.external_id
                    AND v.kind = ins.kind
                JOIN ads_campaign cg ON cg.id = v.campaign_id
                CROSS JOIN {PERIODS}
            ),
            c AS ({campaigns}),
            b AS ({brands}),
            s AS ({shared}),
            fu AS ({FLIGHT_UPSERT})
            SELECT 'event', NULL::bigint, source, NULL::date, NULL::bigint, external_id, kind
                FROM ins
            UNION ALL SELECT 'campaign', owner, period, period_start, amount, NULL, NULL FROM c
            UNION ALL SELECT 'brand', owner, period, period_start, amount, NULL, NULL FROM b
            UNION ALL SELECT 'shared', owner, period, period_start, amount, NULL, NULL FROM s
            UNION ALL SELECT 'flight', fu.flight_id, NULL, NULL, fu.amount, f.budget::text,
                f.brand_id::text FROM fu JOIN ads_flight f ON f.id = fu.flight_id""",
            params + [adapt(at), backfill],
        )
        inserted: set[LedgerKey] = set()
        totals = NewTotals({}, {}, {}, {})
        for what, owner, period, start, amount, external_id, kind in cursor.fetchall():
            if what == "event":
                inserted.add((period, external_id, kind))
            elif what == "flight":
                totals.flight[owner] = (int(amount), int(external_id), int(kind))
            else:
                getattr(totals, what)[(owner, period, start)] = int(amount)
    return inserted, totals
