"""``manage.py bench_ledger``: ingestion and ``verify_totals`` with a large ledger on disk.

The ledger is filled fast, straight in SQL (``generate_series`` into the keys, the ledger
and the period totals, in chunks of one transaction each), consistent so that
``verify_totals`` finds no drift. The rows are spread evenly over the last ``months`` months
up to today, on the bench's own campaigns, with amounts of a few micros (no budget is
reached, so no campaign pauses during the measurement). Then, with all of it on disk:

* batched ingestion through ``spend_record`` (batches of 1,000, one process, dated now),
  the service step of ``manage.py bench``;
* ``verify_totals`` of the current month (the nightly job's window), which on PostgreSQL
  reads only the current and previous months' partitions;
* the sizes of the ledger (all partitions, with indexes) and of the key table.

PostgreSQL only (SQLite has no partitions). The data is removed afterwards unless
``--keep``; for tens of millions of rows, drop the database instead (deleting them row by
row through ``ledger_maintenance`` takes far longer than filling them).
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from django.db import connection, transaction
from django.utils import timezone

from ads.models import Brand, Campaign, SpendPeriod
from ads.services.ledger_partitions import add_months, partitions_ensure
from ads.services.seeding import seed_synthetic
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput
from ads.services.verify import totals_verify
from devtools.bench.data import remove_bench_data

BATCH = 1_000
CAMPAIGNS_PER_BRAND = 10
SOURCE = "bench-ledger"


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


class LedgerBenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class LedgerBenchOptions:
    rows: int
    campaigns: int = 1_000
    months: int = 12
    chunk: int = 1_000_000
    events: int = 20_000
    keep: bool = False
    seed: int = 12


# One chunk: rows lo..hi-1 of the fill. Row i: campaign i mod C, date spread evenly from
# `start` over `days` days, amount 1-7 micros, id base + i (the block was reserved from the
# ledger's sequence). External ids are zero-padded so they arrive in key order.
_FILL = f"""
WITH g AS MATERIALIZED (
    SELECT i, (%(campaigns)s::bigint[])[1 + i %% %(count)s] AS campaign_id,
        (%(brands)s::bigint[])[1 + i %% %(count)s] AS brand_id,
        %(start)s::date + CAST(i * %(days)s / %(rows)s AS integer) AS local_date,
        1 + i %% 7 AS amount,
        'L' || lpad(i::text, 12, '0') AS external_id
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) AS i
),
k AS (
    INSERT INTO ads_spendeventkey (source, external_id, kind, local_date, event_id)
    SELECT %(source)s, external_id, 'event', local_date, %(base)s + i FROM g
),
e AS (
    INSERT INTO ads_spendevent (id, campaign_id, kind, amount, occurred_at, local_date,
        source, external_id, recorded_at)
    SELECT %(base)s + i, campaign_id, 'event', amount,
        (local_date + time '12:00') AT TIME ZONE 'UTC', local_date, %(source)s,
        external_id, now()
    FROM g
),
periods AS (
    SELECT campaign_id, brand_id, p.period,
        CASE WHEN p.period = '{SpendPeriod.DAY.value}' THEN local_date
            ELSE CAST(date_trunc('month', local_date) AS date) END AS period_start,
        amount
    FROM g CROSS JOIN (VALUES ('{SpendPeriod.DAY.value}'), ('{SpendPeriod.MONTH.value}'))
        AS p(period)
),
c AS (
    INSERT INTO ads_campaignperiodspend (campaign_id, period, period_start, amount)
    SELECT campaign_id, period, period_start, SUM(amount) FROM periods
    GROUP BY campaign_id, period, period_start
    ON CONFLICT (campaign_id, period, period_start)
    DO UPDATE SET amount = ads_campaignperiodspend.amount + excluded.amount
)
INSERT INTO ads_brandperiodspend (brand_id, period, period_start, amount)
SELECT brand_id, period, period_start, SUM(amount) FROM periods
GROUP BY brand_id, period, period_start
ON CONFLICT (brand_id, period, period_start)
DO UPDATE SET amount = ads_brandperiodspend.amount + excluded.amount
"""


def _array(values: list[int]) -> str:
    return "{" + ",".join(str(v) for v in values) + "}"


class LedgerBench:
    def __init__(self, options: LedgerBenchOptions, out: Writer) -> None:
        self.options = options
        self.out = out
        self.run_id = uuid.uuid4().hex[:8]
        self.prefix = f"bench-ledger-{self.run_id}-"
        self.source = f"{SOURCE}-{self.run_id}"
        self.rng = random.Random(options.seed)
        self.figures: list[tuple[str, str]] = []
        self.campaign_ids: list[int] = []
        self.brand_of: dict[int, int] = {}

    def say(self, text: str) -> None:
        self.out.write(text + "\n")

    def figure(self, name: str, value: str) -> None:
        self.figures.append((name, value))
        self.say(f"   {name}: {value}")

    def run(self) -> list[tuple[str, str]]:
        if connection.vendor != "postgresql":
            raise LedgerBenchError("bench_ledger needs PostgreSQL (the partitioned ledger)")
        try:
            self.create()
            if self.options.rows:
                self.fill()
            else:
                self.say("2. no fill (--rows 0): measuring with the ledger as it is")
            self.sizes()
            self.ingest()
            self.verify()
        finally:
            self.cleanup()
        return self.figures

    def create(self) -> None:
        brands = max(1, self.options.campaigns // CAMPAIGNS_PER_BRAND)
        self.say(f"1. creating {brands} brands x {CAMPAIGNS_PER_BRAND} campaigns ...")
        seed_synthetic(
            brands=brands,
            campaigns_per_brand=CAMPAIGNS_PER_BRAND,
            at=timezone.now(),
            prefix=self.prefix,
        )
        rows = Campaign.objects.filter(brand__name__startswith=self.prefix).values_list(
            "id", "brand_id"
        )
        self.brand_of = dict(rows)
        self.campaign_ids = sorted(self.brand_of)
        # Budgets far above anything the bench spends: the figures are the ledger's.
        Brand.objects.filter(name__startswith=self.prefix).update(
            daily_budget=10_000_000, monthly_budget=100_000_000
        )
        Campaign.objects.filter(pk__in=self.campaign_ids).update(
            daily_budget=None, monthly_budget=None, schedule=None
        )

    def _window(self) -> tuple[date, int]:
        today = timezone.now().date()
        start = add_months(today.replace(day=1), -(self.options.months - 1))
        return start, (today - start).days + 1

    def fill(self) -> None:
        options = self.options
        start, days = self._window()
        self.say(
            f"2. filling {options.rows:,} ledger rows from {start} to today "
            f"({days} days, chunks of {options.chunk:,}) ..."
        )
        partitions_ensure(at=timezone.now())
        with connection.cursor() as cursor:
            # Reserve the ids: one block of the ledger's sequence.
            cursor.execute(
                "SELECT setval('ads_spendevent_id_seq', nextval('ads_spendevent_id_seq') + %s)",
                [options.rows],
            )
            row = cursor.fetchone()
            assert row is not None
            base = int(row[0]) - options.rows
        params: dict[str, Any] = {
            "campaigns": _array(self.campaign_ids),
            "brands": _array([self.brand_of[c] for c in self.campaign_ids]),
            "count": len(self.campaign_ids),
            "start": start,
            "days": days,
            "rows": options.rows,
            "source": self.source,
            "base": base,
        }
        started = time.perf_counter()
        done = 0
        while done < options.rows:
            hi = min(options.rows, done + options.chunk)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(_FILL, params | {"lo": done, "hi": hi})
            done = hi
            elapsed = time.perf_counter() - started
            self.say(f"   {done:,} rows in {elapsed:.0f} s ({done / elapsed:,.0f} rows/s)")
        seconds = time.perf_counter() - started
        self.figure("fill", f"{options.rows:,} rows in {seconds:.0f} s")
        self.say("   VACUUM ANALYZE (a freshly loaded table has no statistics yet) ...")
        with connection.cursor() as cursor:
            for table in ("ads_spendevent", "ads_spendeventkey"):
                cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.execute("ANALYZE ads_campaignperiodspend")
            cursor.execute("ANALYZE ads_brandperiodspend")

    def sizes(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("""SELECT count(*) FILTER (WHERE isleaf),
                    SUM(pg_total_relation_size(relid)), SUM(pg_relation_size(relid)),
                    SUM(pg_indexes_size(relid))
                FROM pg_partition_tree('ads_spendevent')""")
            partitions, total, heap, indexes = cursor.fetchone() or (0, 0, 0, 0)
            cursor.execute("""SELECT pg_total_relation_size('ads_spendeventkey'),
                    pg_relation_size('ads_spendeventkey'), pg_indexes_size('ads_spendeventkey'),
                    (SELECT reltuples FROM pg_class WHERE oid = 'ads_spendevent'::regclass),
                    pg_database_size(current_database())""")
            key_total, key_heap, key_indexes, _, database = cursor.fetchone() or (0,) * 5
            cursor.execute("SELECT count(*) FROM ads_spendevent")
            rows = (cursor.fetchone() or (0,))[0]
            month = timezone.now().date().replace(day=1)
            cursor.execute("SELECT count(*) FROM ads_spendevent WHERE local_date >= %s", [month])
            current = (cursor.fetchone() or (0,))[0]

        def gb(size: int) -> str:
            return f"{size / 1024**3:.2f} GB"

        self.figure("ledger rows on disk", f"{rows:,} ({current:,} in the current month)")
        self.figure(
            "ads_spendevent (all partitions)",
            f"{gb(total)} ({gb(heap)} rows + {gb(indexes)} indexes, {partitions} partitions)",
        )
        self.figure(
            "ads_spendeventkey",
            f"{gb(key_total)} ({gb(key_heap)} rows + {gb(key_indexes)} primary key)",
        )
        self.figure("database", gb(database))

    def ingest(self) -> None:
        count = self.options.events
        self.say(f"3. recording {count:,} events through spend_record, batches of {BATCH:,} ...")
        now = timezone.now()
        events = [
            SpendEventInput(
                campaign_id=self.rng.choice(self.campaign_ids),
                amount="0.01",
                occurred_at=now - timedelta(seconds=self.rng.randint(0, 3600)),
                source=self.source,
                external_id=f"n{number}",
            )
            for number in range(count)
        ]
        batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
        spend_record(events=batches[0], at=timezone.now(), actor="bench")  # warm-up
        started = time.perf_counter()
        for batch in batches[1:]:
            result = spend_record(events=batch, at=timezone.now(), actor="bench")
            if result.accepted != len(batch):
                raise LedgerBenchError(f"a batch was not fully accepted: {result.as_dict()}")
        seconds = time.perf_counter() - started
        rate = (count - len(batches[0])) / seconds if seconds else 0.0
        self.figure("ingestion, batches of 1,000, 1 process", f"{rate:,.0f} events/s")

    def verify(self) -> None:
        self.say("4. verify_totals of the current month (the nightly window) ...")
        at = timezone.now()
        since = at.date().replace(day=1)
        started = time.perf_counter()
        result = totals_verify(at=at, since=since, actor="bench")
        seconds = time.perf_counter() - started
        checked = f"{result.checked.get('campaign', 0):,} campaign + "
        checked += f"{result.checked.get('brand', 0):,} brand totals"
        self.figure("verify_totals, current month", f"{seconds:.2f} s for {checked}")
        if result.differences:
            raise LedgerBenchError(
                f"verify_totals found {len(result.differences)} differences, e.g. "
                f"{result.differences[0].describe()}"
            )
        self.figure("verify_totals differences", "0")

    def cleanup(self) -> None:
        if self.options.keep:
            self.say(f"kept the data: brands named {self.prefix!r}, source {self.source!r}")
            return
        self.say("removing the bench data ...")
        remove_bench_data(self.prefix, key_source=self.source)
