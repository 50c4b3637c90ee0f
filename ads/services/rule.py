"""The rule: the one place that decides whether a campaign runs.

At an instant ``at`` a campaign should be RUNNING iff it is enabled; it is in no flight, or
the brand-local date of ``at`` falls in one of its flights and that flight's spend is below
its budget; its brand's, its shared budget's and its own spend for the brand-local day and
month of ``at`` are below their budgets in force that day (the budget calendar's latest
change, else the stored budget); and it has no schedule or ``at`` falls (brand-local wall
clock) inside one of its windows. Otherwise it is PAUSED with the reason that lasts
longest (``DESIRED_REASON``). Reaching a budget counts as exhausted (spend >= budget
pauses).

The rule is evaluated for a set of campaigns in SQL (``evaluate_sql``), from a ``Clock``
computed in Python; ``plan`` gives the transitions it calls for, ``evaluate`` its inputs and
verdict per campaign (the explanations). ``ads.services.moves`` applies a plan,
``ads.services.reconcile`` runs both under the brand locks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection

from ads.core.money import from_micros, money_text
from ads.core.periods import LocalPeriod, local_period
from ads.core.sql import rows_cte
from ads.models import (
    BudgetTarget,
    CampaignStatus,
    DaypartWindow,
    PauseReason,
    SpendPeriod,
    schedule_is_open,
)
from ads.services.rule_plans import flights_sql, in_force_sql, shared_sql

# Re-exported: callers take the rule's scope with the rule.
from ads.services.scope import Scope as Scope

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
class Clock:
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


def clock(at: datetime, scope: Scope) -> Clock:
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
    return Clock(
        at=at,
        checked=sum(count for _, _, count in groups),
        periods=periods,
        open_schedules=open_schedules,
    )


# The rule, in precedence order: the reason that lasts longest first (any month-long reason
# before any day-long one), so the reason shown says when the campaign can run again: outside
# its flights until staff extend one (or the next starts), a flight's budget until the flight
# ends. Budgets are those in force today (the calendar's latest change, else the stored
# one); amounts are integer micro-units on both sides.
BRAND_DAILY = "COALESCE(ib.daily, b.daily_budget)"
BRAND_MONTHLY = "COALESCE(ib.monthly, b.monthly_budget)"
CAMPAIGN_DAILY = "COALESCE(ic.daily, c.daily_budget)"
CAMPAIGN_MONTHLY = "COALESCE(ic.monthly, c.monthly_budget)"
SHARED_DAILY = "sh.daily"
SHARED_MONTHLY = "sh.monthly"
DESIRED_REASON = f"""
    CASE
        WHEN NOT c.enabled THEN '{PauseReason.MANUAL}'
        WHEN fl.campaign_id IS NOT NULL AND fl.flight_id IS NULL
            THEN '{PauseReason.OUTSIDE_FLIGHT}'
        WHEN fl.flight_id IS NOT NULL AND fl.spend >= fl.budget
            THEN '{PauseReason.FLIGHT_BUDGET}'
        WHEN COALESCE(bm.amount, 0) >= {BRAND_MONTHLY} THEN '{PauseReason.BRAND_MONTHLY_BUDGET}'
        WHEN {SHARED_MONTHLY} IS NOT NULL AND sh.month_spend >= {SHARED_MONTHLY}
            THEN '{PauseReason.SHARED_MONTHLY_BUDGET}'
        WHEN {CAMPAIGN_MONTHLY} IS NOT NULL AND COALESCE(cm.amount, 0) >= {CAMPAIGN_MONTHLY}
            THEN '{PauseReason.CAMPAIGN_MONTHLY_BUDGET}'
        WHEN COALESCE(bd.amount, 0) >= {BRAND_DAILY} THEN '{PauseReason.BRAND_DAILY_BUDGET}'
        WHEN {SHARED_DAILY} IS NOT NULL AND sh.day_spend >= {SHARED_DAILY}
            THEN '{PauseReason.SHARED_DAILY_BUDGET}'
        WHEN {CAMPAIGN_DAILY} IS NOT NULL AND COALESCE(cd.amount, 0) >= {CAMPAIGN_DAILY}
            THEN '{PauseReason.CAMPAIGN_DAILY_BUDGET}'
        WHEN c.schedule_id IS NOT NULL AND o.schedule_id IS NULL
            THEN '{PauseReason.OUTSIDE_SCHEDULE}'
    END"""

EVALUATE = f"""
    WITH inf AS {{in_force}}, fl AS {{flights}}, sh AS {{shared}}
    SELECT c.id AS campaign_id, c.name AS campaign_name, c.brand_id, c.status, c.pause_reason,
        {DESIRED_REASON} AS desired_reason,
        COALESCE(bd.amount, 0) AS brand_day_spend, {BRAND_DAILY} AS brand_daily_budget,
        COALESCE(bm.amount, 0) AS brand_month_spend, {BRAND_MONTHLY} AS brand_monthly_budget,
        COALESCE(cd.amount, 0) AS campaign_day_spend, {CAMPAIGN_DAILY} AS campaign_daily_budget,
        COALESCE(cm.amount, 0) AS campaign_month_spend,
        {CAMPAIGN_MONTHLY} AS campaign_monthly_budget,
        c.shared_budget_id,
        sh.day_spend AS shared_day_spend, {SHARED_DAILY} AS shared_daily_budget,
        sh.month_spend AS shared_month_spend, {SHARED_MONTHLY} AS shared_monthly_budget,
        CASE WHEN fl.campaign_id IS NULL THEN 0 ELSE 1 END AS in_flight, fl.flight_id,
        CASE WHEN fl.flight_id IS NULL THEN NULL ELSE fl.spend END AS flight_spend,
        fl.budget AS flight_budget,
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
    LEFT JOIN sh ON sh.shared_budget_id = c.shared_budget_id
    LEFT JOIN fl ON fl.campaign_id = c.id
    LEFT JOIN inf ib ON ib.target = '{BudgetTarget.BRAND}' AND ib.owner_id = c.brand_id
    LEFT JOIN inf ic ON ic.target = '{BudgetTarget.CAMPAIGN}' AND ic.owner_id = c.id
    LEFT JOIN open_schedules o ON o.schedule_id = c.schedule_id AND o.tz = b.timezone
    WHERE {{where}}
