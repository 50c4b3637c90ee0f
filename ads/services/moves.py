"""Moving campaigns to what the rule gives: the campaigns' state, one audit row each (with a
snapshot of every figure the rule saw) and the ad-platform outbox rows, in the caller's
transaction and set-based: on PostgreSQL one statement whatever the number of campaigns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from ads.core.money import MICROS_PER_UNIT, from_micros, money_text
from ads.core.sql import adapt, dialect, lock_clause, rows_cte
from ads.models import CampaignStatus
from ads.services.platform_queue import deliveries_enqueue_locked
from ads.services.rule import (
    DIFFERS,
    MONEY_COLUMNS,
    RETURNED,
    Clock,
    Scope,
    Transition,
    evaluate_sql,
    evaluated,
    plan,
    transitions_from,
)


def lock_brands_with_changes(clock: Clock, scope: Scope) -> tuple[int, ...]:
    """Lock, in id order, the brands that have campaigns to move (PostgreSQL)."""
    ctes, cte_params = clock.ctes()
    where, where_params = scope.where()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""{ctes}
            SELECT b.id FROM ads_brand b
            WHERE b.id IN (
                SELECT e.brand_id FROM ({evaluate_sql(scope, where)}) e WHERE {DIFFERS}
            )
            ORDER BY b.id{lock_clause()}""",
            cte_params + where_params,
        )
        return tuple(row[0] for row in cursor.fetchall())


def money_sql(column: str) -> str:
    """``money_text`` in SQL: integer micro-units as plain decimal text with trailing zeros
    trimmed to two places ('12.50', '0.000001', '-3.00'); NULL stays NULL. The value times
    0.000001 is exact (a product's scale is the sum of its factors'); whole cents (nearly
    every amount) are then rounded to two places, the rest trimmed to their last digit.
    A third of the cost of building the text piece by piece (a move builds eight per audit
    row)."""
    cent = MICROS_PER_UNIT // 100
    value = f"({column})::numeric * {from_micros(1)}"
    return (
        f"(CASE WHEN ({column}) %% {cent} = 0 THEN round({value}, 2) "
        f"ELSE trim_scale({value}) END)::text"
    )


# The audit row's snapshot: every figure the rule saw, amounts as money text.
SNAPSHOT_SQL = (
    "jsonb_build_object("
    + ", ".join(f"'{key}', {money_sql('e.' + key)}" for key in MONEY_COLUMNS)
    + ", 'flight_id', e.flight_id, 'shared_budget_id', e.shared_budget_id"
    ", 'timezone', e.timezone, 'local_time', e.local_time, 'schedule_open', "
    "CASE WHEN e.schedule_id IS NULL THEN NULL ELSE e.schedule_open = 1 END)"
)
# ``RETURNED`` with the figures as money text, made by the database: 40,000 transitions
# formatted in Python cost about 0.1 s.
RETURNED_TEXTS = (
    "r.campaign_id, r.campaign_name, r.brand_id, r.status, r.pause_reason, r.desired_reason, "
    f"{money_sql('r.spend')}, {money_sql('r.limit_')}"
)


def move(clock: Clock, scope: Scope, *, trigger: str, actor: str) -> list[Transition]:
    """Evaluate, update the campaigns that differ and write their audit rows, in one
    statement on PostgreSQL (data-modifying CTEs): nothing per campaign travels to Python
    and back, only what callers need comes out."""
    # Decided at `clock.at`, recorded when applied: this runs under the brand locks, just
    # before the statement that moves, and a split sweep's range may run long after its
    # sweep's instant (queued, retried, redelivered after a lost worker). This process's
    # clock, not the database's: `at` and a run's start and end come from it too (one
    # clock orders them all), a frozen test clock freezes it, and SQLite has no statement
    # timestamp (clock_timestamp() would also differ from row to row within one move).
    applied = timezone.now()
    if not dialect().writing_ctes:
        transitions = plan(clock, scope)
        _apply_rows(transitions, clock, scope, trigger=trigger, actor=actor, applied=applied)
    else:
        transitions = _move_in_one_statement(
            clock, scope, trigger=trigger, actor=actor, applied=applied
        )
    # Ad platforms, same transaction. Due from `at`, the operation's instant, not from
    # `applied`: a caller that then pushes what is due at its `at` (the bench) finds them.
    deliveries_enqueue_locked(transitions, at=clock.at)
    return transitions


