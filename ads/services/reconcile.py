"""The engine: the one place that decides whether a campaign runs.

At an instant ``at`` a campaign should be RUNNING iff it is enabled, its brand's spend for
the brand-local day and month of ``at`` is below the brand's budgets, its own spend is below
its own caps, and it has no schedule or ``at`` falls (brand-local wall clock) inside one of
its windows. Otherwise it is PAUSED with the reason that lasts longest (``_DESIRED_REASON``).
Reaching a budget counts as exhausted (spend >= budget pauses).

``reconcile`` evaluates that rule for a set of campaigns in SQL, and moves only those whose
stored status or reason differ, writing one audit row and one log line per transition. Its
number of queries does not depend on the number of campaigns.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ads.core import metrics
from ads.core.money import MICROS_PER_UNIT, from_micros, money_text
from ads.core.periods import LocalPeriod, local_period
from ads.core.sql import adapt, in_ids, is_postgres, lock_clause, rows_cte
from ads.models import (
    CampaignStatus,
    DaypartWindow,
    PauseReason,
    SpendPeriod,
    schedule_is_open,
)
from ads.platforms.outbox import deliveries_enqueue_locked

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Scope:
    """Which campaigns to evaluate: all, or those of some brands and/or some campaigns."""

    brand_ids: tuple[int, ...] | None = None
    campaign_ids: tuple[int, ...] | None = None
    # Brands with lo <= id < hi (hi None: no end), for sweeps split over workers.
    brand_range: tuple[int, int | None] | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["1 = 1"], []
        if self.brand_range is not None:
            lo, hi = self.brand_range
            clauses.append("c.brand_id >= %s")
            params.append(lo)
            if hi is not None:
                clauses.append("c.brand_id < %s")
                params.append(hi)
        for column, ids in (("c.brand_id", self.brand_ids), ("c.id", self.campaign_ids)):
            if ids is not None:
                clause, clause_params = in_ids(column, ids)
                clauses.append(clause)
                params += clause_params
        return " AND ".join(clauses), params

    def totals_joins(self) -> dict[str, str]:
        """Extra conditions on the totals joins: a brand range reads only its own brands'
        totals, not every brand's (the same brands ``where`` admits, so nothing evaluated
        loses a total). Literal integers, so the planner sizes the range. (The campaign
        totals have no brand column; see ARCHITECTURE.md, "Split sweeps".)"""
        joins = dict.fromkeys(("bd", "bm", "cd", "cm"), "")
        if self.brand_range is not None:
            lo, hi = int(self.brand_range[0]), self.brand_range[1]
            for alias in ("bd", "bm"):
                upper = "" if hi is None else f" AND {alias}.brand_id < {int(hi)}"
                joins[alias] = f" AND {alias}.brand_id >= {lo}{upper}"
        return joins


ALL = Scope()


@dataclass(frozen=True, slots=True)
class Transition:
    """One campaign whose stored state differs from what the rule says.

    ``spend`` and ``limit`` are the figures behind the new reason (or the reason lifted, on
    a resume), as money text; None for reasons without figures. The audit row keeps every
    figure the rule saw (its ``snapshot``)."""

    campaign_id: int
    campaign_name: str
    brand_id: int
    from_status: str
    from_reason: str | None
    to_status: str
    to_reason: str | None
    spend: str | None = None
    limit: str | None = None

    @property
    def kind(self) -> str:
        if self.from_status == CampaignStatus.RUNNING:
            return "paused"
        if self.to_status == CampaignStatus.RUNNING:
            return "resumed"
        return "reason_changed"


@dataclass
class ReconcileResult:
    at: datetime
    trigger: str
    checked: int
    dry_run: bool
    transitions: list[Transition] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for transition in self.transitions if transition.kind == kind)

    def paused_by_reason(self) -> dict[str, int]:
        return dict(
            Counter(t.to_reason for t in self.transitions if t.to_reason and t.kind != "resumed")
        )

    def resumed_from(self, reasons: Sequence[str]) -> int:
        return sum(1 for t in self.transitions if t.kind == "resumed" and t.from_reason in reasons)

    def summary(self) -> dict[str, Any]:
        """JSON-friendly figures, as returned by the Celery tasks."""
        return {
            "at": self.at.isoformat(),
            "trigger": self.trigger,
            "dry_run": self.dry_run,
            "checked": self.checked,
            "paused": self.count("paused"),
            "resumed": self.count("resumed"),
            "reason_changed": self.count("reason_changed"),
            "by_reason": self.paused_by_reason(),
        }


@dataclass(frozen=True)
class _Clock:
    """What ``at`` means for the campaigns in scope: their zones' local day and month, and
    which (schedule, zone) pairs are open. Computed in Python (zoneinfo, DaypartWindow),
    handed to SQL as two small tables."""

    at: datetime
    checked: int
    periods: dict[str, LocalPeriod]
    open_schedules: list[tuple[int, str]]

    def ctes(self) -> tuple[str, list[Any]]:
        zones_sql, zones_params = rows_cte(
            "zones",
            (("tz", "text"), ("day", "date"), ("month", "date"), ("local_time", "text")),
            [
                (tz, period.day, period.month, period.local.isoformat())
                for tz, period in self.periods.items()
            ],
        )
        open_sql, open_params = rows_cte(
            "open_schedules", (("schedule_id", "bigint"), ("tz", "text")), self.open_schedules
        )
        return f"WITH {zones_sql}, {open_sql}", zones_params + open_params


def _clock(at: datetime, scope: Scope) -> _Clock:
    where, params = scope.where()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT b.timezone, c.schedule_id, COUNT(*)
            FROM ads_campaign c JOIN ads_brand b ON b.id = c.brand_id
            WHERE {where}
            GROUP BY b.timezone, c.schedule_id
            """,
            params,
        )
        groups: list[tuple[str, int | None, int]] = cursor.fetchall()
    periods = {tz: local_period(at, tz) for tz, _, _ in groups}
    pairs = {(schedule_id, tz) for tz, schedule_id, _ in groups if schedule_id is not None}
    windows: dict[int, list[DaypartWindow]] = {}
    if pairs:
        for window in DaypartWindow.objects.filter(
            schedule_id__in={schedule_id for schedule_id, _ in pairs}
        ):
            windows.setdefault(window.schedule_id, []).append(window)
    open_schedules = sorted(
        (schedule_id, tz)
        for schedule_id, tz in pairs
        if schedule_is_open(windows.get(schedule_id, []), periods[tz].local)
    )
    return _Clock(
        at=at,
        checked=sum(count for _, _, count in groups),
        periods=periods,
        open_schedules=open_schedules,
    )


