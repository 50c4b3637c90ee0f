"""A split sweep is one job run: the chord's callback records it with the merged figures,
a failing range is retried alone and a range that fails for good fails the run, a second
sweep while one is in progress is skipped, and the watchdog reads split runs."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import OperationalError, connection, connections
from django.utils import timezone

from ad_budget_system.celery import app
from ads.models import (
    Campaign,
    CampaignStatusChange,
    JobName,
    JobOutcome,
    JobRun,
    JobTrigger,
    PauseReason,
)
from ads.services import sweep_split
from ads.services.job_runs import beat_stale_jobs, job_interval, job_lock_key, jobs_freshness
from ads.services.reconcile import reconcile
from ads.services.sweep_split import brand_ranges, split_claim, split_finish
from ads.tasks import RANGE_MAX_RETRIES, check_budget, check_budget_range, check_budget_split
from tests.factories import make_brand, make_campaign, spend, state
from tests.services.test_sweep_split import NOON, disabled_campaigns

JOB = JobName.CHECK_BUDGET


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """Tasks, chords and retries run in this process; three brands per range."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    settings.SWEEP_BRANDS_PER_RANGE = 3


def runs() -> list[JobRun]:
    return list(JobRun.objects.filter(job=JOB).order_by("id"))


def flaky_ranges(
    monkeypatch: pytest.MonkeyPatch, failing: int, error: Exception, times: int
) -> list[int]:
    """Make the range starting at brand ``failing`` raise ``error`` its first ``times``
    calls; returns the first brand id of every range call, in order."""
    calls: list[int] = []
    real = sweep_split.range_sweep

    def flaky(**kwargs: Any) -> dict[str, Any]:
        lo = kwargs["brand_range"].lo
        calls.append(lo)
        if lo == failing and calls.count(lo) <= times:
            raise error
        return real(**kwargs)

    monkeypatch.setattr("ads.tasks.range_sweep", flaky)
    return calls


@pytest.mark.django_db
def test_a_split_sweep_records_one_job_run_with_the_merged_figures(eager: None) -> None:
    campaigns = disabled_campaigns(brands=7)

    answer = check_budget_split.apply().get()
    again = check_budget_split.apply().get()

    assert answer["ranges"] == 3 and again["ranges"] == 3
    first, second = runs()
    assert first.outcome == JobOutcome.SUCCEEDED and first.trigger == JobTrigger.BEAT
    assert first.finished_at is not None and first.finished_at >= first.started_at
    assert (first.checked, first.paused, first.resumed) == (14, 14, 0)
    assert first.detail == {
        "split": True,
        "paused_by_reason": {PauseReason.MANUAL: 14},
        "ranges": 3,
        "ranges_skipped": 0,
        "failed_ranges": [],
    }
    # Safe to re-run: the second sweep is its own run and finds nothing to move.
    assert second.outcome == JobOutcome.SUCCEEDED and second.paused == 0
    assert CampaignStatusChange.objects.filter(campaign__in=campaigns).count() == 14


