"""Celery tasks: thin wrappers. Each calls the same service as its management command, and
refuses to run inside someone else's transaction (``entry_point``: an eager call from inside
a request's transaction would otherwise turn its commits into savepoints)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from celery import Task, chord, shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.models import JobName, JobOutcome, JobTrigger, Trigger
from ads.notifications.alerts import alerts_deliver
from ads.platforms.outbox import deliveries_push
from ads.platforms.sync import platforms_sync
from ads.services.ingest import spend_ingest
from ads.services.job_runs import (
    JobBusy,
    JobFigures,
    finish_run,
    job_run,
    job_runs_prune,
    prune_figures,
    sweep_recorded,
)
from ads.services.lags import lags_figures, lags_learn
from ads.services.ledger_partitions import partitions_ensure, partitions_figures
from ads.services.sweep_split import (
    BrandRange,
    brand_ranges,
    range_failed,
    range_sweep,
    split_claim,
    split_finish,
    split_lease_renew,
)
from ads.services.sweeps import ResetPeriod, budget_check, dayparting_enforce, spend_reset
from ads.services.underspend import underspend_check, underspend_figures
from ads.services.verify import recent_periods_start, totals_verify

logger = logging.getLogger(__name__)

# The actor written to the audit trail for everything the worker does.
BEAT_ACTOR = "celery"


@shared_task(name="ads.check_budget")
@entry_point
def check_budget() -> dict[str, Any]:
    return sweep_recorded(
        JobName.CHECK_BUDGET,
        lambda at: budget_check(at=at, actor=BEAT_ACTOR),
        trigger=JobTrigger.BEAT,
        actor=BEAT_ACTOR,
    )


@shared_task(name="ads.enforce_dayparting")
@entry_point
def enforce_dayparting() -> dict[str, Any]:
    return sweep_recorded(
        JobName.ENFORCE_DAYPARTING,
        lambda at: dayparting_enforce(at=at, actor=BEAT_ACTOR),
        trigger=JobTrigger.BEAT,
        actor=BEAT_ACTOR,
    )


def _reset(period: ResetPeriod, job: JobName) -> dict[str, Any]:
    return sweep_recorded(
        job,
        lambda at: spend_reset(period=period, at=at, actor=BEAT_ACTOR),
        trigger=JobTrigger.BEAT,
        actor=BEAT_ACTOR,
    )


@shared_task(name="ads.reset_spend_daily")
@entry_point
def reset_spend_daily() -> dict[str, Any]:
    """``manage.py reset_spend --type daily``, on beat."""
    return _reset(ResetPeriod.DAILY, JobName.RESET_SPEND_DAILY)


@shared_task(name="ads.reset_spend_monthly")
@entry_point
def reset_spend_monthly() -> dict[str, Any]:
    """``manage.py reset_spend --type monthly``, on beat."""
    return _reset(ResetPeriod.MONTHLY, JobName.RESET_SPEND_MONTHLY)


@shared_task(name="ads.record_spend")
@entry_point
def record_spend(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Spend from producers that prefer the queue: items as the API takes them (amounts as
    strings). Duplicates are recognised by source + event_id, so redelivery is safe."""
    return spend_ingest(items=events, at=timezone.now(), actor=BEAT_ACTOR).as_dict()


# --- Ad platforms -----------------------------------------------------------------------------


@shared_task(name="ads.push_platform_status")
@entry_point
def push_platform_status(account_id: int | None = None) -> dict[str, Any]:
    """Deliver due status pushes; runs after each commit that queued one, and on beat."""
    return deliveries_push(at=timezone.now(), account_id=account_id).as_dict()


@shared_task(name="ads.sync_platforms")
@entry_point
def sync_platforms(account_id: int | None = None) -> dict[str, Any]:
    return platforms_sync(at=timezone.now(), account_id=account_id).as_dict()


@shared_task(name="ads.verify_totals")
@entry_point
def verify_totals(since: str | None = None) -> dict[str, Any]:
    """The nightly check (no repair; drift is logged at ERROR). ``since`` (YYYY-MM-DD)
    defaults to the start of last month, so its cost does not grow with the ledger's age;
    ``manage.py verify_totals`` without --since checks all of history."""
    at = timezone.now()
    start = date.fromisoformat(since) if since else recent_periods_start(at)
    return totals_verify(at=at, since=start, actor=BEAT_ACTOR).summary()


