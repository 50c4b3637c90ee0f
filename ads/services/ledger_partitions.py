"""The ledger's monthly partitions on PostgreSQL: created ahead, and archived past retention.

``ads_spendevent`` is ``PARTITION BY RANGE (local_date)`` (migration 0017), one partition per
brand-local month (``ads_spendevent_y2026m06``) and a DEFAULT partition that catches a row
no month partition takes (it should stay empty: ``doctor`` reports it otherwise). The daily
job creates every month from the oldest an event may still be dated (``MAX_SPEND_AGE``) to
``ahead`` months past the current one, and moves any rows the DEFAULT partition caught into
their month's new partition. Archiving detaches months older than the retention into the
``ads_archive`` schema, with their idempotency keys deleted and a ``LedgerArchive`` row that
``verify_totals`` reads to skip them. SQLite keeps one plain table: both say there is
nothing to do there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from ads.core.money import from_micros
from ads.models import LedgerArchive
from ads.models.ledger_guard import ledger_maintenance
from ads.services.job_runs import JobFigures
from ads.services.spend_events import MAX_SPEND_AGE

PARENT = "ads_spendevent"
DEFAULT_PARTITION = "ads_spendevent_default"
ARCHIVE_SCHEMA = "ads_archive"
DEFAULT_AHEAD = 3
# DDL on the ledger takes a lock that queues every insert behind it; waiting longer than
# this for a long statement to finish fails the job (it retries tomorrow, or by hand).
LOCK_TIMEOUT = "10s"


class ArchiveRefused(Exception):
    """The months asked for may not be archived (too recent, or not PostgreSQL)."""


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_y{month.year:04d}m{month.month:02d}"


def min_days_in_months(count: int) -> int:
    """The fewest days any ``count`` consecutive calendar months hold (over a 400-year
    cycle's month patterns: a leap February and each starting month)."""
    fewest = None
    for year in (2023, 2024):  # a common and a leap year cover every pattern
        for month in range(1, 13):
            start = date(year, month, 1)
            days = (add_months(start, count) - start).days
            fewest = days if fewest is None else min(fewest, days)
    return fewest or 0


def check_retention(months: int) -> None:
    """Refuse a retention under which an event still accepted (up to MAX_SPEND_AGE old)
    could be dated in an archived month: archived months must be older than any date
    ingestion accepts, so the age refusal also covers them. A day's margin for time zones."""
    if months < 2 or min_days_in_months(months) <= MAX_SPEND_AGE.days + 1:
        needed = next(n for n in range(2, 100) if min_days_in_months(n) > MAX_SPEND_AGE.days + 1)
        raise ImproperlyConfigured(
            f"LEDGER_RETENTION_MONTHS={months} is too short: events up to "
            f"{MAX_SPEND_AGE.days} days old are accepted, so months younger than that must "
            f"stay in the ledger; use at least {needed}."
        )


def is_partitioned(cursor: CursorWrapper) -> bool:
    if cursor.db.vendor != "postgresql":
        return False
    cursor.execute(
        "SELECT EXISTS (SELECT FROM pg_partitioned_table WHERE partrelid = to_regclass(%s))",
        [PARENT],
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def attached_months(cursor: CursorWrapper) -> dict[date, str]:
    """The month partitions attached to the ledger, by first day (not the DEFAULT one)."""
    cursor.execute(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = %s::regclass""",
        [PARENT],
    )
    found: dict[date, str] = {}
    for (name,) in cursor.fetchall():
        suffix = name.removeprefix(f"{PARENT}_")
        if suffix.startswith("y") and len(suffix) == 8:
            found[date(int(suffix[1:5]), int(suffix[6:8]), 1)] = name
    return found


def default_months(cursor: CursorWrapper) -> dict[date, int]:
    """Rows the DEFAULT partition holds, per month (normally none: an index-free scan of an
    empty table)."""
    cursor.execute(f"""SELECT CAST(date_trunc('month', local_date) AS date), count(*)
        FROM {DEFAULT_PARTITION} GROUP BY 1""")
    return {row[0]: int(row[1]) for row in cursor.fetchall()}


def create_partition(cursor: CursorWrapper, month: date) -> int:
    """Create ``month``'s partition; return how many rows it took over from the DEFAULT
    partition. PostgreSQL refuses to create a partition for rows the DEFAULT partition
    holds, so those are moved: a standalone table is filled from them, then attached (the
    move deletes ledger rows, hence ``ledger_maintenance``). Helper: inside a transaction."""
    name, upper = partition_name(month), add_months(month, 1)
    bounds = f"FROM ('{month.isoformat()}') TO ('{upper.isoformat()}')"
    cursor.execute(
        f"SELECT count(*) FROM {DEFAULT_PARTITION} WHERE local_date >= %s AND local_date < %s",
        [month, upper],
    )
    row = cursor.fetchone()
    stray = int(row[0]) if row else 0
    if not stray:
        cursor.execute(f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES {bounds}")
        return 0
    cursor.execute(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    with ledger_maintenance():
        cursor.execute(
            f"""WITH moved AS (
                DELETE FROM {DEFAULT_PARTITION} WHERE local_date >= %s AND local_date < %s
                RETURNING *)
            INSERT INTO {name} SELECT * FROM moved""",
            [month, upper],
        )
    # Attaching clones the parent's indexes, foreign key and row triggers onto it.
    cursor.execute(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES {bounds}")
    return stray


def create_default_partition(cursor: CursorWrapper) -> None:
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {DEFAULT_PARTITION} PARTITION OF {PARENT} DEFAULT")


def archive_boundary() -> date | None:
    """The first month still attached after the archived ones (None: nothing archived).
    Months before it have no ledger rows to check totals against."""
    newest = LedgerArchive.objects.order_by("-month").values_list("month", flat=True).first()
    return None if newest is None else add_months(newest, 1)


@dataclass
class PartitionsResult:
    partitioned: bool
    created: list[str] = field(default_factory=list)
    existing: int = 0
    moved_from_default: int = 0
    dry_run: bool = False

    def line(self) -> str:
        if not self.partitioned:
            return "ledger_partitions: the ledger is not partitioned (SQLite): nothing to do."
        verb = "would create" if self.dry_run else "created"
        created = ", ".join(self.created) if self.created else "none"
        return (
            f"ledger_partitions: {verb} {len(self.created)} ({created}); "
            f"{self.existing} already there; {self.moved_from_default} rows moved out of "
            "the DEFAULT partition."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "partitioned": self.partitioned,
            "created": self.created,
            "existing": self.existing,
            "moved_from_default": self.moved_from_default,
        }


def months_wanted(at: datetime, ahead: int) -> list[date]:
    """From the month of the oldest date an event may carry (a day's margin for zones) to
    ``ahead`` months after ``at``'s."""
    first = month_start((at - MAX_SPEND_AGE - timedelta(days=1)).date())
    last = add_months(month_start(at.date()), ahead)
    months = [first]
    while months[-1] < last:
        months.append(add_months(months[-1], 1))
    return months


def partitions_ensure(
    *, at: datetime, ahead: int = DEFAULT_AHEAD, dry_run: bool = False
) -> PartitionsResult:
    """Create the ledger's missing month partitions (and the DEFAULT one), and move rows the
    DEFAULT partition caught into their month. Safe to run twice: the second run finds
    every partition there and creates nothing."""
    if ahead < 1:
        raise ValueError("ahead must be at least 1 (next month's partition must exist)")
    with transaction.atomic(), connection.cursor() as cursor:
        if not is_partitioned(cursor):
            return PartitionsResult(partitioned=False)
        result = PartitionsResult(partitioned=True, dry_run=dry_run)
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        create_default_partition(cursor)
        boundary = archive_boundary()
        attached = attached_months(cursor)
        wanted = set(months_wanted(at, ahead)) | set(default_months(cursor))
        if boundary is not None:
            # An archived month is not recreated: ingestion refuses its dates.
            wanted = {month for month in wanted if month >= boundary}
        result.existing = len(wanted & set(attached))
        for month in sorted(wanted - set(attached)):
            result.created.append(partition_name(month))
            if not dry_run:
                result.moved_from_default += create_partition(cursor, month)
        return result


@dataclass
class ArchivedMonth:
    month: date
    table: str
    rows: int
    micros: int


@dataclass
class ArchiveResult:
    older_than: date
    months: list[ArchivedMonth] = field(default_factory=list)
    dry_run: bool = False

    def line(self) -> str:
        verb = "would archive" if self.dry_run else "archived"
        if not self.months:
            return f"ledger_archive: no attached month before {self.older_than:%Y-%m}."
        parts = ", ".join(
            f"{m.month:%Y-%m} ({m.rows} rows, {from_micros(m.micros)}) -> {m.table}"
            for m in self.months
        )
        return f"ledger_archive: {verb} {len(self.months)}: {parts}."


def _months_before(month: date, count: int) -> date:
    return add_months(month, -count)


def ledger_archive(
    *, at: datetime, older_than_months: int, dry_run: bool = False, actor: str
) -> ArchiveResult:
    """Detach every month partition older than ``older_than_months`` months before ``at``'s
    month into the ``ads_archive`` schema (recoverable: move it back and attach it), delete
    its idempotency keys, and record it in ``LedgerArchive``. One transaction per month.
    Refuses fewer months than LEDGER_RETENTION_MONTHS (never the current or previous month).
    Safe to run twice: an archived month is no longer attached, so it is not found again."""
    retention = settings.LEDGER_RETENTION_MONTHS
    if older_than_months < retention:
        raise ArchiveRefused(
            f"--older-than-months {older_than_months} is newer than the retention "
            f"(LEDGER_RETENTION_MONTHS={retention}); months that recent stay in the ledger"
        )
    cutoff = _months_before(month_start(at.date()), older_than_months)
    result = ArchiveResult(older_than=cutoff, dry_run=dry_run)
    with connection.cursor() as cursor:
        if not is_partitioned(cursor):
            raise ArchiveRefused("the ledger is not partitioned (SQLite): nothing to archive")
        months = sorted(month for month in attached_months(cursor) if month < cutoff)
    for month in months:
        result.months.append(_archive_month(month, at=at, dry_run=dry_run, actor=actor))
    return result


def _archive_month(month: date, *, at: datetime, dry_run: bool, actor: str) -> ArchivedMonth:
    name = partition_name(month)
    upper = add_months(month, 1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(f"SELECT count(*), COALESCE(SUM(amount), 0) FROM {name}")
        row = cursor.fetchone()
        rows, micros = (int(row[0]), int(row[1])) if row else (0, 0)
        archived = ArchivedMonth(month, f"{ARCHIVE_SCHEMA}.{name}", rows, micros)
        if dry_run:
            return archived
        with ledger_maintenance():
            # The keys first: this is the long part, and it does not lock the ledger; the
            # DETACH below holds the parent's lock only until this transaction commits.
            cursor.execute(
                "DELETE FROM ads_spendeventkey WHERE local_date >= %s AND local_date < %s",
                [month, upper],
            )
            cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {name}")
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}")
            cursor.execute(f"ALTER TABLE {name} SET SCHEMA {ARCHIVE_SCHEMA}")
        LedgerArchive.objects.create(
            month=month,
            table=archived.table,
            rows=rows,
            amount=from_micros(micros),
            archived_at=at,
            actor=actor,
        )
        return archived


def partitions_figures(result: PartitionsResult) -> JobFigures:
    return JobFigures(detail=result.as_dict())
