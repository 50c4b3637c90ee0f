"""A worker killed with ``kill -9`` in the middle of a split sweep, with real processes: a
Redis of the test's own, a worker subprocess on the test's database, a range stuck inside
its transaction on a brand row the test holds. The next sweep after the lost one's lease
ran out, well within one interval of the kill, runs and does the work; the lost sweep is
recorded as failed, and its ranges, as the next worker takes them, move nothing."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
import redis
from django.db import connection
from django.utils import timezone

from ad_budget_system.celery import app
from ads.models import Campaign, CampaignStatusChange, JobName, JobOutcome, JobRun, PauseReason
from tests.services.test_sweep_split import disabled_campaigns

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
JOB = JobName.ENFORCE_DAYPARTING
INTERVAL = timedelta(minutes=1)  # DAYPARTING_CHECK_INTERVAL_MINUTES, the default
LEASE_SECONDS = 2  # SWEEP_SPLIT_LEASE_SECONDS: seconds, so the test waits seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def own_redis() -> Iterator[str]:
    """A Redis server of this test's own, so killing its worker touches nothing shared."""
    server = shutil.which("redis-server")
    assert server, "redis-server is needed for this test"
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_for("redis-server", answers, timeout=20)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(timeout=30)


@pytest.fixture
def start_worker(own_redis: str, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Start Celery workers in process groups of their own, on this test's database and
    Redis, with production's prefork pool; every one still alive is killed at the end."""
    settings = connection.settings_dict
    password = f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
    database = (
        f"postgres://{quote(settings['USER'])}{password}@{settings['HOST'] or '127.0.0.1'}"
        f":{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ad_budget_system.settings",
        "DJANGO_DEBUG": "True",
        "DATABASE_URL": database,
        "CELERY_BROKER_URL": own_redis,
        "CELERY_RESULT_BACKEND": own_redis,
        "DAYPARTING_CHECK_INTERVAL_MINUTES": str(int(INTERVAL.total_seconds() // 60)),
        "SWEEP_SPLIT_LEASE_SECONDS": str(LEASE_SECONDS),
        "SWEEP_BRANDS_PER_RANGE": "1",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        log = tmp_path / f"worker-{len(started)}.log"
        name = f"lost-{uuid.uuid4().hex[:8]}@localhost"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(CELERY), "-A", "ad_budget_system", "worker", "--pool=prefork"]
                + ["--concurrency=1", "--loglevel=INFO", "--without-mingle", "--without-gossip"]
                + ["-n", name],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        wait_for(f"worker {name} ({log})", lambda: " ready." in log.read_text(errors="replace"))
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=30)


def send_sweep(broker: str) -> None:
    """What beat does every interval, sent to this test's Redis."""
    with app.connection_for_write(broker) as conn:
        app.send_task("ads.enforce_dayparting_split", connection=conn, ignore_result=True)


def backends_waiting_on(blocker: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [blocker]
        )
        return [row[0] for row in cursor.fetchall()]


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


@pytest.mark.postgres("a worker killed while its range waits on a brand row the test holds")
@pytest.mark.django_db(transaction=True)
def test_a_sweep_after_a_killed_worker_runs_within_one_interval_and_does_the_work(
    own_redis: str, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    campaigns = disabled_campaigns(brands=2)  # one brand per range: two ranges
    first_brand = Campaign.objects.get(pk=campaigns[0]).brand_id
    settings = connection.settings_dict
    holder = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    )
    try:
        # The first range will wait on this row inside its transaction, as a range stuck
        # on a slow statement would.
        holder.execute("SELECT id FROM ads_brand WHERE id = %s FOR UPDATE", [first_brand])
        worker = start_worker()
        send_sweep(own_redis)
        (stuck,) = wait_for(
            "the first range to wait on the brand row",
            lambda: backends_waiting_on(holder.info.backend_pid),
        )
        lost = JobRun.objects.get(job=JOB)
        assert lost.outcome == JobOutcome.RUNNING and lost.lease_until is not None

        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool, all at once
        worker.wait(timeout=30)
        killed = time.monotonic()
        holder.rollback()
    finally:
        holder.close()
    # PostgreSQL rolls the range back once its statement ends and it finds the client gone.
    wait_for("the killed range's backend to end", lambda: not backend_alive(stuck), timeout=30)
    lost.refresh_from_db()
    assert lost.outcome == JobOutcome.RUNNING  # nothing noticed yet
    assert lost.lease_until is not None
    assert Campaign.objects.filter(pk__in=campaigns, status="running").count() == 4

    # Beat's next sweep comes once the lease ran out (within an interval of the last
    # report), and a supervisor has started a worker again.
    wait_for(
        "the lost sweep's lease to run out",
        lambda: JobRun.objects.filter(pk=lost.pk, lease_until__lt=timezone.now()).exists(),
    )
    start_worker()
    send_sweep(own_redis)
    sent = time.monotonic()
    newer = wait_for(
        "the next sweep to finish",
        lambda: JobRun.objects.filter(job=JOB, pk__gt=lost.pk)
        .exclude(outcome=JobOutcome.RUNNING)
        .first(),
    )

    assert sent - killed < INTERVAL.total_seconds()
    assert newer.outcome == JobOutcome.SUCCEEDED, newer.error
    assert (newer.paused, newer.detail["ranges"], newer.detail["ranges_skipped"]) == (4, 2, 0)
    assert JobRun.objects.filter(job=JOB).count() == 2  # no sweep was skipped
    lost.refresh_from_db()
    assert lost.outcome == JobOutcome.FAILED
    assert lost.error == f"abandoned: no range reported within {LEASE_SECONDS}s"
    assert set(Campaign.objects.filter(pk__in=campaigns).values_list("status", "pause_reason")) == {
        ("paused", PauseReason.MANUAL)
    }
    # Each campaign moved once, by the newer sweep: the lost one's second range, still
    # queued when its worker died, was taken by the new worker and moved nothing.
    assert CampaignStatusChange.objects.filter(campaign__in=campaigns).count() == 4