R = PauseReason
# The rule, in precedence order: the reason that lasts longest first (any month-long reason
# before any day-long one), so the reason shown says when the campaign can run again.
# Amounts are integer micro-units on both sides.
_DESIRED_REASON = f"""
    CASE
        WHEN NOT c.enabled THEN '{R.MANUAL}'
        WHEN COALESCE(bm.amount, 0) >= b.monthly_budget THEN '{R.BRAND_MONTHLY_BUDGET}'
        WHEN c.monthly_budget IS NOT NULL AND COALESCE(cm.amount, 0) >= c.monthly_budget
            THEN '{R.CAMPAIGN_MONTHLY_BUDGET}'
        WHEN COALESCE(bd.amount, 0) >= b.daily_budget THEN '{R.BRAND_DAILY_BUDGET}'
        WHEN c.daily_budget IS NOT NULL AND COALESCE(cd.amount, 0) >= c.daily_budget
            THEN '{R.CAMPAIGN_DAILY_BUDGET}'
        WHEN c.schedule_id IS NOT NULL AND o.schedule_id IS NULL THEN '{R.OUTSIDE_SCHEDULE}'
    END"""

_EVALUATE = f"""
    SELECT c.id AS campaign_id, c.name AS campaign_name, c.brand_id, c.status, c.pause_reason,
        {_DESIRED_REASON} AS desired_reason,
        COALESCE(bd.amount, 0) AS brand_day_spend, b.daily_budget AS brand_daily_budget,
        COALESCE(bm.amount, 0) AS brand_month_spend, b.monthly_budget AS brand_monthly_budget,
        COALESCE(cd.amount, 0) AS campaign_day_spend, c.daily_budget AS campaign_daily_budget,
        COALESCE(cm.amount, 0) AS campaign_month_spend,
        c.monthly_budget AS campaign_monthly_budget,
        c.schedule_id, CASE WHEN o.schedule_id IS NULL THEN 0 ELSE 1 END AS schedule_open,
        b.timezone, z.local_time
    FROM ads_campaign c
    JOIN ads_brand b ON b.id = c.brand_id
    JOIN zones z ON z.tz = b.timezone
    LEFT JOIN ads_brandperiodspend bd ON bd.brand_id = c.brand_id
        AND bd.period = '{SpendPeriod.DAY}' AND bd.period_start = z.day{{bd}}
    LEFT JOIN ads_brandperiodspend bm ON bm.brand_id = c.brand_id
        AND bm.period = '{SpendPeriod.MONTH}' AND bm.period_start = z.month{{bm}}
    LEFT JOIN ads_campaignperiodspend cd ON cd.campaign_id = c.id
        AND cd.period = '{SpendPeriod.DAY}' AND cd.period_start = z.day{{cd}}
    LEFT JOIN ads_campaignperiodspend cm ON cm.campaign_id = c.id
        AND cm.period = '{SpendPeriod.MONTH}' AND cm.period_start = z.month{{cm}}
    LEFT JOIN open_schedules o ON o.schedule_id = c.schedule_id AND o.tz = b.timezone
    WHERE {{where}}
"""