def _move_in_one_statement(
    clock: Clock, scope: Scope, *, trigger: str, actor: str, applied: datetime
) -> list[Transition]:
    ctes, cte_params = clock.ctes()
    where, where_params = scope.where()
    paused, running = CampaignStatus.PAUSED.value, CampaignStatus.RUNNING.value
    to_status = f"CASE WHEN e.desired_reason IS NULL THEN '{running}' ELSE '{paused}' END"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""{ctes},
            e AS MATERIALIZED (
                SELECT * FROM ({evaluate_sql(scope, where)}) e WHERE {DIFFERS}
            ),
            moved AS (
                UPDATE ads_campaign c SET status = {to_status}, pause_reason = e.desired_reason,
                    status_changed_at = %s, updated_at = %s
                FROM e WHERE c.id = e.campaign_id
            ),
            audit AS (
                INSERT INTO ads_campaignstatuschange (campaign_id, at, from_status,
                    from_reason, to_status, reason, trigger, actor, snapshot)
                SELECT e.campaign_id, %s, e.status, e.pause_reason, {to_status},
                    e.desired_reason, %s, %s, {SNAPSHOT_SQL}
                FROM e
            )
            SELECT {RETURNED_TEXTS} FROM (SELECT {RETURNED} FROM e) r
            ORDER BY r.campaign_id""",
            cte_params + where_params + [applied, applied, applied, trigger, actor],
        )
        return transitions_from(cursor.fetchall(), texts=True)


def _apply_rows(
    transitions: Sequence[Transition],
    clock: Clock,
    scope: Scope,
    *,
    trigger: str,
    actor: str,
    applied: datetime,
) -> None:
    """SQLite: apply planned transitions, with the snapshots read from the same evaluation
    (the IMMEDIATE transaction admits no other writer in between)."""
    if not transitions:
        return
    ids = tuple(t.campaign_id for t in transitions)
    snapshots = {row["campaign_id"]: row for row in evaluated(clock, Scope(campaign_ids=ids))}
    updates_sql, updates_params = rows_cte(
        "v",
        (("id", "bigint"), ("status", "text"), ("reason", "text")),
        [(t.campaign_id, t.to_status, t.to_reason) for t in transitions],
    )
    audit_sql, audit_params = rows_cte(
        "v",
        (
            ("campaign_id", "bigint"),
            ("from_status", "text"),
            ("from_reason", "text"),
            ("to_status", "text"),
            ("reason", "text"),
            ("snapshot", "jsonb"),
        ),
        [
            (
                t.campaign_id,
                t.from_status,
                t.from_reason,
                t.to_status,
                t.to_reason,
                json.dumps(_snapshot(snapshots[t.campaign_id])),
            )
            for t in transitions
        ],
    )
    at = adapt(applied)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {updates_sql}
            UPDATE ads_campaign SET status = v.status, pause_reason = v.reason,
                status_changed_at = %s, updated_at = %s
            FROM v WHERE ads_campaign.id = v.id""",
            updates_params + [at, at],
        )
        cursor.execute(
            f"""WITH {audit_sql}
            INSERT INTO ads_campaignstatuschange
                (campaign_id, at, from_status, from_reason, to_status, reason, trigger, actor,
                 snapshot)
            SELECT campaign_id, %s, from_status, from_reason, to_status, reason, %s, %s,
                snapshot
            FROM v""",
            audit_params + [at, trigger, actor],
        )


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    """The audit snapshot of one evaluated row, as ``SNAPSHOT_SQL`` builds it."""
    snapshot: dict[str, Any] = {
        key: None if row[key] is None else money_text(row[key]) for key in MONEY_COLUMNS
    }
    snapshot.update(
        flight_id=row["flight_id"],
        shared_budget_id=row["shared_budget_id"],
        timezone=row["timezone"],
        local_time=row["local_time"],
        schedule_open=bool(row["schedule_open"]) if row["schedule_id"] else None,
    )
    return snapshot