@shared_task(name="ads.prune_job_runs")
@entry_point
def prune_job_runs() -> dict[str, Any]:
    """Delete job runs older than JOB_HISTORY_DAYS (the same service as the command)."""
    deleted = job_run(
        job=JobName.PRUNE_JOB_RUNS,
        trigger=JobTrigger.BEAT,
        actor=BEAT_ACTOR,
        at=timezone.now(),
        work=lambda at: job_runs_prune(at=at),
        figures=prune_figures,
    )
    return {"deleted": deleted}


@shared_task(name="ads.deliver_alerts", soft_time_limit=100, time_limit=150)
@entry_point
def deliver_alerts() -> dict[str, Any]:
    """Send the alert deliveries that are due (on beat, and nudged after each commit that
    adds some). Safe to run twice: rows are claimed before they are sent."""
    return alerts_deliver(at=timezone.now()).as_dict()


class _Report(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


_R = TypeVar("_R", bound=_Report)


def _beat_job(
    job: JobName, work: Callable[[datetime], _R], figures: Callable[[_R], JobFigures]
) -> dict[str, Any]:
    """One recorded run of ``job`` from beat: its report, or why it was skipped."""
    try:
        report = job_run(
            job=job,
            trigger=JobTrigger.BEAT,
            actor=BEAT_ACTOR,
            at=timezone.now(),
            work=work,
            figures=figures,
        )
    except JobBusy as exc:
        return {"job": job.value, "skipped": str(exc)}
    return report.as_dict()


@shared_task(name="ads.alert_underspend")
@entry_point
def alert_underspend() -> dict[str, Any]:
    """Fire the underspend alerts the brands' months and running flights call for (the
    same service as ``manage.py alert_underspend``). Safe to run twice: each period alerts
    at most once per brand-local day."""
    return _beat_job(
        JobName.ALERT_UNDERSPEND, lambda at: underspend_check(at=at), underspend_figures
    )


@shared_task(name="ads.learn_lags")
@entry_point
def learn_lags() -> dict[str, Any]:
    """Learn each brand's spend sources' reporting lag from the last 7 days of the ledger
    (the same service as ``manage.py learn_lags``). Safe to run twice."""
    return _beat_job(JobName.LEARN_LAGS, lambda at: lags_learn(at=at), lags_figures)


# --- Split sweeps: a sweep as a chord, one task per brand range
# (ads.services.sweep_split) and a callback that completes the sweep's one job run. Beat
# starts these when SWEEP_SPLIT is on (the default), the unsplit tasks above otherwise.

# A range that fails on the database is retried alone, with backoff: 2, 4, 8, 16, 32 s.
RANGE_MAX_RETRIES = 5


def _range(
    task: Task[..., Any],
    trigger: str,
    lo: int,
    hi: int | None,
    at: str,
    run_id: int | None,
) -> dict[str, Any]:
    """One range of split run ``run_id`` (None in messages sent before runs had leases); a
    failure after the last retry, or one a retry cannot mend (not the database's), is
    reported to the callback rather than raised, so the chord completes and the sweep's run
    says which ranges failed."""
    brand_range = BrandRange(lo, hi)
    when = datetime.fromisoformat(at)
    try:
        return range_sweep(
            trigger=trigger, brand_range=brand_range, at=when, actor=BEAT_ACTOR, run_id=run_id
        )
    except DatabaseError as exc:
        if task.request.retries < RANGE_MAX_RETRIES:
            countdown = 2 ** (task.request.retries + 1)
            if run_id is not None:
                _lease_for_retry(run_id, trigger, countdown)
            raise task.retry(exc=exc, countdown=countdown) from exc
        error = f"{type(exc).__name__}: {exc} (after {RANGE_MAX_RETRIES} retries)"
    except Exception as exc:  # a bug fails the same way every time; report it at once
        logger.exception("range %s of the %s sweep failed", brand_range.as_args(), trigger)
        error = f"{type(exc).__name__}: {exc}"
    return range_failed(brand_range, at=when, trigger=trigger, error=error)


def _lease_for_retry(run_id: int, trigger: str, countdown: int) -> None:
    """A range about to wait ``countdown`` seconds for its retry keeps its run's claim that
    much longer, so the wait is not taken for a lost worker. The database has just failed,
    so this may fail too; the retry's own start then renews the lease, or finds it lapsed."""
    wait = timedelta(seconds=countdown)
    try:
        split_lease_renew(run_id=run_id, trigger=trigger, at=timezone.now(), wait=wait)
    except DatabaseError:
        logger.warning(
            "run %s: could not renew its lease before a range's retry",
            run_id,
            extra={"run_id": run_id, "trigger": trigger},
        )


@shared_task(name="ads.check_budget_range", bind=True, max_retries=RANGE_MAX_RETRIES)
@entry_point
def check_budget_range(
    self: Task[..., Any], lo: int, hi: int | None, at: str, run_id: int | None = None
) -> dict[str, Any]:
    return _range(self, Trigger.CHECK_BUDGET, lo, hi, at, run_id)


@shared_task(name="ads.enforce_dayparting_range", bind=True, max_retries=RANGE_MAX_RETRIES)
@entry_point
def enforce_dayparting_range(
    self: Task[..., Any], lo: int, hi: int | None, at: str, run_id: int | None = None
) -> dict[str, Any]:
    return _range(self, Trigger.ENFORCE_DAYPARTING, lo, hi, at, run_id)


@shared_task(
    name="ads.split_sweep_finish",
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=RANGE_MAX_RETRIES,
)
@entry_point
def split_sweep_finish(summaries: list[dict[str, Any]], run_id: int) -> dict[str, Any]:
    """The chord's callback: every range has reported; complete the sweep's job run (safe
    to retry: only a running row is completed)."""
    return split_finish(run_id=run_id, summaries=summaries)


def _fan_out(fan_out: Task[..., Any], job: JobName, task: Any, trigger: str) -> dict[str, Any]:
    at = timezone.now()
    run = split_claim(job=job, trigger=JobTrigger.BEAT, actor=BEAT_ACTOR, at=at)
    if run is None:
        return {"job": job.value, "skipped": f"another {job} run is in progress"}
    # The ranges and the callback go where the sweep itself was routed (beat's default
    # queue, unless an operator routes the sweeps to workers of their own).
    queue = (fan_out.request.delivery_info or {}).get("routing_key")
    options: dict[str, Any] = {"queue": queue} if queue else {}
    try:
        ranges = brand_ranges(brands_per_range=settings.SWEEP_BRANDS_PER_RANGE)
        chord(task.s(r.lo, r.hi, at.isoformat(), run.pk).set(**options) for r in ranges)(
            split_sweep_finish.s(run.pk).set(**options)
        )
    except Exception as exc:  # not dispatched: the run ends here, not when its lease runs out
        finish_run(run, JobOutcome.FAILED, JobFigures(), error=f"{type(exc).__name__}: {exc}")
        raise
    return {"job": job.value, "at": at.isoformat(), "trigger": trigger, "ranges": len(ranges)}


@shared_task(name="ads.check_budget_split", bind=True)
@entry_point
def check_budget_split(self: Task[[], dict[str, Any]]) -> dict[str, Any]:
    return _fan_out(self, JobName.CHECK_BUDGET, check_budget_range, Trigger.CHECK_BUDGET)


@shared_task(name="ads.enforce_dayparting_split", bind=True)
@entry_point
def enforce_dayparting_split(self: Task[[], dict[str, Any]]) -> dict[str, Any]:
    return _fan_out(
        self, JobName.ENFORCE_DAYPARTING, enforce_dayparting_range, Trigger.ENFORCE_DAYPARTING
    )


@shared_task(name="ads.ledger_partitions")
@entry_point
def ledger_partitions() -> dict[str, Any]:
    """Create the ledger's next months' partitions ahead of their inserts (the same service
    as ``manage.py ledger_partitions``); nothing to do on SQLite."""
    result = job_run(
        job=JobName.LEDGER_PARTITIONS,
        trigger=JobTrigger.BEAT,
        actor=BEAT_ACTOR,
        at=timezone.now(),
        work=lambda at: partitions_ensure(at=at),
        figures=partitions_figures,
    )
    return result.as_dict()