def _evaluate(scope: Scope, where: str) -> str:
    return _EVALUATE.format(where=where, **scope.totals_joins())


# Stored state differs from the rule. `status` follows `pause_reason` (a check constraint
# ties them), so comparing reasons is enough.
_DIFFERS = "COALESCE(e.pause_reason, '') <> COALESCE(e.desired_reason, '')"


# The figures behind a reason (for Transition.spend/limit and the log line): the reason
# given, or on a resume the reason lifted.
_FIGURES = f"""
    CASE COALESCE(e.desired_reason, e.pause_reason)
        WHEN '{R.BRAND_MONTHLY_BUDGET}' THEN e.brand_month_spend
        WHEN '{R.BRAND_DAILY_BUDGET}' THEN e.brand_day_spend
        WHEN '{R.CAMPAIGN_MONTHLY_BUDGET}' THEN e.campaign_month_spend
        WHEN '{R.CAMPAIGN_DAILY_BUDGET}' THEN e.campaign_day_spend
    END AS spend,
    CASE COALESCE(e.desired_reason, e.pause_reason)
        WHEN '{R.BRAND_MONTHLY_BUDGET}' THEN e.brand_monthly_budget
        WHEN '{R.BRAND_DAILY_BUDGET}' THEN e.brand_daily_budget
        WHEN '{R.CAMPAIGN_MONTHLY_BUDGET}' THEN e.campaign_monthly_budget
        WHEN '{R.CAMPAIGN_DAILY_BUDGET}' THEN e.campaign_daily_budget
    END AS limit_"""
# What callers get back for each transition, in campaign id order.
_RETURNED = (
    "e.campaign_id, e.campaign_name, e.brand_id, e.status, e.pause_reason, e.desired_reason, "
    + _FIGURES
)


def _transitions(rows: Sequence[tuple[Any, ...]], *, texts: bool = False) -> list[Transition]:
    """Transitions from rows of ``_RETURNED``: a few microseconds each, no formatting.
    ``texts``: the figures came as money text already (``_RETURNED_TEXTS``)."""
    paused, running = CampaignStatus.PAUSED.value, CampaignStatus.RUNNING.value
    figure = _as_is if texts else _micros_text
    return [
        Transition(
            campaign_id,
            name,
            brand_id,
            status,
            reason,
            paused if desired else running,
            desired,
            figure(spend),
            figure(limit),
        )
        for campaign_id, name, brand_id, status, reason, desired, spend, limit in rows
    ]


def _as_is(value: str | None) -> str | None:
    return value


def _micros_text(value: int | None) -> str | None:
    return None if value is None else money_text(value)


def _plan(clock: _Clock, scope: Scope) -> list[Transition]:
    """The transitions the rule gives, changing nothing (dry runs, and SQLite's path)."""
    ctes, cte_params = clock.ctes()
    where, where_params = scope.where()
    with connection.cursor() as cursor:
        cursor.execute(
            f"{ctes} SELECT {_RETURNED} FROM ({_evaluate(scope, where)}) e "
            f"WHERE {_DIFFERS} ORDER BY e.campaign_id",
            cte_params + where_params,
        )
        return _transitions(cursor.fetchall())


