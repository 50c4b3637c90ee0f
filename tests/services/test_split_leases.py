"""A split sweep's claim is a lease its ranges renew: a claim nobody renewed within a lease
(its worker was lost) is closed by the next sweep, which runs; a sweep whose ranges keep
reporting keeps its claim however long it takes; and a range of a run that lost its claim
moves nothing, so a late range never undoes a newer sweep."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import OperationalError, connections
from django.utils import timezone

from ad_budget_system.celery import app
from ads.models import Campaign, CampaignStatusChange, JobName, JobOutcome, JobRun, JobTrigger
from ads.services import sweep_split
from ads.services.job_runs import split_lease
from ads.services.reconcile import reconcile
from ads.services.sweep_split import brand_ranges, split_claim, split_finish
from ads.tasks import check_budget, check_budget_range, check_budget_split
from tests.services.test_sweep_split import disabled_campaigns

JOB = JobName.CHECK_BUDGET
T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
# Half the budget check's default interval of 15 minutes (under SWEEP_SPLIT_CLAIM_SECONDS).
LEASE = timedelta(seconds=450)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[time_machine.Traveller]:
    """Eager tasks, one brand per range, the default intervals, and a clock that moves
    only when told."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    settings.SWEEP_BRANDS_PER_RANGE = 1
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def claim() -> JobRun:
    run = split_claim(job=JOB, trigger=JobTrigger.BEAT, actor="celery", at=timezone.now())
    assert run is not None
    return run


def run_range(run: JobRun, index: int) -> dict[str, Any]:
    """Range ``index`` of ``run``'s sweep, as its worker would run it now."""
    r = brand_ranges(brands_per_range=1)[index]
    answer: dict[str, Any] = check_budget_range.apply(
        args=(r.lo, r.hi, run.started_at.isoformat(), run.pk)
    ).get()
    return answer


def running(campaigns: list[int]) -> int:
    return Campaign.objects.filter(pk__in=campaigns, status="running").count()


def test_the_lease_is_half_the_interval_and_at_most_the_claim_seconds(settings: Any) -> None:
    assert split_lease(JobName.CHECK_BUDGET) == LEASE
    assert split_lease(JobName.ENFORCE_DAYPARTING) == timedelta(seconds=30)
    settings.SWEEP_SPLIT_CLAIM_SECONDS = 20
    assert split_lease(JobName.CHECK_BUDGET) == timedelta(seconds=20)
    settings.SWEEP_SPLIT_LEASE_SECONDS = 5
    assert split_lease(JobName.CHECK_BUDGET) == timedelta(seconds=5)
    assert split_lease(JobName.ENFORCE_DAYPARTING) == timedelta(seconds=5)


@pytest.mark.django_db
def test_a_claim_whose_lease_ran_out_is_closed_and_the_next_sweep_runs(
    clock: time_machine.Traveller,
) -> None:
    campaigns = disabled_campaigns(brands=2)
    lost = claim()  # its worker is lost before any range reports
    assert lost.lease_until == T0 + LEASE
    clock.shift(LEASE + timedelta(seconds=1))  # well within the old 600 s claim

    answer = check_budget_split.apply().get()

    lost.refresh_from_db()
    assert lost.outcome == JobOutcome.FAILED
    assert lost.error == "abandoned: no range reported within 450s"
    assert lost.finished_at == T0 + LEASE + timedelta(seconds=1)
    assert answer["ranges"] == 2
    newer = JobRun.objects.filter(job=JOB).latest("id")
    assert newer.outcome == JobOutcome.SUCCEEDED and newer.paused == 4
    assert running(campaigns) == 0


@pytest.mark.django_db
def test_a_claim_held_to_the_last_moment_of_its_lease_still_counts(
    clock: time_machine.Traveller,
) -> None:
    disabled_campaigns(brands=1)
    held = claim()
    clock.shift(LEASE)

    assert "skipped" in check_budget_split.apply().get()
    held.refresh_from_db()
    assert held.outcome == JobOutcome.RUNNING


@pytest.mark.django_db
def test_a_claim_whose_ranges_keep_reporting_is_not_closed_however_long_it_takes(
    clock: time_machine.Traveller,
) -> None:
    campaigns = disabled_campaigns(brands=3)
    run = claim()
    summaries = []
    for index in range(2):  # each range starts within a lease of the last report
        clock.shift(LEASE * 0.9)
        summaries.append(run_range(run, index))
    clock.shift(LEASE * 0.9)  # 20 minutes after the start, past the old 600 s claim

    newer = check_budget_split.apply().get()
    plain = check_budget.apply().get()

    assert "skipped" in newer and "skipped" in plain
    run.refresh_from_db()
    assert run.outcome == JobOutcome.RUNNING
    assert run.lease_until == T0 + LEASE * 1.8 + LEASE
    summaries.append(run_range(run, 2))
    split_finish(run_id=run.pk, summaries=summaries)
    run.refresh_from_db()
    assert run.outcome == JobOutcome.SUCCEEDED and run.paused == 6
    assert running(campaigns) == 0


@pytest.mark.django_db
def test_a_one_task_sweep_also_closes_a_lapsed_claim_and_runs(
    clock: time_machine.Traveller,
) -> None:
    campaigns = disabled_campaigns(brands=1)
    lost = claim()
    clock.shift(LEASE + timedelta(seconds=1))

    answer = check_budget.apply().get()

    assert answer["paused"] == 2 and running(campaigns) == 0
    lost.refresh_from_db()
    assert lost.outcome == JobOutcome.FAILED and "abandoned" in lost.error


