"""The benchmark behind `manage.py bench`: the engine and the API at scale, in data of its own.

Every figure is measured, not assumed: wall-clock times with ``time.perf_counter``, query
counts with Django's ``CaptureQueriesContext``, and every spend total is checked to the
micro-unit against what was sent. Logging stays on (it goes to a file under var/), as in
production.
"""

from __future__ import annotations

import http.client
import json
import logging
import multiprocessing
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import psycopg
from django.conf import settings
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ads.bench_platforms import platform_step
from ads.core.money import MICROS_PER_UNIT, from_micros
from ads.core.periods import local_date
from ads.core.sql import in_ids
from ads.models import Brand, Campaign, CampaignStatus, PauseReason, SpendPeriod, Trigger
from ads.models.ledger_guard import ledger_maintenance
from ads.services.ledger import LedgerRow, ledger_and_totals_add
from ads.services.reconcile import Scope, reconcile
from ads.services.seeding import seed_synthetic
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput
from ads.services.sweep_split import BrandRange, brand_ranges, merge_summaries, range_sweep
from ads.services.tokens import token_create
from ads.services.verify import totals_verify

BATCH = 1000
HTTP_BATCH = 500
CAMPAIGNS_PER_BRAND = 10


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...

    def flush(self) -> Any: ...


class BenchError(RuntimeError):
    """A check failed: the figures cannot be trusted."""


@dataclass
class Figure:
    section: str
    metric: str
    value: float | int | str
    unit: str = ""
    target: str = ""
    ok: bool | None = None


@dataclass
class Options:
    campaigns: int = 100_000
    events: int = 200_000
    processes: int = 4
    http: bool = True
    http_events: int = 100_000
    http_single: int = 5_000
    # Tried on the 2-core machine: 3 x 2 served single events fastest (4 x 1, 4 x 2, 2 x 4,
    # 3 x 3 and 6 x 1 were 5-35 % slower); more clients than 6 only add contention.
    http_workers: int = 3
    http_threads: int = 2
    http_clients: int = 6
    http_single_clients: int = 4
    keep: bool = False
    seed: int = 20261124
    single_events: int = 3_000
    workers: int = 2
    pgbench_seconds: int = 10


@dataclass
class _Sent:
    """What was sent, per campaign, in micro-units: the truth the totals are checked against."""

    by_campaign: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    count: int = 0

    def add(self, campaign_id: int, micros: int) -> None:
        self.by_campaign[campaign_id] += micros
        self.count += 1


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


