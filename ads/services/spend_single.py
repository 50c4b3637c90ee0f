"""One spend event, one statement (PostgreSQL).

A single event is the API's most common call. The general path costs four round trips
(BEGIN, lock and read the brand, ledger and totals, COMMIT); this one sends a single
statement in autocommit that locks the brand row, checks the campaign, inserts the event,
adds it to the totals and returns what the answer and the limit check need. It writes the
ledger and the totals with the same SQL as the general path (``ads.services.ledger``).

The brand-local date is computed in Python (zoneinfo, as everywhere else) before the brand
is known: for every zone brands use, and the statement picks the brand's. Every zone's UTC
offset is a multiple of 15 minutes, so an instant's local date in each zone is the same
across a 15-minute UTC block: the dates are computed once per block. A brand in a zone this
process has not seen yet writes nothing; the zones are read again and the general path
records the event.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg
from django.db import DataError, connection, transaction

from ads.core.money import from_micros
from ads.core.periods import local_date, local_period
from ads.core.sql import array_literal
from ads.core.transactions import run_with_retry
from ads.models import BrandAlertSettings, CampaignStatus, SpendPeriod, Trigger
from ads.services.alerts import alerts_record_for_totals
from ads.services.ledger import (
    FLIGHT_UPSERT,
    NEXT_EVENT_ID,
    NUMERIC_OUT_OF_RANGE,
    PERIOD_START,
    PERIODS,
    NewTotals,
    TotalKey,
    totals_upsert_sql,
)
from ads.services.locks import (
    CalendarEntry,
    SpendTarget,
    SpendTargets,
    brands_lock,
    in_force,
)
from ads.services.reconcile import reconcile_locked
from ads.services.rule import Scope, Transition
from ads.services.spend_events import (
    CheckedEvent,
    EventOutcome,
    EventStatus,
    ValidEvent,
    currency_problem,
    decide,
)

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


_PERIOD_AMOUNT = "period, amount"
_ONE_EVENT = f"""
    WITH t AS (
        SELECT c.id, c.brand_id, b.timezone, b.currency, b.daily_budget, b.monthly_budget,
            c.daily_budget AS cap_daily, c.monthly_budget AS cap_monthly,
            s.id AS alert_settings, s.thresholds AS alert_thresholds,
            s.pacing_margin AS alert_margin, c.shared_budget_id,
            sb.daily_budget AS shared_daily, sb.monthly_budget AS shared_monthly,
            b.xmin::text AS version, c.status
        FROM ads_campaign c JOIN ads_brand b ON b.id = c.brand_id
        LEFT JOIN ads_brandalertsettings s ON s.brand_id = b.id
        LEFT JOIN ads_sharedbudget sb ON sb.id = c.shared_budget_id
        WHERE c.id = %(campaign)s
        FOR NO KEY UPDATE OF b
    ),
    v AS (
        SELECT t.id AS campaign_id, t.brand_id, %(kind)s::text AS kind,
            %(amount)s::bigint AS amount, %(occurred_at)s::timestamptz AS occurred_at,
            z.local_date, %(source)s::text AS source, %(external_id)s::text AS external_id,
            t.shared_budget_id
        FROM t
        JOIN unnest(%(zones)s::text[], %(dates)s::date[]) AS z(zone, local_date)
            ON z.zone = t.timezone
        WHERE (%(currency)s::text IS NULL OR upper(%(currency)s::text) = t.currency)
            AND (%(allowed)s::bigint[] IS NULL OR t.brand_id = ANY(%(allowed)s::bigint[]))
            -- The brand row as locked is the one this statement's snapshot read: no staff
            -- change (flights, shared budgets, calendar, caps: each updates the brand row)
            -- committed while this statement waited for the lock.
            AND t.version = (SELECT b2.xmin::text FROM ads_brand b2 WHERE b2.id = t.brand_id)
    ),
    fv AS (
        SELECT f.id AS flight_id, f.budget
        FROM v JOIN ads_flightcampaign fc ON fc.campaign_id = v.campaign_id
        JOIN ads_flight f ON f.id = fc.flight_id
        WHERE v.local_date >= f.starts_on AND v.local_date <= f.ends_on
        LIMIT 1
    ),
    ins AS (
        INSERT INTO ads_spendeventkey (source, external_id, kind, local_date, event_id)
        SELECT source, external_id, kind, local_date, {NEXT_EVENT_ID}
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
        SELECT v.campaign_id, v.brand_id, v.amount, p.period, {PERIOD_START} AS period_start,
            v.shared_budget_id,
            CASE WHEN p.period = '{SpendPeriod.DAY.value}' THEN (SELECT flight_id FROM fv) END
                AS flight_id
        FROM v CROSS JOIN {PERIODS}
        WHERE EXISTS (SELECT FROM ins)
    ),
    ct AS ({totals_upsert_sql("ads_campaignperiodspend", "campaign_id", "period, amount")}),
    bt AS ({totals_upsert_sql("ads_brandperiodspend", "brand_id", "period, amount")}),
    st AS ({totals_upsert_sql("ads_sharedbudgetperiodspend", "shared_budget_id", _PERIOD_AMOUNT)}),
    fu AS ({FLIGHT_UPSERT})
    SELECT t.brand_id, (SELECT local_date FROM v), t.currency, t.daily_budget,
        t.monthly_budget, t.cap_daily, t.cap_monthly, (SELECT count(*) FROM ins),
        (SELECT array_agg(period || ':' || amount) FROM ct),
        (SELECT array_agg(period || ':' || amount) FROM bt),
        t.timezone, t.alert_settings, t.alert_thresholds, t.alert_margin,
        (SELECT array_agg(period || ':' || amount) FROM st), (SELECT amount FROM fu),
        (SELECT flight_id FROM fv), (SELECT budget FROM fv), t.shared_budget_id,
        t.shared_daily, t.shared_monthly,
        (SELECT array_agg(bc.target || ':' || CASE bc.target
                WHEN 'campaign' THEN bc.campaign_id WHEN 'shared_budget' THEN bc.shared_budget_id
                ELSE bc.brand_id END
            || ':' || bc.effective_on || ':' || COALESCE(bc.daily_budget::text, '')
            || ':' || COALESCE(bc.monthly_budget::text, ''))
         FROM ads_budgetchange bc WHERE bc.brand_id = t.brand_id),
        t.status
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