def _evaluated(clock: _Clock, scope: Scope) -> list[dict[str, Any]]:
    """Every column of the evaluation for the campaigns in scope, amounts in micro-units."""
    ctes, cte_params = clock.ctes()
    where, where_params = scope.where()
    with connection.cursor() as cursor:
        cursor.execute(
            f"{ctes} SELECT * FROM ({_evaluate(scope, where)}) e ORDER BY e.campaign_id",
            cte_params + where_params,
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def evaluate(*, at: datetime, scope: Scope) -> list[dict[str, Any]]:
    """The rule's inputs and verdict for every campaign in scope (read-only; for
    explanations in the admin and API). Amounts are Decimals; ``desired_reason`` is None
    for a campaign that should run."""
    clock = _clock(at, scope)
    rows = _evaluated(clock, scope)
    for row in rows:
        for key in _MONEY_COLUMNS:
            if row[key] is not None:
                row[key] = from_micros(row[key])
        row["schedule_open"] = bool(row["schedule_open"]) if row["schedule_id"] else None
        row["local_time"] = clock.periods[row["timezone"]].local
    return rows


_MONEY_COLUMNS = (
    "brand_day_spend",
    "brand_daily_budget",
    "brand_month_spend",
    "brand_monthly_budget",
    "campaign_day_spend",
    "campaign_daily_budget",
    "campaign_month_spend",
    "campaign_monthly_budget",
)


def _lock_brands_with_changes(clock: _Clock, scope: Scope) -> tuple[int, ...]:
    """Lock, in id order, the brands that have campaigns to move (PostgreSQL)."""
    ctes, cte_params = clock.ctes()
    where, where_params = scope.where()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""{ctes}
            SELECT b.id FROM ads_brand b
            WHERE b.id IN (
                SELECT e.brand_id FROM ({_evaluate(scope, where)}) e WHERE {_DIFFERS}
            )
            ORDER BY b.id{lock_clause()}""",
            cte_params + where_params,
        )
        return tuple(row[0] for row in cursor.fetchall())


def _money_sql(column: str) -> str:
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
_SNAPSHOT_SQL = (
    "jsonb_build_object("
    + ", ".join(f"'{key}', {_money_sql('e.' + key)}" for key in _MONEY_COLUMNS)
    + ", 'timezone', e.timezone, 'local_time', e.local_time, 'schedule_open', "
    "CASE WHEN e.schedule_id IS NULL THEN NULL ELSE e.schedule_open = 1 END)"
)
# ``_RETURNED`` with the figures as money text, made by the database: 40,000 transitions
# formatted in Python cost about 0.1 s.
_RETURNED_TEXTS = (
    "r.campaign_id, r.campaign_name, r.brand_id, r.status, r.pause_reason, r.desired_reason, "
    f"{_money_sql('r.spend')}, {_money_sql('r.limit_')}"
)


def _move(clock: _Clock, scope: Scope, *, trigger: str, actor: str) -> list[Transition]:
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
    if not is_postgres():
        transitions = _plan(clock, scope)
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
    clock: _Clock, scope: Scope, *, trigger: str, actor: str, applied: datetime
) -> list[Transition]:
    ctes, cte_params = clock.ctes()
    where, where_params = scope.where()
    paused, running = CampaignStatus.PAUSED.value, CampaignStatus.RUNNING.value
    to_status = f"CASE WHEN e.desired_reason IS NULL THEN '{running}' ELSE '{paused}' END"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""{ctes},
            e AS MATERIALIZED (
                SELECT * FROM ({_evaluate(scope, where)}) e WHERE {_DIFFERS}
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
                    e.desired_reason, %s, %s, {_SNAPSHOT_SQL}
                FROM e
            )
            SELECT {_RETURNED_TEXTS} FROM (SELECT {_RETURNED} FROM e) r
            ORDER BY r.campaign_id""",
            cte_params + where_params + [applied, applied, applied, trigger, actor],
        )
        return _transitions(cursor.fetchall(), texts=True)