"""


def evaluate_sql(scope: Scope, where: str) -> str:
    return EVALUATE.format(
        where=where,
        flights=flights_sql(scope),
        in_force=in_force_sql(scope),
        shared=shared_sql(scope),
        **scope.totals_joins(),
    )


# Stored state differs from the rule. `status` follows `pause_reason` (a check constraint
# ties them), so comparing reasons is enough.
DIFFERS = "COALESCE(e.pause_reason, '') <> COALESCE(e.desired_reason, '')"


# The figures behind a reason (for Transition.spend/limit and the log line): the reason
# given, or on a resume the reason lifted.
FIGURES = f"""
    CASE COALESCE(e.desired_reason, e.pause_reason)
        WHEN '{PauseReason.FLIGHT_BUDGET}' THEN e.flight_spend
        WHEN '{PauseReason.SHARED_MONTHLY_BUDGET}' THEN e.shared_month_spend
        WHEN '{PauseReason.SHARED_DAILY_BUDGET}' THEN e.shared_day_spend
        WHEN '{PauseReason.BRAND_MONTHLY_BUDGET}' THEN e.brand_month_spend
        WHEN '{PauseReason.BRAND_DAILY_BUDGET}' THEN e.brand_day_spend
        WHEN '{PauseReason.CAMPAIGN_MONTHLY_BUDGET}' THEN e.campaign_month_spend
        WHEN '{PauseReason.CAMPAIGN_DAILY_BUDGET}' THEN e.campaign_day_spend
    END AS spend,
    CASE COALESCE(e.desired_reason, e.pause_reason)
        WHEN '{PauseReason.FLIGHT_BUDGET}' THEN e.flight_budget
        WHEN '{PauseReason.SHARED_MONTHLY_BUDGET}' THEN e.shared_monthly_budget
        WHEN '{PauseReason.SHARED_DAILY_BUDGET}' THEN e.shared_daily_budget
        WHEN '{PauseReason.BRAND_MONTHLY_BUDGET}' THEN e.brand_monthly_budget
        WHEN '{PauseReason.BRAND_DAILY_BUDGET}' THEN e.brand_daily_budget
        WHEN '{PauseReason.CAMPAIGN_MONTHLY_BUDGET}' THEN e.campaign_monthly_budget
        WHEN '{PauseReason.CAMPAIGN_DAILY_BUDGET}' THEN e.campaign_daily_budget
    END AS limit_"""
# What callers get back for each transition, in campaign id order.
RETURNED = (
    "e.campaign_id, e.campaign_name, e.brand_id, e.status, e.pause_reason, e.desired_reason, "
    + FIGURES
)


def transitions_from(rows: Sequence[tuple[Any, ...]], *, texts: bool = False) -> list[Transition]:
    """Transitions from rows of ``RETURNED``: a few microseconds each, no formatting.
    ``texts``: the figures came as money text already (``RETURNED_TEXTS``)."""
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


def plan(clock: Clock, scope: Scope) -> list[Transition]:
    """The transitions the rule gives, changing nothing (dry runs, and SQLite's path)."""
    ctes, cte_params = clock.ctes()
    where, where_params = scope.where()
    with connection.cursor() as cursor:
        cursor.execute(
            f"{ctes} SELECT {RETURNED} FROM ({evaluate_sql(scope, where)}) e "
            f"WHERE {DIFFERS} ORDER BY e.campaign_id",
            cte_params + where_params,
        )
        return transitions_from(cursor.fetchall())


def evaluated(clock: Clock, scope: Scope) -> list[dict[str, Any]]:
    """Every column of the evaluation for the campaigns in scope, amounts in micro-units."""
    ctes, cte_params = clock.ctes()
    where, where_params = scope.where()
    with connection.cursor() as cursor:
        cursor.execute(
            f"{ctes} SELECT * FROM ({evaluate_sql(scope, where)}) e ORDER BY e.campaign_id",
            cte_params + where_params,
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def evaluate(*, at: datetime, scope: Scope) -> list[dict[str, Any]]:
    """The rule's inputs and verdict for every campaign in scope (read-only; for
    explanations in the admin and API). Amounts are Decimals; ``desired_reason`` is None
    for a campaign that should run."""
    at_clock = clock(at, scope)
    rows = evaluated(at_clock, scope)
    for row in rows:
        for key in MONEY_COLUMNS:
            if row[key] is not None:
                row[key] = from_micros(row[key])
        row["schedule_open"] = bool(row["schedule_open"]) if row["schedule_id"] else None
        row["in_flight"] = bool(row["in_flight"])
        row["local_time"] = at_clock.periods[row["timezone"]].local
    return rows


MONEY_COLUMNS = (
    "brand_day_spend",
    "brand_daily_budget",
    "brand_month_spend",
    "brand_monthly_budget",
    "campaign_day_spend",
    "campaign_daily_budget",
    "campaign_month_spend",
    "campaign_monthly_budget",
    "shared_day_spend",
    "shared_daily_budget",
    "shared_month_spend",
    "shared_monthly_budget",
    "flight_spend",
    "flight_budget",
)