class Bench:
    def __init__(self, options: Options, out: Writer) -> None:
        self.options = options
        self.out = out
        self.run_id = uuid.uuid4().hex[:8]
        self.prefix = f"Bench {self.run_id} "
        self.source = f"bench-{self.run_id}"
        self.rng = random.Random(options.seed)
        self.figures: list[Figure] = []
        self.sent = _Sent()
        self.brand_ids: list[int] = []
        self.campaign_ids: list[int] = []
        self.events_made = 0

    # --- plumbing -------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.out.write(text if text.endswith("\n") else text + "\n")
        self.out.flush()

    def figure(self, *args: Any, **kwargs: Any) -> Figure:
        item = Figure(*args, **kwargs)
        self.figures.append(item)
        return item

    def _in_memory_database(self) -> bool:
        name = str(connection.settings_dict["NAME"])
        return connection.vendor == "sqlite" and (":memory:" in name or "mode=memory" in name)

    def _events(self, count: int, at: datetime) -> list[SpendEventInput]:
        """Random events over the bench campaigns: amounts 0.01-5.00, within the last hour."""
        events = []
        for _ in range(count):
            self.events_made += 1
            cents = self.rng.randint(1, 500)
            events.append(
                SpendEventInput(
                    campaign_id=self.rng.choice(self.campaign_ids),
                    amount=f"{cents // 100}.{cents % 100:02d}",
                    occurred_at=at - timedelta(seconds=self.rng.randint(0, 3600)),
                    source=self.source,
                    external_id=f"e{self.events_made}",
                )
            )
        return events

    def _record_sent(self, events: Sequence[SpendEventInput]) -> None:
        for event in events:
            self.sent.add(event.campaign_id, int(Decimal(event.amount) * MICROS_PER_UNIT))

    # --- steps ----------------------------------------------------------------------------

    def create(self) -> None:
        brands = max(1, self.options.campaigns // CAMPAIGNS_PER_BRAND)
        self.say(f"1. creating {brands} brands x {CAMPAIGNS_PER_BRAND} campaigns ...")
        seconds, report = _timed(
            lambda: seed_synthetic(
                brands=brands,
                campaigns_per_brand=CAMPAIGNS_PER_BRAND,
                at=timezone.now(),
                prefix=self.prefix,
            )
        )
        self.brand_ids = list(
            Brand.objects.filter(name__startswith=self.prefix).values_list("id", flat=True)
        )
        self.campaign_ids = list(
            Campaign.objects.filter(brand_id__in=self.brand_ids).values_list("id", flat=True)
        )
        scheduled = Campaign.objects.filter(
            brand_id__in=self.brand_ids, schedule__isnull=False
        ).count()
        self.figure("create", "campaigns created", len(self.campaign_ids))
        self.figure("create", "of them with a schedule", scheduled)
        self.figure(
            "create",
            "create + first reconcile",
            round(seconds, 2),
            "s",
            "< 60 s",
            seconds < 60,
        )
        assert report.reconcile is not None

    def ingest_service(self) -> None:
        options = self.options
        now = timezone.now()
        self.say(f"2. recording {options.events} events through spend_record, one process ...")
        events = self._events(options.events, now)
        batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
        with CaptureQueriesContext(connection) as captured:
            spend_record(events=batches[0], at=timezone.now(), actor="bench")
        queries = len(captured.captured_queries)

        def run_rest() -> None:
            for batch in batches[1:]:
                spend_record(events=batch, at=timezone.now(), actor="bench")

        seconds, _ = _timed(run_rest)
        rate = (len(events) - len(batches[0])) / seconds if seconds else 0.0
        self._record_sent(events)
        self.figure("service", "queries per batch of 1,000", queries)
        self.figure(
            "service",
            "events/s, 1 process",
            round(rate),
            "events/s",
            ">= 20,000",
            rate >= 20_000,
        )
        if options.processes > 1:
            self._ingest_parallel(now)

    def _ingest_parallel(self, now: datetime) -> None:
        options = self.options
        self.say(f"   and {options.events} more in {options.processes} processes at once ...")
        events = self._events(options.events, now)
        slices = [events[n :: options.processes] for n in range(options.processes)]
        connections.close_all()  # each process opens its own connection
        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(options.processes + 1)
        failures = context.Queue()

        def child(part: list[SpendEventInput]) -> None:
            try:
                barrier.wait()
                for start in range(0, len(part), BATCH):
                    spend_record(
                        events=part[start : start + BATCH], at=timezone.now(), actor="bench"
                    )
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
        self._record_sent(events)
        rate = len(events) / seconds
        self.figure(
            "service",
            f"events/s, {options.processes} processes",
            round(rate),
            "events/s",
        )

    def check_totals(self) -> None:
        """Every campaign's and brand's totals equal what was sent, to the micro-unit."""
        self.say("6. checking every total against what was sent ...")
        campaigns_clause, params = in_ids("c.brand_id", self.brand_ids)
        brands_clause, _ = in_ids("b.id", self.brand_ids)
        day = SpendPeriod.DAY.value
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.campaign_id, SUM(t.amount) FROM ads_campaignperiodspend t "
                f"JOIN ads_campaign c ON c.id = t.campaign_id WHERE {campaigns_clause} "
                f"AND t.period = '{day}' GROUP BY t.campaign_id",
                params,
            )
            by_campaign = {row[0]: int(row[1]) for row in cursor.fetchall()}
            cursor.execute(
                "SELECT e.campaign_id, SUM(e.amount), COUNT(*) FROM ads_spendevent e "
                f"JOIN ads_campaign c ON c.id = e.campaign_id WHERE {campaigns_clause} "
                "GROUP BY e.campaign_id",
                params,
            )
            ledger = {row[0]: (int(row[1]), int(row[2])) for row in cursor.fetchall()}
            cursor.execute(
                "SELECT t.brand_id, t.period, SUM(t.amount) FROM ads_brandperiodspend t "
                f"JOIN ads_brand b ON b.id = t.brand_id WHERE {brands_clause} "
                "GROUP BY t.brand_id, t.period",
                params,
            )
            brand_totals = {(row[0], row[1]): int(row[2]) for row in cursor.fetchall()}
        expected = {cid: micros for cid, micros in self.sent.by_campaign.items() if micros}
        wrong = [
            cid
            for cid in set(expected) | set(by_campaign)
            if by_campaign.get(cid, 0) != expected.get(cid, 0)
            or ledger.get(cid, (0, 0))[0] != expected.get(cid, 0)
        ]
        brand_expected: dict[int, int] = defaultdict(int)
        campaign_brand = dict(
            Campaign.objects.filter(id__in=list(expected)).values_list("id", "brand_id")
        )
        for cid, micros in expected.items():
            brand_expected[campaign_brand[cid]] += micros
        wrong_brands = [
            bid
            for bid, micros in brand_expected.items()
            if brand_totals.get((bid, SpendPeriod.DAY), 0) != micros
            or brand_totals.get((bid, SpendPeriod.MONTH), 0) != micros
        ]
        events = sum(count for _, count in ledger.values())
        if wrong or wrong_brands or events != self.sent.count:
            raise BenchError(
                f"TOTALS DO NOT MATCH WHAT WAS SENT: {len(wrong)} campaigns, "
                f"{len(wrong_brands)} brands wrong; {events} events stored of "
                f"{self.sent.count} sent"
            )
        total = from_micros(sum(expected.values()))
        self.figure("exactness", "events stored / sent", f"{events} / {self.sent.count}")
        self.figure("exactness", "spend stored = sent (every campaign and brand)", f"{total}")
        self.figure("exactness", "lost or double-counted", 0, "", "0", True)

    def floor(self) -> None:
        """The same rows written with no validation, lock, limit check or reconcile: what
        the database itself does for these writes, the floor under the service's figure."""
        count = max(BATCH, self.options.events // 2)
        self.say(f"   and {count} written straight to the database, for comparison ...")
        now = timezone.now()
        events = self._events(count, now)
        brands = dict(
            Campaign.objects.filter(id__in=self.campaign_ids).values_list("id", "brand_id")
        )
        zones = dict(Brand.objects.filter(id__in=self.brand_ids).values_list("id", "timezone"))
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

        seconds, _ = _timed(write)
        self._record_sent(events)
        self.figure(
            "service",
            "floor: the same writes alone, events/s",
            round(len(rows) / seconds),
            "events/s",
        )

    def http(self) -> None:
        if self._in_memory_database():
            raise BenchError("the HTTP step needs a database other processes can open")
        options = self.options
        self.say(
            f"3. serving the API with gunicorn ({options.http_workers} workers x "
            f"{options.http_threads} threads, {options.http_clients} clients) ..."
        )
        token, secret = token_create(
            name=f"bench {self.run_id}", brand_ids=[], by_superuser=True, at=timezone.now()
        )
        port = _free_port()
        server = _start_gunicorn(port, options.http_workers, options.http_threads, self.run_id)
        try:
            _wait_until_up(port, server)
            now = timezone.now()
            batches = [
                self._events(HTTP_BATCH, now)
                for _ in range(max(1, options.http_events // HTTP_BATCH))
            ]
            self.say(f"   {len(batches)} requests of {HTTP_BATCH} events ...")
            result = _load(port, secret, batches, options.http_clients)
            self._check_http(result, "batched")
            self._record_sent([event for batch in batches for event in batch])
            rate = result.accepted / result.seconds
            self.figure(
                "http", "batched: events/s", round(rate), "events/s", ">= 5,000", rate >= 5_000
            )
            self.figure("http", "batched: p50 latency", result.percentile(50), "ms")
            self.figure("http", "batched: p99 latency", result.percentile(99), "ms")
            singles = [self._events(1, now) for _ in range(options.http_single)]
            self.say(f"   {len(singles)} single-event requests ...")
            clients = options.http_single_clients
            result = _load(port, secret, singles, clients)
            self._check_http(result, "single")
            self._record_sent([batch[0] for batch in singles])
            rate = len(singles) / result.seconds
            self.figure(
                "http",
                f"single events, {clients} clients: requests/s",
                round(rate),
                "req/s",
                ">= 1,000",
                rate >= 1_000,
            )
            self.figure("http", "single events: p50 latency", result.percentile(50), "ms")
            self.figure("http", "single events: p99 latency", result.percentile(99), "ms")
        finally:
            _stop(server)
            token.delete()

    def _check_http(self, result: _LoadResult, name: str) -> None:
        if result.failures:
            raise BenchError(
                f"HTTP {name}: {len(result.failures)} failed requests, e.g. "
                f"{result.failures[0]}"
            )

    def reconcile_sweeps(self) -> None:
        self.say("4. full reconcile sweeps ...")
        if connection.vendor == "postgresql":
            # The tables were just filled in bulk; autovacuum would have analysed them
            # within a minute or so, and the planner needs their sizes to join by hash.
            with connection.cursor() as cursor:
                cursor.execute(
                    "ANALYZE ads_brand, ads_campaign, ads_brandperiodspend, "
                    "ads_campaignperiodspend"
                )
        small = self.brand_ids[: max(1, len(self.brand_ids) // 10)]
        # The tenth first: sweeping all first would leave the tenth nothing to move.
        sizes = [("a tenth", tuple(small)), ("all", tuple(self.brand_ids))]
        counts: dict[str, list[int]] = defaultdict(list)
        steady = timezone.now()
        # Settle first (not measured): the steady runs then find nothing to move at either
        # size, and the runs 12 hours later find windows opened and closed at both.
        reconcile(
            at=steady,
            trigger=Trigger.BUDGET_CHECK,
            actor="bench",
            scope=Scope(tuple(self.brand_ids)),
        )
        for label, at in (("steady", steady), ("12 h later", steady + timedelta(hours=12))):
            for size, brand_ids in sizes:
                scope = Scope(brand_ids=brand_ids)
                with CaptureQueriesContext(connection) as captured:
                    seconds, result = _timed(
                        lambda: reconcile(
                            at=at, trigger=Trigger.BUDGET_CHECK, actor="bench", scope=scope
                        )
                    )
                queries = len(captured.captured_queries)
                counts[label].append(queries)
                # Targets at 100,000 campaigns: a check <= 3 us per campaign, a move <= 20 us
                # beyond it (the 12 h sweep moves about 27,000).
                limit = 0.3 if label == "steady" else 1.0
                judged = size == "all" and result.checked <= 200_000  # targets are for 100k
                target = f"<= {limit} s, <= 20 queries" if judged else ""
                ok = (seconds <= limit and queries <= 20) if judged else None
                self.figure(
                    "reconcile",
                    f"{label}: {result.checked} campaigns, {len(result.transitions)} moved",
                    f"{seconds:.3f} s, {queries} queries",
                    "",
                    target,
                    ok,
                )
        self._pause_sweep(steady + timedelta(hours=12))
        for label, values in counts.items():
            same = len(set(values)) == 1
            self.figure(
                "reconcile",
                f"{label}: same query count at both sizes",
                "yes" if same else f"no {values}",
                "",
                "equal",
                same,
            )

    def _pause_sweep(self, at: datetime) -> None:
        """Four brands in ten spend past their daily budget (written straight to the ledger
        and totals, as ingestion that does not enforce would), then one sweep pauses all of
        their campaigns: 40,000 at 100,000 campaigns."""
        chosen = self.brand_ids[: max(1, len(self.brand_ids) * 4 // 10)]
        # Each brand's first campaign (the last value per key wins).
        first = dict(
            Campaign.objects.filter(brand_id__in=chosen)
            .order_by("brand_id", "-id")
            .values_list("brand_id", "id")
        )
        zones = dict(Brand.objects.filter(id__in=chosen).values_list("id", "timezone"))
        micros = 10_000 * MICROS_PER_UNIT  # past every bench brand's daily budget
        rows = [
            LedgerRow(
                campaign_id=campaign_id,
                brand_id=brand_id,
                micros=micros,
                occurred_at=at,
                local_date=local_date(at, zones[brand_id]),
                source=self.source,
                external_id=f"over-{brand_id}",
            )
            for brand_id, campaign_id in first.items()
        ]
        for start in range(0, len(rows), BATCH):
            with transaction.atomic():
                ledger_and_totals_add(rows[start : start + BATCH], at)
        for row in rows:
            self.sent.add(row.campaign_id, row.micros)
        scope = Scope(brand_ids=tuple(self.brand_ids))
        with CaptureQueriesContext(connection) as captured:
            seconds, result = _timed(
                lambda: reconcile(at=at, trigger=Trigger.BUDGET_CHECK, actor="bench", scope=scope)
            )
        queries = len(captured.captured_queries)
        full = 10_000 <= len(self.brand_ids) <= 20_000  # the target is for 100k campaigns
        self.figure(
            "reconcile",
            f"{len(chosen)} brands over budget: {result.checked} campaigns, "
            f"{len(result.transitions)} moved",
            f"{seconds:.3f} s, {queries} queries",
            "",
            "<= 1.2 s, <= 20 queries" if full else "",
            (seconds <= 1.2 and queries <= 20) if full else None,
        )

    def single_events(self) -> None:
        """One event per call through spend_record at one client, against the database's own
        single-commit rate at one client (pgbench -N -c 1): target >= 70 % of it."""
        count = self.options.single_events
        self.say(f"2b. {count} single events through spend_record, one client ...")
        events = self._events(count, timezone.now())

        def run() -> None:
            for event in events:
                spend_record(events=[event], at=timezone.now(), actor="bench")

        seconds, _ = _timed(run)
        self._record_sent(events)
        rate = count / seconds
        self.figure("single", "events/s through spend_record, 1 client", round(rate), "events/s")
        tps, why = _pgbench_single_commit_rate(self.options.pgbench_seconds)
        if tps is None:
            self.figure("single", "pgbench -N -c 1", f"skipped: {why}")
            return
        self.figure("single", "pgbench -N -c 1 (commits/s)", round(tps), "tps")
        ratio = rate / tps
        self.figure(
            "single",
            "spend_record / pgbench, 1 client",
            f"{ratio:.0%}",
            "",
            ">= 70 %",
            ratio >= 0.7,
        )

    def split_sweeps(self) -> None:
        """The sweep split into brand ranges (ads.services.sweep_split), run by 1 and by N
        worker processes taking ranges from a shared queue, as Celery workers would. Each
        time includes the fan-out (the ranges, computed anew for each sweep as the beat
        task does)."""
        workers = self.options.workers
        self.say(f"8. split sweeps, 1 and {workers} workers ...")
        steady = timezone.now()
        counts = sorted({1, workers})
        per_range = max(1, len(self.brand_ids) // (4 * max(counts)))
        # Settle first (not measured), so the steady runs find nothing to move.
        reconcile(at=steady, trigger=Trigger.BUDGET_CHECK, actor="bench")
        runs = [(n, "steady", steady) for n in counts]
        runs += [
            (n, "moving", steady + timedelta(hours=12 * (i + 1))) for i, n in enumerate(counts)
        ]
        for n, label, at in runs:
            fan_out, ranges = _timed(lambda: brand_ranges(brands_per_range=per_range))
            swept, summary = _split_sweep(ranges, at, n)
            seconds = fan_out + swept
            moved = summary["paused"] + summary["resumed"] + summary["reason_changed"]
            # Targets at 1,000,000 campaigns: steady <= 3 s with one worker, <= 2 s with two.
            limit = {1: 3.0, 2: 2.0}.get(n) if label == "steady" else None
            at_scale = summary["checked"] >= 1_000_000 and limit is not None
            self.figure(
                "split sweep",
                f"{label}, {n} worker{'s' if n > 1 else ''}: {summary['checked']} campaigns "
                f"in {len(ranges)} ranges, {moved} moved (fan-out {fan_out:.3f} s)",
                f"{seconds:.3f} s",
                "",
                f"<= {limit} s" if at_scale else "",
                (seconds <= (limit or 0)) if at_scale else None,
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        self.figure("split sweep", "bench process peak resident memory so far", f"{peak} MB")

    def crossing(self) -> None:
        """A brand of its own with 100.00 left today: one event of exactly that amount."""
        self.say("5. one event that crosses a budget ...")
        at = timezone.now()
        brand = Brand.objects.create(
            name=f"{self.prefix}crossing",
            timezone="UTC",
            daily_budget=Decimal("100.00"),
            monthly_budget=Decimal("1000.00"),
        )
        campaign = Campaign.objects.create(brand=brand, name="crossing")
        self.brand_ids.append(brand.pk)
        event = SpendEventInput(
            campaign_id=campaign.pk,
            amount="100.00",
            occurred_at=at,
            source=self.source,
            external_id="crossing",
        )
        seconds, result = _timed(lambda: spend_record(events=[event], at=at, actor="bench"))
        self._record_sent([event])
        campaign.refresh_from_db()
        paused = (
            campaign.status == CampaignStatus.PAUSED
            and campaign.pause_reason == PauseReason.BRAND_DAILY_BUDGET
        )
        self.figure(
            "crossing",
            "paused when the recording call returned",
            "yes" if paused else "no",
            "",
            "same call",
            paused,
        )
        self.figure("crossing", "that call took", round(seconds * 1000, 1), "ms")
        if not paused or result.accepted != 1:
            raise BenchError("the crossing event did not pause its campaign in the same call")

    def cleanup(self) -> None:
        if self.options.keep:
            self.say(f"kept the data: brands and schedules named {self.prefix!r}")
            return
        self.say("removing the bench data ...")
        remove_bench_data(self.prefix)

    def run(self) -> list[Figure]:
        log_path = Path(settings.BASE_DIR) / "var" / f"bench-{self.run_id}.log"
        restore = _log_to_file(log_path)
        self.say(f"bench {self.run_id} on {connection.vendor} (logs: {log_path})")
        try:
            self.create()
            self.ingest_service()
            if self.options.single_events:
                # After a day's batches (most campaigns have today's totals rows, most brands
                # are below their budgets): the common single event.
                self.single_events()
            self.floor()
            if self.options.http:
                self.http()
            self.reconcile_sweeps()
            if self.options.workers and not self._in_memory_database():
                self.split_sweeps()
            self.crossing()
            self.check_totals()
            platform_step(self)  # ad platforms (issue 11): ads/bench_platforms.py
            verify_step(self)
        finally:
            try:
                self.cleanup()
            finally:
                restore()
        return self.figures


def verify_step(bench: Bench) -> None:
    """``verify_totals`` after all the bench's writes: every total in the database against
    the ledger, all periods and the current month, timed; a difference fails the bench."""
    bench.say("7. verify_totals: every period total against the ledger ...")
    at = timezone.now()
    for label, since in (("all periods", None), ("current month", at.date().replace(day=1))):
        started = time.perf_counter()
        result = totals_verify(at=at, since=since, actor="bench")
        seconds = time.perf_counter() - started
        checked = f"{result.checked['campaign']:,} campaign + {result.checked['brand']:,} brand"
        bench.figure(
            "verify_totals",
            f"{label}: time",
            f"{seconds:.3f} s for {checked} totals",
            "",
            "< 10 s",
            seconds < 10,
        )
        drift = len(result.differences)
        bench.figure("verify_totals", f"{label}: differences", drift, "", "0", drift == 0)
        if drift:
            raise BenchError(
                f"verify_totals found {drift} totals that differ from the ledger, "
                f"e.g. {result.differences[0].describe()}"
            )
    bench.say("   no drift found")


def _split_sweep(ranges: Sequence[BrandRange], at: datetime, workers: int) -> tuple[float, Any]:
    """Every range swept once by ``workers`` forked processes pulling from one queue: the
    wall time from the start signal until the last range is done, and the merged figures."""
    connections.close_all()  # each process opens its own connection
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    for brand_range in ranges:
        queue.put(brand_range)
    for _ in range(workers):
        queue.put(None)
    results = context.Queue()
    barrier = context.Barrier(workers + 1)

    def child() -> None:
        try:
            barrier.wait()
            while (brand_range := queue.get()) is not None:
                results.put(
                    range_sweep(
                        trigger=Trigger.BUDGET_CHECK, brand_range=brand_range, at=at, actor="bench"
                    )
                )
        except BaseException as exc:  # reported to the parent, which fails loudly
            results.put({"failed": repr(exc)})
            raise
        finally:
            connections.close_all()

    processes = [context.Process(target=child) for _ in range(workers)]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    summaries = []
    for _ in ranges:
        summary = results.get(timeout=600)
        if "failed" in summary:
            raise BenchError(f"a split-sweep worker failed: {summary['failed']}")
        summaries.append(summary)
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
    return seconds, merge_summaries(summaries)


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


# --- HTTP load -----------------------------------------------------------------------------


@dataclass
class _LoadResult:
    seconds: float
    latencies_ms: list[float]
    accepted: int
    failures: list[str]

    def percentile(self, p: int) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return round(ordered[index], 1)


def remove_bench_data(prefix: str, *, key_source: str | None = None) -> None:
    """Delete what a bench created: brands and schedules named ``prefix...``, their
    campaigns, the ledger rows and keys, totals, audit rows and alerts. The bench's own
    ledger rows are the one sanctioned exception to the append-only ledger
    (ads.models.ledger_guard). ``key_source``: the bench wrote every event under this source, so
    its keys go by the key table's primary key instead of a join through the ledger (at
    tens of millions of rows, the join is the slow part)."""
    brands = "SELECT id FROM ads_brand WHERE name LIKE %s"
    campaigns = f"SELECT id FROM ads_campaign WHERE brand_id IN ({brands})"
    pattern = [prefix + "%"]
    with ledger_maintenance(), connection.cursor() as cursor:
        # The ledger rows' idempotency keys first (found through the rows, or their source).
        if key_source is not None:
            cursor.execute("DELETE FROM ads_spendeventkey WHERE source = %s", [key_source])
        else:
            cursor.execute(
                "DELETE FROM ads_spendeventkey WHERE event_id IN "
                f"(SELECT id FROM ads_spendevent WHERE campaign_id IN ({campaigns}))",
                pattern,
            )
        for table in (
            "ads_campaignstatuschange",
            "ads_campaignperiodspend",
            "ads_reporteddailytotal",
            "ads_spendevent",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE campaign_id IN ({campaigns})", pattern)
        # Alerts the bench's spend fired, and their deliveries.
        alerts = f"SELECT id FROM ads_alert WHERE brand_id IN ({brands})"
        cursor.execute(f"DELETE FROM ads_alertdelivery WHERE alert_id IN ({alerts})", pattern)
        for table in (
            "ads_alert",
            "ads_brandalertsettings",
            "ads_brandperiodspend",
            "ads_apitoken_brands",
            "ads_campaign",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE brand_id IN ({brands})", pattern)
        cursor.execute("DELETE FROM ads_brand WHERE name LIKE %s", pattern)
        schedules = "SELECT id FROM ads_daypartschedule WHERE name LIKE %s"
        cursor.execute(f"DELETE FROM ads_daypartwindow WHERE schedule_id IN ({schedules})", pattern)
        cursor.execute("DELETE FROM ads_daypartschedule WHERE name LIKE %s", pattern)


def _body(events: Sequence[SpendEventInput]) -> bytes:
    return json.dumps(
        {
            "events": [
                {
                    "campaign": e.campaign_id,
                    "amount": e.amount,
                    "occurred_at": e.occurred_at.isoformat() if e.occurred_at else None,
                    "source": e.source,
                    "event_id": e.external_id,
                }
                for e in events
            ]
        }
    ).encode()


def _client(
    port: int,
    secret: str,
    bodies: list[bytes],
    results: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    """One connection, kept alive, sending its share of the requests in turn."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    latencies, accepted, failures = [], 0, []
    for body in bodies:
        started = time.perf_counter()
        conn.request("POST", "/api/v1/spend/events", body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            failures.append(f"{response.status} {payload[:200]!r}")
            continue
        answer = json.loads(payload)
        accepted += answer["accepted"]
        if answer["rejected"] or answer["duplicates"]:
            failures.append(f"200 with {answer['rejected']} rejected, {answer['duplicates']} dup")
    conn.close()
    results.put((latencies, accepted, failures))


def _load(
    port: int, secret: str, batches: Sequence[Sequence[SpendEventInput]], clients: int
) -> _LoadResult:
    """Send every batch once, over ``clients`` concurrent keep-alive connections (each in
    its own process, so the load generator is not held back by one interpreter's lock)."""
    bodies = [_body(batch) for batch in batches]
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_client, args=(port, secret, bodies[n::clients], results))
        for n in range(clients)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    collected = [results.get(timeout=600) for _ in workers]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return _LoadResult(
        seconds=seconds,
        latencies_ms=[ms for latencies, _, _ in collected for ms in latencies],
        accepted=sum(accepted for _, accepted, _ in collected),
        failures=[f for _, _, failures in collected for f in failures],
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _start_gunicorn(port: int, workers: int, threads: int, run_id: str) -> subprocess.Popen[bytes]:
    log_path = Path(settings.BASE_DIR) / "var" / f"bench-{run_id}-gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",  # the bench speaks plain HTTP to 127.0.0.1
    }
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "ad_budget_system.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
                "--keep-alive",
                "30",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=log,
        )


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.returncode}; see var/bench-*.log")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise BenchError("gunicorn did not answer within 60 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def _log_to_file(path: Path) -> Callable[[], None]:
    """Send log records to ``path`` for the run (the console shows the figures)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    saved = root.handlers[:]
    handler = logging.FileHandler(path)
    handler.setFormatter(saved[0].formatter if saved else logging.Formatter())
    root.handlers = [handler]

    def restore() -> None:
        root.handlers = saved
        handler.close()

    return restore


def markdown(figures: Sequence[Figure]) -> str:
    lines = ["| step | measure | value | target | met |", "| --- | --- | --- | --- | --- |"]
    for f in figures:
        value = f"{f.value:,}" if isinstance(f.value, int) else str(f.value)
        met = "" if f.ok is None else ("yes" if f.ok else "**no**")
        lines.append(f"| {f.section} | {f.metric} | {value} {f.unit} | {f.target} | {met} |")
    return "\n".join(lines)


def as_json(figures: Sequence[Figure], options: Options, environment: dict[str, Any]) -> str:
    return json.dumps(
        {
            "options": options.__dict__,
            "environment": environment,
            "figures": [f.__dict__ for f in figures],
        },
        indent=2,
        default=str,
    )


def environment() -> dict[str, Any]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            database = cursor.fetchone()[0]
            cursor.execute("SHOW fsync")
            fsync = cursor.fetchone()[0]
            cursor.execute("SHOW synchronous_commit")
            sync = cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            database, fsync, sync = f"SQLite {cursor.fetchone()[0]}", "n/a", "n/a"
    return {
        "python": sys.version.split()[0],
        "database": database,
        "fsync": fsync,
        "synchronous_commit": sync,
        "cpus": os.cpu_count(),
        "when": timezone.now().isoformat(),
    }
