"""Recording spend at scale: batches through the service in one and in several processes,
the same rows written straight to the database (the floor), single events against the
database's own single-commit rate, and one event that crosses a budget."""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import time
from datetime import datetime
from decimal import Decimal

import psycopg
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ads.core.money import MICROS_PER_UNIT
from ads.core.periods import local_date
from ads.models import Brand, Campaign, CampaignStatus, PauseReason
from ads.services.ledger import LedgerRow, ledger_and_totals_add
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput
from devtools.bench.state import BATCH, Bench, BenchError, timed


def ingest_service(bench: Bench) -> None:
    options = bench.options
    now = timezone.now()
    bench.say(f"2. recording {options.events} events through spend_record, one process ...")
    events = bench.events(options.events, now)
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    with CaptureQueriesContext(connection) as captured:
        spend_record(events=batches[0], at=timezone.now(), actor="bench")
    queries = len(captured.captured_queries)

    def run_rest() -> None:
        for batch in batches[1:]:
            spend_record(events=batch, at=timezone.now(), actor="bench")

    seconds, _ = timed(run_rest)
    rate = (len(events) - len(batches[0])) / seconds if seconds else 0.0
    bench.record_sent(events)
    bench.figure("service", "queries per batch of 1,000", queries)
    bench.figure(
        "service",
        "events/s, 1 process",
        round(rate),
        "events/s",
        ">= 20,000",
        rate >= 20_000,
    )
    if options.processes > 1:
        _ingest_parallel(bench, now)


def _ingest_parallel(bench: Bench, now: datetime) -> None:
    options = bench.options
    bench.say(f"   and {options.events} more in {options.processes} processes at once ...")
    events = bench.events(options.events, now)
    slices = [events[n :: options.processes] for n in range(options.processes)]
    connections.close_all()  # each process opens its own connection
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(options.processes + 1)
    failures = context.Queue()

    def child(part: list[SpendEventInput]) -> None:
        try:
            barrier.wait()
            for start in range(0, len(part), BATCH):
                spend_record(events=part[start : start + BATCH], at=timezone.now(), actor="bench")
        except BaseException as exc:  # reported to the parent, which fails loudly
            failures.put(repr(exc))
            raise
        finally:
            connections.close_all()

    workers = [context.Process(target=child, args=(part,)) for part in slices]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    if any(worker.exitcode != 0 for worker in workers):
        raise BenchError(f"a writer process failed: {failures.get(timeout=1)}")
    bench.record_sent(events)
    rate = len(events) / seconds
    bench.figure(
        "service",
        f"events/s, {options.processes} processes",
        round(rate),
        "events/s",
    )