def _apply_rows(
    transitions: Sequence[Transition],
    clock: _Clock,
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
    snapshots = {row["campaign_id"]: row for row in _evaluated(clock, Scope(campaign_ids=ids))}
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
    """The audit snapshot of one evaluated row, as ``_SNAPSHOT_SQL`` builds it."""
    snapshot: dict[str, Any] = {
        key: None if row[key] is None else money_text(row[key]) for key in _MONEY_COLUMNS
    }
    snapshot.update(
        timezone=row["timezone"],
        local_time=row["local_time"],
        schedule_open=bool(row["schedule_open"]) if row["schedule_id"] else None,
    )
    return snapshot


# Up to this many transitions, each gets its own INFO line; beyond it (sweeps that move
# thousands at once) one INFO summary line, and the per-transition lines at DEBUG. A line
# costs 13-15 us (record, key=value formatting, write): 0.4 s of a sweep moving 28,000
# campaigns, more than updating them. The audit table keeps one row per transition anyway.
DETAILED_LOG_LINES = 100


def log_transitions(
    transitions: Sequence[Transition], *, at: datetime, trigger: str, actor: str
) -> None:
    """Log what moved; call after the transaction committed. Each line names the spend and
    budget behind the new reason (or the reason lifted, on a resume). Large sets get one
    summary line (see DETAILED_LOG_LINES)."""
    if not transitions:
        return
    # Counted whatever the log level (Prometheus, ads/core/metrics.py).
    metrics.transitions_counted(transitions, trigger=trigger)
    detailed = len(transitions) <= DETAILED_LOG_LINES
    if not detailed and logger.isEnabledFor(logging.INFO):
        kinds = Counter(t.kind for t in transitions)
        logger.info(
            "%s campaigns moved (%s): %s paused, %s resumed, %s changed reason",
            len(transitions),
            trigger,
            kinds["paused"],
            kinds["resumed"],
            kinds["reason_changed"],
            extra={
                "trigger": trigger,
                "actor": actor,
                "at": at.isoformat(),
                "moved": len(transitions),
                "paused": kinds["paused"],
                "resumed": kinds["resumed"],
                "reason_changed": kinds["reason_changed"],
            },
        )
    level = logging.INFO if detailed else logging.DEBUG
    if not logger.isEnabledFor(level):
        return
    when = at.isoformat()
    for t in transitions:
        extra: dict[str, Any] = {
            "campaign_id": t.campaign_id,
            "brand_id": t.brand_id,
            "from_status": t.from_status,
            "from_reason": t.from_reason,
            "to_status": t.to_status,
            "reason": t.to_reason,
            "trigger": trigger,
            "actor": actor,
            "at": when,
        }
        if t.spend is not None:
            extra["spend"], extra["limit"] = t.spend, t.limit
        logger.log(
            level,
            "campaign %s %s: %s -> %s (%s)",
            t.campaign_id,
            t.kind,
            t.from_reason or t.from_status,
            t.to_reason or t.to_status,
            trigger,
            extra=extra,
        )


def reconcile_locked(*, at: datetime, trigger: str, actor: str, scope: Scope) -> list[Transition]:
    """Reconcile inside the caller's transaction, which must already hold the locks of every
    brand in ``scope`` (PostgreSQL) or be an IMMEDIATE transaction (SQLite). The caller logs
    the returned transitions after commit."""
    return _move(_clock(at, scope), scope, trigger=trigger, actor=actor)


def reconcile(
    *,
    at: datetime,
    trigger: str,
    actor: str = SYSTEM_ACTOR,
    scope: Scope = ALL,
    dry_run: bool = False,
    log: bool = True,
) -> ReconcileResult:
    """Move the campaigns in ``scope`` to the state the rule gives at ``at``.

    Safe to run twice: a second run at the same ``at`` finds nothing to change. With
    ``dry_run`` it only reports the transitions it would make.
    """
    if at.tzinfo is None:
        raise ValueError("reconcile needs an aware datetime")
    clock = _clock(at, scope)
    result = ReconcileResult(at=at, trigger=trigger, checked=clock.checked, dry_run=dry_run)
    if dry_run:
        result.transitions = _plan(clock, scope)
        return result
    with transaction.atomic():
        locked_scope = scope
        if is_postgres():
            # Spend ingestion locks the same brand rows, in the same id order, before it
            # changes totals; taking them here means a pause decided by ingestion can never be
            # overwritten by a plan computed from totals that were already stale.
            locked = _lock_brands_with_changes(clock, scope)
            if not locked:
                return result
            locked_scope = replace(scope, brand_ids=locked)
        result.transitions = _move(clock, locked_scope, trigger=trigger, actor=actor)
    if log:
        # Without: the caller runs this inside a transaction of its own and logs after it.
        log_transitions(result.transitions, at=at, trigger=trigger, actor=actor)
    return result


__all__ = [
    "ALL",
    "SYSTEM_ACTOR",
    "ReconcileResult",
    "Scope",
    "Transition",
    "evaluate",
    "log_transitions",
    "reconcile",
    "reconcile_locked",
]