@pytest.mark.django_db
def test_a_late_range_of_a_closed_run_moves_nothing(clock: time_machine.Traveller) -> None:
    """The range of a lost sweep, redelivered after a newer sweep closed its run (Redis
    hands an unacknowledged task out again after CELERY_VISIBILITY_TIMEOUT)."""
    campaigns = disabled_campaigns(brands=1)
    lost = claim()
    clock.shift(LEASE + timedelta(seconds=1))
    newer = claim()  # closes the lost one

    late = run_range(lost, 0)

    assert late["failed"] == "not swept: the sweep's run was closed or its lease had run out"
    assert running(campaigns) == 2 and not CampaignStatusChange.objects.exists()
    lost.refresh_from_db()
    assert lost.outcome == JobOutcome.FAILED
    newer.refresh_from_db()
    assert newer.outcome == JobOutcome.RUNNING


@pytest.mark.django_db
def test_a_range_of_a_lapsed_claim_does_not_revive_it(clock: time_machine.Traveller) -> None:
    """No sweep has closed the run yet (beat was down): the range still moves nothing, and
    the callback, should it come, records the run as failed."""
    campaigns = disabled_campaigns(brands=1)
    lost = claim()
    clock.shift(LEASE + timedelta(seconds=1))

    late = run_range(lost, 0)
    answer = split_finish(run_id=lost.pk, summaries=[late])

    assert running(campaigns) == 2
    lost.refresh_from_db()
    assert lost.lease_until == T0 + LEASE
    assert answer["outcome"] == JobOutcome.FAILED and lost.outcome == JobOutcome.FAILED
    assert "not swept" in lost.error


@pytest.mark.django_db
def test_a_range_whose_run_is_closed_while_it_runs_rolls_its_moves_back(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaigns = disabled_campaigns(brands=1)
    run = claim()

    def closed_meanwhile(**kwargs: Any) -> Any:
        result = reconcile(**kwargs)
        # As a newer sweep's claim would, once this range's lease had run out.
        JobRun.objects.filter(pk=run.pk).update(outcome=JobOutcome.FAILED)
        return result

    monkeypatch.setattr(sweep_split, "reconcile", closed_meanwhile)

    answer = run_range(run, 0)

    assert "not swept" in answer["failed"]
    assert running(campaigns) == 2 and not CampaignStatusChange.objects.exists()


@pytest.mark.django_db
def test_a_range_slower_than_its_lease_commits_when_no_newer_run_came(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaigns = disabled_campaigns(brands=1)
    run = claim()

    def slow(**kwargs: Any) -> Any:
        clock.shift(LEASE * 2)
        return reconcile(**kwargs)

    monkeypatch.setattr(sweep_split, "reconcile", slow)

    answer = run_range(run, 0)

    assert answer["paused"] == 2 and running(campaigns) == 0
    run.refresh_from_db()
    assert run.outcome == JobOutcome.RUNNING and run.lease_until == T0 + LEASE * 3


@pytest.mark.django_db
def test_a_range_waiting_for_its_retry_keeps_the_claim_for_the_wait(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaigns = disabled_campaigns(brands=1)
    run = claim()
    real = sweep_split.range_sweep
    calls: list[int] = []

    def flaky(**kwargs: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("connection lost")
        return real(**kwargs)

    monkeypatch.setattr("ads.tasks.range_sweep", flaky)

    answer = run_range(run, 0)

    assert len(calls) == 2 and answer["paused"] == 2 and running(campaigns) == 0
    run.refresh_from_db()
    # The first retry waits 2 s; eager, it runs at once, and a lease never shrinks.
    assert run.lease_until == T0 + timedelta(seconds=2) + LEASE


@pytest.mark.django_db
def test_a_claim_from_before_leases_holds_for_the_claim_seconds_from_its_start(
    clock: time_machine.Traveller, settings: Any
) -> None:
    disabled_campaigns(brands=1)
    old = JobRun.objects.create(
        job=JOB, trigger=JobTrigger.BEAT, actor="celery", started_at=T0, detail={"split": True}
    )
    clock.shift(timedelta(seconds=settings.SWEEP_SPLIT_CLAIM_SECONDS))
    assert "skipped" in check_budget_split.apply().get()

    clock.shift(timedelta(seconds=1))
    assert "skipped" not in check_budget_split.apply().get()
    old.refresh_from_db()
    assert old.outcome == JobOutcome.FAILED and "abandoned" in old.error


# --- PostgreSQL: a newer sweep's claim and a range's commit, from two sessions.


@pytest.mark.postgres("a second session closing the run while a range's transaction is open")
@pytest.mark.django_db(transaction=True)
def test_a_newer_claim_during_a_range_rolls_the_ranges_moves_back(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaigns = disabled_campaigns(brands=1)
    run = claim()
    outcome: list[JobRun | None] = []

    def newer_claim() -> None:
        try:
            outcome.append(claim())
        finally:
            connections.close_all()

    def claimed_meanwhile(**kwargs: Any) -> Any:
        result = reconcile(**kwargs)  # moved, under the brand locks, not yet committed
        clock.shift(LEASE + timedelta(seconds=1))
        thread = threading.Thread(target=newer_claim)
        thread.start()
        thread.join(timeout=30)
        return result

    monkeypatch.setattr(sweep_split, "reconcile", claimed_meanwhile)

    answer = run_range(run, 0)

    assert outcome and outcome[0] is not None  # the newer claim did not wait for the range
    assert "not swept" in answer["failed"]
    assert running(campaigns) == 2 and not CampaignStatusChange.objects.exists()
    run.refresh_from_db()
    assert run.outcome == JobOutcome.FAILED and "abandoned" in run.error
