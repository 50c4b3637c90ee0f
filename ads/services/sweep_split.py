"""Sweeps split over workers: the campaigns in brand-id ranges, one task per range.

A full sweep is one statement over every campaign; at a million campaigns it is a few
seconds of one database backend and one worker. Split by brand id, the ranges run on as many
workers as there are (each range is the same reconcile, scoped), and a range that fails is
retried alone. Brands are the unit because every writer locks brand rows: two ranges never
touch the same brand, so workers running ranges at once never wait on each other.

Each range runs under a lock of its own (a transaction-level advisory lock on PostgreSQL,
which also holds behind PgBouncer in transaction mode): a second run of the same range while
one is in progress skips instead of queueing. Running a range again later is harmless, as
any reconcile is: it finds nothing left to move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from ads.models import Trigger
from ads.services.reconcile import SYSTEM_ACTOR, Scope, log_transitions, reconcile
from ads.services.sql import is_postgres

# Brands per range: at 10 campaigns a brand, 100,000 campaigns per range (about 0.3 s of
# checking on the measured machine), so the fan-out stays a handful of tasks per 1M.
DEFAULT_BRANDS_PER_RANGE = 10_000

# Advisory lock keys: one namespace per sweep, plus the range's first brand id.
_LOCK_NAMESPACES = {Trigger.BUDGET_CHECK: 0x5301, Trigger.DAYPARTING: 0x5302}


@dataclass(frozen=True)
class BrandRange:
    """Brands with ``lo <= id < hi``; ``hi`` None means no upper end (brands created later
    fall into the last range)."""

    lo: int
    hi: int | None

    def as_args(self) -> list[int | None]:
        return [self.lo, self.hi]


def brand_ranges(*, brands_per_range: int = DEFAULT_BRANDS_PER_RANGE) -> list[BrandRange]:
    """Consecutive ranges of about ``brands_per_range`` brands covering every brand id, in
    one query (only the first id of each range leaves the database). Read-only."""
    if brands_per_range < 1:
        raise ValueError("brands_per_range must be >= 1")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM ads_brand) x "
            "WHERE (n - 1) %% %s = 0 ORDER BY id",
            [brands_per_range],
        )
        starts = [row[0] for row in cursor.fetchall()]
    if not starts:
        return [BrandRange(0, None)]
    bounds = [0, *starts[1:]]
    return [
        BrandRange(lo, bounds[index + 1] if index + 1 < len(bounds) else None)
        for index, lo in enumerate(bounds)
    ]


def _range_lock(trigger: str, lo: int) -> bool:
    """Take this range's lock for the current transaction, or say it is held elsewhere."""
    if not is_postgres():
        return True  # SQLite's IMMEDIATE transactions already admit one writer at a time
    key = (_LOCK_NAMESPACES.get(Trigger(trigger), 0x5300) << 40) + lo
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return bool(cursor.fetchone()[0])


def range_sweep(
    *,
    trigger: str,
    brand_range: BrandRange,
    at: datetime,
    actor: str = SYSTEM_ACTOR,
) -> dict[str, Any]:
    """Reconcile the campaigns of one brand range, under that range's lock. Safe to run
    twice; a run that finds the range's lock taken changes nothing and says so."""
    with transaction.atomic():
        if not _range_lock(trigger, brand_range.lo):
            return {
                "at": at.isoformat(),
                "trigger": trigger,
                "brands": brand_range.as_args(),
                "skipped": "this range is being swept by another worker",
            }
        result = reconcile(
            at=at,
            trigger=trigger,
            actor=actor,
            scope=Scope(brand_range=(brand_range.lo, brand_range.hi)),
            log=False,
        )
    log_transitions(result.transitions, at=at, trigger=trigger, actor=actor)
    return {**result.summary(), "brands": brand_range.as_args()}


def merge_summaries(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure set for a split sweep, from its ranges' summaries."""
    total: dict[str, Any] = {"ranges": len(summaries), "skipped": 0, "by_reason": {}}
    for key in ("checked", "paused", "resumed", "reason_changed"):
        total[key] = sum(s.get(key, 0) for s in summaries)
    for summary in summaries:
        total["skipped"] += 1 if "skipped" in summary else 0
        for reason, count in summary.get("by_reason", {}).items():
            total["by_reason"][reason] = total["by_reason"].get(reason, 0) + count
    return total
