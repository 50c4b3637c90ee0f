"""The job-run history: every run of a periodic job is one row, pruned after N days; the
watchdog reads the last success of each job from it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings

from ads.models import JobName, JobOutcome, JobRun, JobTrigger
from ads.services.job_runs import (
    JobBusy,
    beat_stale_jobs,
    job_run,
    job_runs_prune,
    jobs_freshness,
    sweep_figures,
)
from ads.services.rule import ReconcileResult
from ads.services.sweeps import budget_check
from ads.tasks import (
    check_budget,
    enforce_dayparting,
    prune_job_runs,
    reset_spend_daily,
    reset_spend_monthly,
)
from tests.factories import make_brand, make_campaign, make_schedule

pytestmark = pytest.mark.django_db

NOON = datetime(2030, 6, 10, 12, 0, tzinfo=UTC)


def installed(at: datetime) -> None:
    """Pretend the job history was installed at ``at`` (the watchdog's baseline)."""
    MigrationRecorder.Migration.objects.filter(app="ads", name__endswith="_job_runs").update(
        applied=at
    )


def test_each_beat_task_records_one_run_with_its_figures() -> None:
    closed = make_schedule((0, "01:00", "02:00"))
    make_campaign(make_brand(), schedule=closed)
    make_campaign(make_brand())
    with time_machine.travel(NOON, tick=False):
        enforce_dayparting.apply().get()
        check_budget.apply().get()
        reset_spend_daily.apply().get()
        reset_spend_monthly.apply().get()

    runs = {run.job: run for run in JobRun.objects.all()}
    assert set(runs) == {
        JobName.ENFORCE_DAYPARTING,
        JobName.CHECK_BUDGET,
        JobName.RESET_SPEND_DAILY,
        JobName.RESET_SPEND_MONTHLY,
    }
    dayparting = runs[JobName.ENFORCE_DAYPARTING]
    assert (dayparting.trigger, dayparting.actor, dayparting.outcome) == (
        JobTrigger.BEAT,
        "celery",
        JobOutcome.SUCCEEDED,
    )
    assert (dayparting.checked, dayparting.paused, dayparting.resumed) == (2, 1, 0)
    assert dayparting.detail == {"paused_by_reason": {"outside_schedule": 1}}
    assert dayparting.started_at == NOON and dayparting.finished_at == NOON
    assert runs[JobName.CHECK_BUDGET].paused == 0 and runs[JobName.CHECK_BUDGET].error == ""


def test_a_command_records_its_run_and_a_dry_run_records_nothing() -> None:
    make_campaign(make_brand())
    with time_machine.travel(NOON, tick=False):
        call_command("check_budget", "--dry-run", stdout=StringIO())
        assert JobRun.objects.count() == 0
        call_command("reset_spend", "--type", "monthly", stdout=StringIO())

    run = JobRun.objects.get()
    assert (run.job, run.trigger, run.actor) == (
        JobName.RESET_SPEND_MONTHLY,
        JobTrigger.COMMAND,
        "manage.py reset_spend",
    )
    assert run.outcome == JobOutcome.SUCCEEDED and run.checked == 1


def test_a_failing_run_is_recorded_with_its_error_and_the_error_still_raised() -> None:
    def explode(at: datetime) -> ReconcileResult:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        job_run(
            job=JobName.CHECK_BUDGET,
            trigger=JobTrigger.API,
            actor="test",
            at=NOON,
            work=explode,
            figures=sweep_figures,
        )

    run = JobRun.objects.get()
    assert run.outcome == JobOutcome.FAILED
    assert run.error == "RuntimeError: database went away"
    assert run.finished_at is not None


def test_prune_deletes_only_runs_older_than_the_history_and_is_safe_twice() -> None:
    for age_days in (31, 30, 29, 1):
        JobRun.objects.create(
            job=JobName.CHECK_BUDGET,
            trigger=JobTrigger.BEAT,
            actor="celery",
            started_at=NOON - timedelta(days=age_days, seconds=1),
        )

    assert job_runs_prune(at=NOON, days=30) == 2
    assert job_runs_prune(at=NOON, days=30) == 0
    assert sorted((NOON - run.started_at).days for run in JobRun.objects.all()) == [1, 29]


@override_settings(JOB_HISTORY_DAYS=2)
def test_prune_task_and_command_use_job_history_days_and_record_themselves() -> None:
    JobRun.objects.create(
        job=JobName.CHECK_BUDGET,
        trigger=JobTrigger.BEAT,
        actor="celery",
        started_at=NOON - timedelta(days=3),
    )
    with time_machine.travel(NOON, tick=False):
        assert prune_job_runs.apply().get() == {"deleted": 1}
        out = StringIO()
        call_command("prune_job_runs", stdout=out)

    assert "0 runs older than 2 days deleted" in out.getvalue()
    prunes = JobRun.objects.filter(job=JobName.PRUNE_JOB_RUNS).order_by("id")
    assert [p.trigger for p in prunes] == [JobTrigger.BEAT, JobTrigger.COMMAND]
    assert [p.detail for p in prunes] == [{"deleted": 1}, {"deleted": 0}]


@override_settings(BUDGET_CHECK_INTERVAL_MINUTES=5)
def test_the_budget_check_goes_stale_after_three_intervals_without_success() -> None:
    installed(NOON - timedelta(days=1))
    with time_machine.travel(NOON, tick=False):
        check_budget.apply().get()

    assert beat_stale_jobs(at=NOON + timedelta(minutes=15)) == []
    (stale,) = beat_stale_jobs(at=NOON + timedelta(minutes=15, seconds=1))
    assert stale.job == JobName.CHECK_BUDGET and stale.last_success == NOON
    # A failed run does not count as a success.
    JobRun.objects.create(
        job=JobName.CHECK_BUDGET,
        trigger=JobTrigger.BEAT,
        actor="celery",
        outcome=JobOutcome.FAILED,
        started_at=NOON + timedelta(minutes=14),
        finished_at=NOON + timedelta(minutes=14),
    )
    assert len(beat_stale_jobs(at=NOON + timedelta(minutes=16))) == 1


@override_settings(BUDGET_CHECK_INTERVAL_MINUTES=5)
def test_a_fresh_installation_is_not_stale_until_beat_had_three_intervals() -> None:
    installed(NOON)

    assert beat_stale_jobs(at=NOON + timedelta(minutes=14)) == []
    (stale,) = beat_stale_jobs(at=NOON + timedelta(minutes=16))
    assert stale.last_success is None
    assert "never succeeded" in stale.describe(NOON + timedelta(minutes=16))


def test_freshness_covers_every_job() -> None:
    installed(NOON)
    jobs = {f.job: f for f in jobs_freshness(at=NOON + timedelta(days=4))}

    assert set(jobs) == set(JobName.values)
    assert jobs[JobName.RESET_SPEND_DAILY].stale is True
    assert jobs[JobName.RESET_SPEND_MONTHLY].stale is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_sweep_of_a_kind_at_a_time() -> None:
    make_campaign(make_brand())
    inside = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def slow(at: datetime) -> ReconcileResult:
        inside.set()
        release.wait(10)
        return budget_check(at=at)

    def first() -> None:
        try:
            job_run(
                job=JobName.CHECK_BUDGET,
                trigger=JobTrigger.BEAT,
                actor="first",
                at=NOON,
                work=slow,
                figures=sweep_figures,
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(10)
    try:
        with pytest.raises(JobBusy):
            job_run(
                job=JobName.CHECK_BUDGET,
                trigger=JobTrigger.COMMAND,
                actor="second",
                at=NOON,
                work=budget_check_at,
                figures=sweep_figures,
            )
        with pytest.raises(CommandError, match="another check_budget run is in progress"):
            call_command("check_budget", stdout=StringIO())
        # Another kind of sweep is not held up.
        assert "skipped" not in enforce_dayparting.apply().get()
    finally:
        release.set()
        thread.join(10)

    assert errors == []
    outcomes = dict(JobRun.objects.filter(job=JobName.CHECK_BUDGET).values_list("actor", "outcome"))
    assert outcomes == {
        "first": JobOutcome.SUCCEEDED,
        "second": JobOutcome.SKIPPED,
        "manage.py check_budget": JobOutcome.SKIPPED,
    }
    # The lock is released: the next run goes ahead.
    assert "skipped" not in check_budget.apply().get()


def budget_check_at(at: datetime) -> ReconcileResult:
    return budget_check(at=at)