def _calendar(entries: Sequence[str] | None) -> tuple[CalendarEntry, ...]:
    """The brand's budget calendar as the statement returned it, entries as
    ``target:owner:date:daily:monthly`` (an empty amount: the change does not set it)."""
    found = []
    for entry in entries or ():
        target, owner, day, daily, monthly = entry.split(":")
        found.append(
            CalendarEntry(
                target,
                int(owner),
                date.fromisoformat(day),
                int(daily) if daily else None,
                int(monthly) if monthly else None,
            )
        )
    return tuple(found)


def spend_record_one(
    item: CheckedEvent, at: datetime, actor: str, allowed_brand_ids: frozenset[int] | None
) -> tuple[dict[int, EventOutcome], list[Transition]] | None:
    """Record one checked event with one statement, or None to use the general path
    (zone not known or changed, overflow). Helper for ``spend_record``."""
    event = item.event
    zones = _zones if _zones.names else _zones_reload()
    row = ValidEvent(
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
        if getattr(exc.__cause__, "sqlstate", None) == NUMERIC_OUT_OF_RANGE:
            return None  # the statement changed nothing; the general path refuses exactly
        raise
    unknown = EventOutcome(
        item.index, EventStatus.REJECTED, f"unknown campaign {event.campaign_id!r}"
    )
    if found is None:
        return {item.index: unknown}, []
    brand_id, day, currency, daily, monthly, cap_daily, cap_monthly = found[:7]
    inserted, campaign_totals, brand_totals = found[7:10]
    zone, alert_settings, alert_thresholds, alert_margin = found[10:14]
    shared_totals, flight_total, flight_id, flight_budget = found[14:18]
    shared_id, shared_daily, shared_monthly, calendar_entries, status = found[18:]
    if allowed_brand_ids is not None and brand_id not in allowed_brand_ids:
        return {item.index: unknown}, []
    problem = currency_problem(event.currency, currency)
    if problem is not None:
        return {item.index: EventOutcome(item.index, EventStatus.REJECTED, problem)}, []
    if day is None:
        _zones_reload()
        return None  # a zone not seen before: nothing was written
    if not inserted:
        return decide([row], [], set()), []
    # The new totals, keyed as the general path's, so the same rule (SpendTargets.reached)
    # decides whether a limit was reached, and the alerts read the same figures.
    starts = {SpendPeriod.DAY.value: day, SpendPeriod.MONTH.value: day.replace(day=1)}

    def keyed(owner_id: int, entries: Sequence[str]) -> dict[TotalKey, int]:
        pairs = (entry.split(":") for entry in entries)
        return {(owner_id, period, starts[period]): int(amount) for period, amount in pairs}

    campaign_new = keyed(event.campaign_id, campaign_totals)
    brand_new = keyed(brand_id, brand_totals)
    totals = NewTotals(
        campaign_new,
        brand_new,
        keyed(shared_id, shared_totals or []),
        {} if flight_id is None else {flight_id: (flight_total, flight_budget, brand_id)},
    )
    target = SpendTarget(
        brand_id,
        zone,
        currency,
        daily,
        monthly,
        cap_daily,
        cap_monthly,
        shared_budget_id=shared_id,
        shared_daily=shared_daily,
        shared_monthly=shared_monthly,
        running=status == CampaignStatus.RUNNING,
    )
    calendar = _calendar(calendar_entries)
    # This event is all the statement added to each of its totals.
    added = NewTotals(
        dict.fromkeys(totals.campaign, row.micros),
        dict.fromkeys(totals.brand, row.micros),
        dict.fromkeys(totals.shared, row.micros),
        {} if flight_id is None else {flight_id: (row.micros, 0, 0)},
    )
    reached = SpendTargets({event.campaign_id: target}, calendar).reached(totals, added)
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
            daily_budget=from_micros(
                in_force(calendar, "brand", brand_id, daily, "daily", local.day, local.day) or 0
            ),
            monthly_budget=from_micros(
                in_force(calendar, "brand", brand_id, monthly, "monthly", local.day, local.day) or 0
            ),
            own=own,
            day_total=brand_new.get((brand_id, SpendPeriod.DAY.value, local.day)),
            month_total=brand_new.get((brand_id, SpendPeriod.MONTH.value, local.month)),
            at=at,
        )
    )
    return {item.index: EventOutcome(item.index, EventStatus.ACCEPTED)}, transitions
