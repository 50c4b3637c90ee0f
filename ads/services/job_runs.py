"""The job-run history and the beat watchdog.

Every run of a periodic job, from beat or by hand, is one ``JobRun`` row: written when the
run starts, completed when it ends. The watchdog reads the last success of each job from
there: a job whose last success is older than three of its intervals is *stale*, which
means beat (or every worker) has stopped, and ``/status``, ``/metrics``, the admin and
``doctor`` say so.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from ads.core import metrics
from ads.core.locks import session_lock
from ads.models import JobName, JobOutcome, JobRun, JobTrigger
from ads.services.rule import ReconcileResult

logger = logging.getLogger(__name__)

# A job is stale once its last success is older than this many of its intervals: one
# missed run is a slow worker, three is a stopped beat.
STALE_AFTER_INTERVALS = 3
# The jobs whose staleness turns /status red and shows the admin banner. The budget check
# is the safety net for every pause, so its silence is the one that costs money.
WATCHED_JOBS: tuple[str, ...] = (JobName.CHECK_BUDGET,)

_T = TypeVar("_T")


@dataclass(frozen=True)
class JobFigures:
    """What a run reports into its row."""

    checked: int | None = None
    paused: int = 0
    resumed: int = 0
    reason_changed: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def sweep_figures(result: ReconcileResult) -> JobFigures:
    return JobFigures(
        checked=result.checked,
        paused=result.count("paused"),
        resumed=result.count("resumed"),
        reason_changed=result.count("reason_changed"),
        detail={"paused_by_reason": result.paused_by_reason()},
    )


class JobBusy(Exception):
    """Another run of the same job holds its lock; this one was recorded as skipped."""


def job_lock_key(job: str) -> int:
    """The advisory lock key of ``job``: held by an unsplit run for its whole run, and by a
    split run's claim while it checks that nothing else is running (``sweep_split``)."""
    return zlib.crc32(f"ads.job:{job}".encode())


def split_lease(job: str) -> timedelta:
    """How long a split run of ``job`` holds its claim without news from its ranges:
    SWEEP_SPLIT_LEASE_SECONDS, else half the job's interval, at most
    SWEEP_SPLIT_CLAIM_SECONDS. Shorter than the interval, so a sweep lost with its worker
    keeps at most the next sweep from starting."""
    seconds = settings.SWEEP_SPLIT_LEASE_SECONDS
    lease = job_interval(job) / 2 if seconds is None else timedelta(seconds=seconds)
    return min(lease, timedelta(seconds=settings.SWEEP_SPLIT_CLAIM_SECONDS))


def split_claims(job: str, *, at: datetime, lapsed: bool = False) -> QuerySet[JobRun]:
    """The split runs of ``job`` still counted as in progress at ``at`` (their lease has not
    run out): their ranges hold no lock for the whole sweep, their ``running`` row is the
    claim (``sweep_split``). With ``lapsed``, the running ones whose lease has run out."""
    # A row written before claims had leases counts from its start, as it did then.
    since = at - timedelta(seconds=settings.SWEEP_SPLIT_CLAIM_SECONDS)
    held = Q(lease_until__gte=at) | Q(lease_until__isnull=True, started_at__gte=since)
    gone = Q(lease_until__lt=at) | Q(lease_until__isnull=True, started_at__lt=since)
    running = JobRun.objects.filter(job=job, outcome=JobOutcome.RUNNING, detail__split=True)
    return running.filter(gone if lapsed else held)


def split_claims_close_lapsed(job: str, *, at: datetime) -> int:
    """Record the split runs of ``job`` whose lease ran out at ``at`` as failed, and return
    how many: no range reported within a lease, so their worker is gone. Every run of the
    job does this before it starts, so a range of such a run that commits later finds it
    closed and moves nothing. Safe to run twice."""
    lease = int(split_lease(job).total_seconds())
    return split_claims(job, at=at, lapsed=True).update(
        outcome=JobOutcome.FAILED,
        finished_at=timezone.now(),
        error=f"abandoned: no range reported within {lease}s",
    )


@contextmanager
def _single_run(job: str) -> Iterator[bool]:
    """Whether this process may run ``job`` now: one sweep of a kind at a time.

    A session-level advisory lock on PostgreSQL, released when the run ends or, if the
    process dies, when its connection closes, so a killed worker never blocks the next run.
    (Two sweeps at once would still be correct, as both take the brand locks; the second
    would only repeat the first's reads.) SQLite admits one writer at a time already.
    """
    with session_lock(job_lock_key(job)) as acquired:
        yield acquired


def job_run(
    *,
    job: JobName,
    trigger: JobTrigger,
    actor: str,
    at: datetime,
    work: Callable[[datetime], _T],
    figures: Callable[[_T], JobFigures],
) -> _T:
    """Run ``work(at)`` as one recorded run of ``job``, and return what it returned.

    The row is committed before the work starts and completed after it, so a crash leaves a
    ``running`` row and an error a ``failed`` one (the error is re-raised). Raises
    ``JobBusy`` when another run of the job is in progress. Safe to run twice: each run is
    its own row, and the work itself is idempotent.
    """
    with _single_run(job) as acquired:
        run = JobRun.objects.create(job=job, trigger=trigger, actor=actor, started_at=at)
        if acquired:
            split_claims_close_lapsed(job, at=at)
        if not acquired or split_claims(job, at=at).exists():
            finish_run(run, JobOutcome.SKIPPED, JobFigures())
            logger.warning("%s skipped: another run is in progress", job, extra={"job": job})
            raise JobBusy(f"another {job} run is in progress")
        began = time.monotonic()
        try:
            value = work(at)
        except Exception as exc:
            finish_run(run, JobOutcome.FAILED, JobFigures(), error=f"{type(exc).__name__}: {exc}")
            metrics.job_finished(
                job=job, outcome=JobOutcome.FAILED, seconds=time.monotonic() - began
            )
            raise
        finish_run(run, JobOutcome.SUCCEEDED, figures(value))
        metrics.job_finished(
            job=job, outcome=JobOutcome.SUCCEEDED, seconds=time.monotonic() - began
        )
        return value