@pytest.mark.django_db
def test_a_failing_range_is_retried_alone_and_the_sweep_succeeds(
    eager: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    disabled_campaigns(brands=7)
    ranges = brand_ranges(brands_per_range=3)
    calls = flaky_ranges(monkeypatch, ranges[1].lo, OperationalError("connection lost"), 2)

    check_budget_split.apply().get()

    # The failing range ran three times (two failures, then success), the others once.
    assert sorted(calls) == sorted([ranges[0].lo, ranges[2].lo] + [ranges[1].lo] * 3)
    (run,) = runs()
    assert run.outcome == JobOutcome.SUCCEEDED and run.paused == 14
    assert not Campaign.objects.filter(status="running").exists()


@pytest.mark.django_db
def test_a_range_failing_for_good_fails_the_run_and_names_the_range(
    eager: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaigns = disabled_campaigns(brands=7)
    ranges = brand_ranges(brands_per_range=3)
    bad = ranges[1]
    calls = flaky_ranges(monkeypatch, bad.lo, OperationalError("disk full"), 99)

    answer = check_budget_split.apply().get()

    assert calls.count(bad.lo) == RANGE_MAX_RETRIES + 1
    assert answer["ranges"] == 3
    (run,) = runs()
    assert run.outcome == JobOutcome.FAILED
    assert run.detail["failed_ranges"] == [[bad.lo, bad.hi]]
    assert "1 of 3 ranges failed" in run.error and "disk full" in run.error
    # The other ranges did their work (3 + 1 brands of 2 campaigns); the failed one's 3 wait.
    assert run.paused == 8
    assert Campaign.objects.filter(pk__in=campaigns, status="running").count() == 6
    # A failed sweep is no success: the watchdog does not count it.
    assert jobs_freshness(at=timezone.now(), jobs=(JOB,))[0].last_success is None


@pytest.mark.django_db
def test_a_range_failing_on_a_bug_is_reported_at_once_not_retried(
    eager: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    disabled_campaigns(brands=4)
    ranges = brand_ranges(brands_per_range=3)
    calls = flaky_ranges(monkeypatch, ranges[0].lo, ValueError("a bug"), 99)

    check_budget_split.apply().get()

    assert calls.count(ranges[0].lo) == 1
    (run,) = runs()
    assert run.outcome == JobOutcome.FAILED and "ValueError: a bug" in run.error


@pytest.mark.django_db
def test_a_sweep_while_a_split_run_is_in_progress_is_skipped(eager: None) -> None:
    campaigns = disabled_campaigns(brands=2)
    claim = split_claim(job=JOB, trigger=JobTrigger.BEAT, actor="celery", at=timezone.now())
    assert claim is not None

    split = check_budget_split.apply().get()
    plain = check_budget.apply().get()

    assert "skipped" in split and "skipped" in plain
    assert [run.outcome for run in runs()] == [
        JobOutcome.RUNNING,
        JobOutcome.SKIPPED,
        JobOutcome.SKIPPED,
    ]
    assert Campaign.objects.filter(pk__in=campaigns, status="running").count() == 4


@pytest.mark.django_db
def test_a_claim_whose_ranges_never_reported_stops_counting_after_the_timeout(
    eager: None, settings: Any
) -> None:
    disabled_campaigns(brands=2)
    long_ago = timezone.now() - timedelta(seconds=settings.SWEEP_SPLIT_CLAIM_SECONDS + 1)
    lost = split_claim(job=JOB, trigger=JobTrigger.BEAT, actor="celery", at=long_ago)
    assert lost is not None

    check_budget_split.apply().get()

    lost.refresh_from_db()
    assert lost.outcome == JobOutcome.FAILED and "abandoned" in lost.error
    assert runs()[-1].outcome == JobOutcome.SUCCEEDED and runs()[-1].paused == 4


@pytest.mark.django_db
def test_a_late_callback_changes_nothing() -> None:
    run = split_claim(job=JOB, trigger=JobTrigger.BEAT, actor="celery", at=timezone.now())
    assert run is not None
    summary = {"checked": 3, "paused": 1, "resumed": 0, "reason_changed": 0, "by_reason": {}}

    first = split_finish(run_id=run.pk, summaries=[{**summary, "brands": [0, None]}])
    second = split_finish(run_id=run.pk, summaries=[])

    run.refresh_from_db()
    assert first["outcome"] == JobOutcome.SUCCEEDED and second["late"] is True
    assert (run.outcome, run.checked, run.paused) == (JobOutcome.SUCCEEDED, 3, 1)


@pytest.mark.django_db
def test_the_watchdog_reads_split_runs(eager: None) -> None:
    disabled_campaigns(brands=1)
    check_budget_split.apply().get()
    (run,) = runs()
    assert run.finished_at is not None
    limit = job_interval(JOB) * 3

    assert jobs_freshness(at=run.finished_at, jobs=(JOB,))[0].last_success == run.finished_at
    assert beat_stale_jobs(at=run.finished_at + limit - timedelta(seconds=1)) == []
    assert [f.job for f in beat_stale_jobs(at=run.finished_at + limit + timedelta(seconds=1))] == [
        JOB
    ]


@pytest.mark.django_db(transaction=True)
def test_a_split_sweep_through_the_configured_broker_records_its_run(settings: Any) -> None:
    """The chord on the real broker and result backend (the file system ones of `make run`
    in the SQLite pass, Redis in the PostgreSQL pass), with a worker of its own."""
    campaigns = disabled_campaigns(brands=5)
    settings.SWEEP_BRANDS_PER_RANGE = 2
    queue = f"test-{uuid.uuid4().hex}"
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30
    ):
        answer = check_budget_split.apply_async(queue=queue).get(timeout=30)
        # The callback runs after the last range, in the worker: wait for the run's end.
        for _ in range(600):
            if not JobRun.objects.filter(job=JOB, outcome=JobOutcome.RUNNING).exists():
                break
            threading.Event().wait(0.1)

    assert answer["ranges"] == 3
    (run,) = runs()
    assert run.outcome == JobOutcome.SUCCEEDED and run.paused == len(campaigns)


# --- PostgreSQL: the job lock is shared with the unsplit sweep, workers run ranges at once.


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_unsplit_sweep_in_progress_keeps_a_split_sweep_from_starting() -> None:
    holding, release = threading.Event(), threading.Event()

    def unsplit_run() -> None:
        """Holds the job's session lock, as ``job_run`` does for a one-task sweep."""
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [job_lock_key(JOB)])
                holding.set()
                release.wait(timeout=30)
                # Unlocked here, not by closing: a closed connection's server process may
                # release it a moment after this thread has ended.
                cursor.execute("SELECT pg_advisory_unlock(%s)", [job_lock_key(JOB)])
        finally:
            connections.close_all()

    thread = threading.Thread(target=unsplit_run)
    thread.start()
    assert holding.wait(timeout=30)
    try:
        claim = split_claim(job=JOB, trigger=JobTrigger.BEAT, actor="celery", at=timezone.now())
    finally:
        release.set()
        thread.join(timeout=30)
    after = split_claim(job=JOB, trigger=JobTrigger.BEAT, actor="celery", at=timezone.now())

    assert claim is None and after is not None
    assert [run.outcome for run in runs()] == [JobOutcome.SKIPPED, JobOutcome.RUNNING]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_run_ranges_of_one_sweep_at_once(
    eager: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads, each with its own connection, as two worker machines: both are inside
    their range's transaction at the same moment (the barrier would break otherwise), and
    the sweep's run has both ranges' figures."""
    campaigns = disabled_campaigns(brands=6, per_brand=3)
    ranges = brand_ranges(brands_per_range=3)
    assert len(ranges) == 2
    inside = threading.Barrier(2, timeout=30)
    real = reconcile

    def both_inside(**kwargs: Any) -> Any:
        inside.wait()  # this range holds its lock and its transaction is open
        return real(**kwargs)

    monkeypatch.setattr("ads.services.sweep_split.reconcile", both_inside)
    run = split_claim(job=JOB, trigger=JobTrigger.BEAT, actor="celery", at=timezone.now())
    assert run is not None
    summaries: list[dict[str, Any]] = []

    def worker(index: int) -> None:
        try:
            r = ranges[index]
            at = run.started_at.isoformat()
            summaries.append(check_budget_range.apply(args=(r.lo, r.hi, at)).get())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    split_finish(run_id=run.pk, summaries=summaries)

    run.refresh_from_db()
    assert sorted(s["paused"] for s in summaries) == [9, 9]
    assert run.outcome == JobOutcome.SUCCEEDED and run.paused == 18
    assert CampaignStatusChange.objects.filter(campaign__in=campaigns).count() == 18


# --- A range reads only its own brands' totals, and all of them.


@pytest.mark.django_db
def test_each_range_judges_its_brands_on_their_own_totals(eager: None) -> None:
    """Brands over their daily budget in the first, a middle and the open last range: each
    range joins only its brands' totals, and every one of those brands is paused."""
    brands = [make_brand(daily="50", monthly="1000") for _ in range(7)]
    campaigns = [make_campaign(brand) for brand in brands]
    over = [brands[0], brands[4], brands[6]]
    for brand in over:
        spend(next(c for c in campaigns if c.brand_id == brand.pk), "60", at=NOON)
    # Stored as running, as if the spend had come in without enforcement.
    Campaign.objects.update(status="running", pause_reason=None)
    ranges = brand_ranges(brands_per_range=3)
    assert len(ranges) == 3

    summaries = [
        sweep_split.range_sweep(trigger="check_budget", brand_range=r, at=NOON) for r in ranges
    ]

    assert [s["paused"] for s in summaries] == [1, 1, 1]
    for campaign in campaigns:
        expected = (
            ("paused", PauseReason.BRAND_DAILY_BUDGET)
            if campaign.brand_id in {b.pk for b in over}
            else ("running", None)
        )
        assert state(campaign) == expected