def floor(bench: Bench) -> None:
    """The same rows written with no validation, lock, limit check or reconcile: what
    the database itself does for these writes, the floor under the service's figure."""
    count = max(BATCH, bench.options.events // 2)
    bench.say(f"   and {count} written straight to the database, for comparison ...")
    now = timezone.now()
    events = bench.events(count, now)
    brands = dict(Campaign.objects.filter(id__in=bench.campaign_ids).values_list("id", "brand_id"))
    zones = dict(Brand.objects.filter(id__in=bench.brand_ids).values_list("id", "timezone"))
    rows = [
        LedgerRow(
            campaign_id=e.campaign_id,
            brand_id=brands[e.campaign_id],
            micros=int(Decimal(e.amount) * MICROS_PER_UNIT),
            occurred_at=e.occurred_at or now,
            local_date=local_date(e.occurred_at or now, zones[brands[e.campaign_id]]),
            source=e.source,
            external_id=e.external_id,
        )
        for e in events
    ]

    def write() -> None:
        for start in range(0, len(rows), BATCH):
            with transaction.atomic():
                ledger_and_totals_add(rows[start : start + BATCH], now)

    seconds, _ = timed(write)
    bench.record_sent(events)
    bench.figure(
        "service",
        "floor: the same writes alone, events/s",
        round(len(rows) / seconds),
        "events/s",
    )


def single_events(bench: Bench) -> None:
    """One event per call through spend_record at one client, against the database's own
    single-commit rate at one client (pgbench -N -c 1): target >= 70 % of it."""
    count = bench.options.single_events
    bench.say(f"2b. {count} single events through spend_record, one client ...")
    events = bench.events(count, timezone.now())

    def run() -> None:
        for event in events:
            spend_record(events=[event], at=timezone.now(), actor="bench")

    seconds, _ = timed(run)
    bench.record_sent(events)
    rate = count / seconds
    bench.figure("single", "events/s through spend_record, 1 client", round(rate), "events/s")
    tps, why = _pgbench_single_commit_rate(bench.options.pgbench_seconds)
    if tps is None:
        bench.figure("single", "pgbench -N -c 1", f"skipped: {why}")
        return
    bench.figure("single", "pgbench -N -c 1 (commits/s)", round(tps), "tps")
    ratio = rate / tps
    bench.figure(
        "single",
        "spend_record / pgbench, 1 client",
        f"{ratio:.0%}",
        "",
        ">= 70 %",
        ratio >= 0.7,
    )


def _pgbench_single_commit_rate(seconds: int) -> tuple[float | None, str]:
    """pgbench's simple-update transactions (-N) at one client, on a scratch database the
    bench creates next to this one and drops afterwards: (tps, "") or (None, why not)."""
    if connection.vendor != "postgresql":
        return None, "not PostgreSQL"
    if seconds <= 0:
        return None, "--pgbench-seconds 0"
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        return None, "pgbench is not installed"
    db = connection.settings_dict
    scratch = f"{db['NAME']}_pgbench"[:63]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    target = [
        "-h",
        str(db.get("HOST") or "localhost"),
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        str(db.get("USER") or ""),
    ]
    # CREATE and DROP DATABASE refuse to run in a transaction: a connection of their own.
    admin = psycopg.connect(
        host=target[1],
        port=target[3],
        user=target[5],
        password=env["PGPASSWORD"] or None,
        dbname=str(db["NAME"]),
        autocommit=True,
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
    admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        subprocess.run(
            [pgbench, "-i", "-q", "-s", "1", *target, scratch],
            env=env,
            check=True,
            capture_output=True,
        )
        run = subprocess.run(
            [pgbench, "-N", "-c", "1", "-n", "-T", str(seconds), *target, scratch],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        return None, f"pgbench failed: {exc.stderr!r:.200}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        admin.close()
    match = re.search(r"tps = ([0-9.]+)", run.stdout)
    return (float(match.group(1)), "") if match else (None, "no tps in pgbench's output")


def crossing(bench: Bench) -> None:
    """A brand of its own with 100.00 left today: one event of exactly that amount."""
    bench.say("5. one event that crosses a budget ...")
    at = timezone.now()
    brand = Brand.objects.create(
        name=f"{bench.prefix}crossing",
        timezone="UTC",
        daily_budget=Decimal("100.00"),
        monthly_budget=Decimal("1000.00"),
    )
    campaign = Campaign.objects.create(brand=brand, name="crossing")
    bench.brand_ids.append(brand.pk)
    event = SpendEventInput(
        campaign_id=campaign.pk,
        amount="100.00",
        occurred_at=at,
        source=bench.source,
        external_id="crossing",
    )
    seconds, result = timed(lambda: spend_record(events=[event], at=at, actor="bench"))
    bench.record_sent([event])
    campaign.refresh_from_db()
    paused = (
        campaign.status == CampaignStatus.PAUSED
        and campaign.pause_reason == PauseReason.BRAND_DAILY_BUDGET
    )
    bench.figure(
        "crossing",
        "paused when the recording call returned",
        "yes" if paused else "no",
        "",
        "same call",
        paused,
    )
    bench.figure("crossing", "that call took", round(seconds * 1000, 1), "ms")
    if not paused or result.accepted != 1:
        raise BenchError("the crossing event did not pause its campaign in the same call")
