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

The sweep as a whole is one job run (``JobRun``), as the unsplit sweep is, so the watchdog
and the dashboard read split sweeps as they read the others. Its ranges run in different
tasks, perhaps on different machines, so no database session spans the sweep and a session
lock cannot say "in progress": the ``running`` row is the claim instead (``split_claim``),
taken under the job's advisory lock, and the last range's callback completes it
(``split_finish``). The claim is a lease (``split_lease``, shorter than the job's interval)
that each range renews as it starts and as it commits: a claim whose lease ran out (a worker
lost with its ranges or its chord) no longer counts, the next claim records it as failed,
and its ranges, should they still run, move nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import DateTimeField, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from ads.core import metrics
from ads.core.locks import try_transaction_lock
from ads.models import JobName, JobOutcome, JobRun, JobTrigger, Trigger
from ads.services.job_runs import (
    JobFigures,
    finish_run,
    job_lock_key,
    split_claims,
    split_claims_close_lapsed,
    split_lease,
)
from ads.services.reconcile import SYSTEM_ACTOR, log_transitions, reconcile
from ads.services.rule import Scope

logger = logging.getLogger(__name__)

# Brands per range: at 10 campaigns a brand, 100,000 campaigns per range (about 0.3 s of
# checking on the measured machine), so the fan-out stays a handful of tasks per 1M.
DEFAULT_BRANDS_PER_RANGE = 10_000

# Advisory lock keys: one namespace per sweep, plus the range's first brand id.
_LOCK_NAMESPACES = {Trigger.CHECK_BUDGET: 0x5301, Trigger.ENFORCE_DAYPARTING: 0x5302}
# The job whose run a range of each sweep reports to.
_JOBS = {
    Trigger.CHECK_BUDGET: JobName.CHECK_BUDGET,
    Trigger.ENFORCE_DAYPARTING: JobName.ENFORCE_DAYPARTING,
}


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
    return try_transaction_lock((_LOCK_NAMESPACES.get(Trigger(trigger), 0x5300) << 40) + lo)


def split_lease_renew(
    *,
    run_id: int,
    trigger: str,
    at: datetime,
    wait: timedelta = timedelta(0),
    admitted: bool = False,
) -> bool:
    """A range of split run ``run_id`` (of the ``trigger`` sweep) reports at ``at``: the
    run's lease then lasts a full lease from ``at`` (plus ``wait``, a retry's countdown),
    never less than it already did. Returns whether the run still holds its claim: it is
    running and its lease has not run out, or with ``admitted`` (a range that started while
    the claim held, now committing) only running, since every run that starts closes a
    lapsed claim first. If not, nothing changes and the range must move nothing. Safe to
    call twice."""
    job = _JOBS[Trigger(trigger)]
    rows = JobRun.objects.filter(pk=run_id, job=job, outcome=JobOutcome.RUNNING)
    if not admitted:
        rows = rows.filter(lease_until__gte=at)
    until = Value(at + wait + split_lease(job), output_field=DateTimeField())
    return rows.update(lease_until=Greatest("lease_until", until)) > 0


def _still_claimed(run_id: int | None, trigger: str, *, admitted: bool = False) -> bool:
    """Whether a range may move campaigns: it belongs to no split run (a range run by hand),
    or its run still holds its claim, renewed now."""
    if run_id is None:
        return True
    # The lease measures time passing, so it is renewed at the clock's "now", not at the
    # sweep's instant (which a range queued, retried or redelivered may run long after).
    return split_lease_renew(run_id=run_id, trigger=trigger, at=timezone.now(), admitted=admitted)


class _ClaimLost(Exception):
    """The range's run lost its claim while the range ran; its moves are rolled back."""


def range_sweep(
    *,
    trigger: str,
    brand_range: BrandRange,
    at: datetime,
    actor: str = SYSTEM_ACTOR,
    run_id: int | None = None,
) -> dict[str, Any]:
    """Reconcile the campaigns of one brand range at ``at``, under that range's lock. With
    ``run_id`` (a range of that split run) the range renews the run's lease as it starts and
    as it commits, and moves nothing once the run has lost its claim: a later sweep covers
    these brands at a later instant. Safe to run twice; a run that finds the range's lock
    taken changes nothing and says so."""
    if not _still_claimed(run_id, trigger):
        return _claim_lost(brand_range, at=at, trigger=trigger)
    try:
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
            # Last in the transaction, so the run's row stays locked only while this
            # commits. A run that closed this one first (a newer sweep: it closes lapsed
            # claims before it starts) makes this renew nothing, on PostgreSQL after waiting
            # for its commit and reading the row again, and the moves roll back: they were
            # decided at an older instant than that sweep's. A claim attempt that comes
            # after waits for this commit, and finds the lease renewed. A range slower than
            # a lease with no newer run in between still commits.
            if not _still_claimed(run_id, trigger, admitted=True):
                raise _ClaimLost
    except _ClaimLost:
        return _claim_lost(brand_range, at=at, trigger=trigger)
    log_transitions(result.transitions, at=at, trigger=trigger, actor=actor)
    return {**result.summary(), "brands": brand_range.as_args()}


def _claim_lost(brand_range: BrandRange, *, at: datetime, trigger: str) -> dict[str, Any]:
    # A failure, not a skip: should the run's callback still come, the run did not sweep
    # these brands.
    return range_failed(
        brand_range,
        at=at,
        trigger=trigger,
        error="not swept: the sweep's run was closed or its lease had run out",
    )


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


# --- The sweep as one job run --------------------------------------------------------------


def _job_lock(job: str) -> bool:
    """The job's advisory lock for this transaction: the one an unsplit run of the job holds
    for its whole run (``job_runs``), so a claim is refused while such a run is going."""
    return try_transaction_lock(job_lock_key(job))


def split_claim(*, job: JobName, trigger: JobTrigger, actor: str, at: datetime) -> JobRun | None:
    """Start one split run of ``job``: its ``running`` row, committed, or None (and a
    ``skipped`` row) when another run of the job is in progress, split or not.

    Claims whose lease ran out at ``at`` are closed as failed first: no range reported
    within a lease, so its worker is gone, and its late ranges move nothing.
    """
    lease = split_lease(job)
    with transaction.atomic():
        locked = _job_lock(job)
        split_claims_close_lapsed(job, at=at)
        busy = not locked or split_claims(job, at=at).exists()
        run = JobRun.objects.create(
            job=job,
            trigger=trigger,
            actor=actor,
            started_at=at,
            detail={"split": True},
            # Skipped from the start: a running row, even for a moment, would be a claim.
            outcome=JobOutcome.SKIPPED if busy else JobOutcome.RUNNING,
            finished_at=timezone.now() if busy else None,
            lease_until=None if busy else at + lease,
        )
    if busy:
        logger.warning("%s skipped: another run is in progress", job, extra={"job": job})
        return None
    return run


def range_failed(
    brand_range: BrandRange, *, at: datetime, trigger: str, error: str
) -> dict[str, Any]:
    """What a range that failed for good reports to the sweep's callback."""
    return {
        "at": at.isoformat(),
        "trigger": trigger,
        "brands": brand_range.as_args(),
        "failed": error[:500],
    }


def _describe(brands: list[int | None]) -> str:
    lo, hi = brands
    return f"[{lo}, {'end' if hi is None else hi})"


def split_finish(*, run_id: int, summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Complete a split run from its ranges' summaries: succeeded when every range was swept
    (here or, for a range skipped, by the worker that held its lock), failed naming the
    ranges that failed otherwise. Safe to call twice: only a ``running`` row changes."""
    total = merge_summaries(summaries)
    failed = [s for s in summaries if "failed" in s]
    total["failed"] = len(failed)
    run = JobRun.objects.get(pk=run_id)
    outcome = JobOutcome.FAILED if failed else JobOutcome.SUCCEEDED
    error = ""
    if failed:
        error = f"{len(failed)} of {len(summaries)} ranges failed: " + "; ".join(
            f"brands {_describe(s['brands'])}: {s['failed']}" for s in failed
        )
    figures = JobFigures(
        checked=total["checked"],
        paused=total["paused"],
        resumed=total["resumed"],
        reason_changed=total["reason_changed"],
        detail={
            "split": True,
            "paused_by_reason": total["by_reason"],
            "ranges": len(summaries),
            "ranges_skipped": total["skipped"],
            "failed_ranges": [s["brands"] for s in failed],
        },
    )
    if not finish_run(run, outcome, figures, error=error, only_running=True):
        logger.warning("%s run %s was already closed; its ranges reported late", run.job, run_id)
        return {**total, "job": run.job, "late": True}
    metrics.job_finished(
        job=run.job, outcome=outcome, seconds=(timezone.now() - run.started_at).total_seconds()
    )
    if failed:
        logger.error("%s: %s", run.job, error, extra={"job": run.job})
    return {**total, "job": run.job, "outcome": outcome.value}