def finish_run(
    run: JobRun,
    outcome: JobOutcome,
    result: JobFigures,
    error: str = "",
    *,
    only_running: bool = False,
) -> bool:
    """Complete ``run``'s row; with ``only_running``, only if nothing completed it first.
    Whether the row changed."""
    rows = JobRun.objects.filter(pk=run.pk)
    if only_running:
        rows = rows.filter(outcome=JobOutcome.RUNNING)
    changed = rows.update(
        outcome=outcome,
        finished_at=timezone.now(),
        checked=result.checked,
        paused=result.paused,
        resumed=result.resumed,
        reason_changed=result.reason_changed,
        detail=result.detail,
        error=error[:2000],
    )
    return changed > 0


def job_runs_prune(*, at: datetime, days: int | None = None) -> int:
    """Delete runs that started more than ``days`` (JOB_HISTORY_DAYS) before ``at``; return
    how many. Safe to run twice: the second run finds nothing older."""
    keep = days if days is not None else settings.JOB_HISTORY_DAYS
    deleted, _ = JobRun.objects.filter(started_at__lt=at - timedelta(days=keep)).delete()
    return deleted


def prune_figures(deleted: int) -> JobFigures:
    return JobFigures(detail={"deleted": deleted})


def job_interval(job: str) -> timedelta:
    """How often beat is meant to run ``job``. The resets and the prune run on crons; their
    nominal period is what matters for staleness."""
    minutes = {
        JobName.CHECK_BUDGET: settings.BUDGET_CHECK_INTERVAL_MINUTES,
        JobName.ENFORCE_DAYPARTING: settings.DAYPARTING_CHECK_INTERVAL_MINUTES,
        JobName.RESET_SPEND_DAILY: 24 * 60,
        JobName.RESET_SPEND_MONTHLY: 31 * 24 * 60,
        JobName.PRUNE_JOB_RUNS: 24 * 60,
        JobName.LEDGER_PARTITIONS: 24 * 60,
        JobName.ALERT_UNDERSPEND: settings.ALERT_UNDERSPEND_INTERVAL_MINUTES,
        JobName.LEARN_LAGS: settings.LAG_LEARN_INTERVAL_MINUTES,
    }[JobName(job)]
    return timedelta(minutes=minutes)


@dataclass(frozen=True)
class Freshness:
    job: str
    interval: timedelta
    last_success: datetime | None
    # Since when silence counts: the last success, else when the history table was installed
    # (a fresh deployment is not stale before beat had three intervals to run the job).
    since: datetime | None
    stale: bool

    def describe(self, at: datetime) -> str:
        limit = int((self.interval * STALE_AFTER_INTERVALS).total_seconds())
        if self.last_success is None:
            return f"never succeeded (stale {limit}s after installation)"
        age = int((at - self.last_success).total_seconds())
        return f"last success {age}s ago (stale after {limit}s)"


def _installed_at() -> datetime | None:
    applied = (
        MigrationRecorder.Migration.objects.filter(app="ads", name__endswith="_job_runs")
        .values_list("applied", flat=True)
        .first()
    )
    return applied


def jobs_freshness(*, at: datetime, jobs: tuple[str, ...] | None = None) -> list[Freshness]:
    """Each job's last success and whether it is stale at ``at`` (two queries)."""
    names = jobs if jobs is not None else tuple(JobName.values)
    last = dict(
        JobRun.objects.filter(job__in=names, outcome=JobOutcome.SUCCEEDED)
        .values_list("job")
        .annotate(last=Max("finished_at"))
        .values_list("job", "last")
    )
    installed = _installed_at()
    result = []
    for name in names:
        interval = job_interval(name)
        success = last.get(name)
        since = success or installed
        stale = since is not None and at - since > interval * STALE_AFTER_INTERVALS
        result.append(
            Freshness(job=name, interval=interval, last_success=success, since=since, stale=stale)
        )
    return result


def beat_stale_jobs(*, at: datetime) -> list[Freshness]:
    """The watched jobs that are stale at ``at``: empty when beat is healthy."""
    return [f for f in jobs_freshness(at=at, jobs=WATCHED_JOBS) if f.stale]


def sweep_recorded(
    job: JobName,
    work: Callable[[datetime], ReconcileResult],
    *,
    trigger: JobTrigger,
    actor: str,
) -> dict[str, Any]:
    """One recorded sweep as the Celery tasks report it: the summary, or ``skipped`` when
    another run of the job was in progress. Safe to run twice."""
    try:
        result = job_run(
            job=job,
            trigger=trigger,
            actor=actor,
            at=timezone.now(),
            work=work,
            figures=sweep_figures,
        )
    except JobBusy as exc:
        return {"job": job.value, "skipped": str(exc)}
    return result.summary()
