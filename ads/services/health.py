"""Health checks shared by ``/readyz``, ``/status`` and ``manage.py doctor``: one function per
check, each returning a ``Check`` and never raising, so one broken dependency cannot hide the
others.

``/readyz`` asks only what decides whether *this process* can serve (``readiness``): its
database and its migrations. The broker, beat and the outboxes are shared by every instance;
when they fail, every instance fails alike, and taking them all out of the load balancer
would stop ingestion too, which works without them (its side effects wait in outbox rows).
They are reported by ``/status`` (``status_report``), ``/metrics`` and ``doctor``, which
alert."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NotRequired, TypedDict

from celery import current_app
from django.conf import settings
from django.core import checks as django_checks
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from kombu import Connection

from ads.core.sql import dialect
from ads.services import ledger_partitions
from ads.services.job_runs import STALE_AFTER_INTERVALS, WATCHED_JOBS, Freshness, jobs_freshness
from ads.services.outbox_backlog import OUTBOXES, BacklogReader, OutboxStatus

# Replies from workers to a ping, and connecting to the broker, wait at most this long.
BROKER_TIMEOUT_SECONDS = 2
# The database's clock and this process's may differ by this much before it matters (job
# freshness compares times written by different machines).
MAX_CLOCK_SKEW_SECONDS = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def _guarded(name: str, probe: Callable[[], Check]) -> Check:
    try:
        return probe()
    except Exception as exc:  # a health check reports failures, it never raises them
        return Check(name, False, f"{type(exc).__name__}: {exc}".strip())


def check_configuration() -> Check:
    def probe() -> Check:
        problems = [
            message
            for message in django_checks.run_checks(include_deployment_checks=not settings.DEBUG)
            if message.level >= django_checks.ERROR
            or (not settings.DEBUG and message.level >= django_checks.WARNING)
        ]
        mode = "DEBUG on (development)" if settings.DEBUG else "DEBUG off (production)"
        if problems:
            ids = ", ".join(sorted({p.id or "?" for p in problems}))
            return Check("configuration", False, f"{mode}; system checks report {ids}")
        return Check("configuration", True, f"{mode}; system checks pass")

    return _guarded("configuration", probe)


def check_database() -> Check:
    def probe() -> Check:
        began = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        ms = (time.monotonic() - began) * 1000
        return Check("database", True, f"{connection.vendor} answered in {ms:.0f} ms")

    return _guarded("database", probe)


def check_broker() -> Check:
    def probe() -> Check:
        # A connection of its own (not the app's pool), to the URL the settings name now.
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=current_app.conf.broker_transport_options,
            connect_timeout=BROKER_TIMEOUT_SECONDS,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
            where = conn.as_uri()
        return Check("broker", True, f"reachable at {where}")

    return _guarded("broker", probe)


def check_migrations() -> Check:
    def probe() -> Check:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
            return Check("migrations", False, f"{len(plan)} not applied ({names}); run migrate")
        return Check("migrations", True, "all applied")

    return _guarded("migrations", probe)


def check_beat(*, at: datetime, jobs: tuple[str, ...] | None = None) -> list[Check]:
    try:
        freshness = jobs_freshness(at=at, jobs=jobs)
    except Exception as exc:
        return [Check("beat", False, f"{type(exc).__name__}: {exc}")]
    return [
        Check(
            f"beat {fresh.job}",
            not fresh.stale,
            fresh.describe(at) + (" - STALE: is beat running?" if fresh.stale else ""),
        )
        for fresh in freshness
    ]


def check_worker() -> Check:
    def probe() -> Check:
        replies = current_app.control.ping(timeout=BROKER_TIMEOUT_SECONDS) or []
        if not replies:
            return Check("worker", False, "no worker answered a ping; start one")
        names = sorted(name for reply in replies for name in reply)
        return Check("worker", True, f"{len(names)} answered: {', '.join(names)}")

    return _guarded("worker", probe)


def check_clock(*, at: datetime) -> Check:
    def probe() -> Check:
        if at.tzinfo is None or not settings.USE_TZ:
            return Check("clock", False, "times are not time-zone aware (USE_TZ must be True)")
        if not dialect().own_clock:
            return Check("clock", True, f"{at.isoformat()} (SQLite: the database shares it)")
        # This machine's clock read around the query itself (``at`` is when doctor began,
        # seconds earlier after the worker ping), halfway through the round trip.
        before = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            database_now = cursor.fetchone()[0]
        here = before + (timezone.now() - before) / 2
        skew = (database_now - here).total_seconds()
        ok = abs(skew) <= MAX_CLOCK_SKEW_SECONDS
        detail = f"database clock differs by {skew:+.1f}s (limit {MAX_CLOCK_SKEW_SECONDS:.0f}s)"
        return Check("clock", ok, detail + ("" if ok else "; fix NTP on one of them"))

    return _guarded("clock", probe)


def check_outboxes(*, at: datetime) -> list[Check]:
    """Each outbox's backlog, from the figures /status reports: one line per outbox."""

    def probe(figures: BacklogReader) -> Check:
        backlog = figures(at=at)
        where = "" if backlog.ok else f"; see {backlog.admin_page} in the admin"
        return Check(f"outbox {backlog.outbox}", backlog.ok, backlog.describe() + where)

    return [
        _guarded(f"outbox {name}", functools.partial(probe, figures))
        for name, figures in OUTBOXES.items()
    ]


def check_ledger_partitions(*, at: datetime) -> Check:
    """PostgreSQL: next month's ledger partition exists (the daily job creates it ahead) and
    the DEFAULT partition is empty (a row there means a month had no partition)."""

    def probe() -> Check:
        with connection.cursor() as cursor:
            if not ledger_partitions.is_partitioned(cursor):
                return Check("ledger partitions", True, "not partitioned (SQLite)")
            attached = ledger_partitions.attached_months(cursor)
            stray = sum(ledger_partitions.default_months(cursor).values())
        following = ledger_partitions.add_months(at.date().replace(day=1), 1)
        problems = []
        if following not in attached:
            problems.append(f"no partition for {following:%Y-%m} yet")
        if stray:
            problems.append(f"{stray} rows in the DEFAULT partition")
        detail = f"{len(attached)} months attached"
        if problems:
            return Check(
                "ledger partitions",
                False,
                f"{detail}; {'; '.join(problems)}: run manage.py ledger_partitions",
            )
        return Check("ledger partitions", True, f"{detail}; DEFAULT partition empty")

    return _guarded("ledger partitions", probe)


# The databases whose migrations this process found all applied. Only a positive answer is
# kept: building the plan loads the migration graph and reads django_migrations (about 4 ms
# on SQLite with 45 migrations, against 0.1 ms for the database probe, and it grows with every
# migration), while a load balancer asks every few seconds per instance. Applied migrations
# do not un-apply themselves under a running process: new migrations come with new code, so
# with a new process that checks afresh, and migrating backwards under running code is an
# operator's deliberate act that `doctor` (which never uses this) still reports. A negative
# answer is asked again on every probe, so an instance turns ready on the first probe after
# `migrate`, without a restart. (Threads racing here at worst both build the plan once.)
_migrations_applied: set[str] = set()


def check_migrations_until_applied() -> Check:
    """``check_migrations``, trusted for the process's life once it found all applied."""
    if DEFAULT_DB_ALIAS in _migrations_applied:
        return Check("migrations", True, "all applied (checked once by this process)")
    check = check_migrations()
    if check.ok:
        _migrations_applied.add(DEFAULT_DB_ALIAS)
    return check


def readiness() -> list[Check]:
    """Whether this process can serve: its database answers and has every migration its code
    expects. Nothing another process provides: a broker outage or a stopped beat is every
    instance's alike, and taking them all out of the load balancer would stop ingestion,
    which works without either (see ``status``). Safe to call any time: it only reads."""
    database = check_database()
    if not database.ok:
        return [database]
    return [database, check_migrations_until_applied()]


class CheckStatus(TypedDict):
    ok: bool
    detail: str


class JobStatus(TypedDict):
    ok: bool
    last_success: str | None
    # Seconds of silence: since the last success, or since installation if there was none
    # (what staleness is judged on, and the figure of ads_job_last_success_age_seconds).
    age_seconds: int | None
    stale_after_seconds: int


class BeatStatus(TypedDict):
    ok: bool
    jobs: dict[str, JobStatus]
    detail: NotRequired[str]


class StatusChecks(TypedDict):
    database: CheckStatus
    broker: CheckStatus
    beat: BeatStatus
    outboxes: dict[str, OutboxStatus]


class StatusReport(TypedDict):
    ok: bool
    checks: StatusChecks


def _job_status(fresh: Freshness, at: datetime) -> JobStatus:
    return {
        "ok": not fresh.stale,
        "last_success": fresh.last_success.isoformat() if fresh.last_success else None,
        "age_seconds": None if fresh.since is None else int((at - fresh.since).total_seconds()),
        "stale_after_seconds": int((fresh.interval * STALE_AFTER_INTERVALS).total_seconds()),
    }


def _beat_status(at: datetime) -> BeatStatus:
    try:
        freshness = jobs_freshness(at=at)
    except Exception as exc:
        return {"ok": False, "jobs": {}, "detail": f"{type(exc).__name__}: {exc}"}
    # The watched jobs decide, as for the admin's banner; the others are reported.
    return {
        "ok": not any(fresh.stale for fresh in freshness if fresh.job in WATCHED_JOBS),
        "jobs": {fresh.job: _job_status(fresh, at) for fresh in freshness},
    }


def _outbox_unknown(detail: str) -> OutboxStatus:
    return {
        "ok": False,
        "backlog": None,
        "oldest_due": None,
        "oldest_due_age_seconds": None,
        "failed": None,
        "detail": detail,
    }


def _outbox_status(figures: BacklogReader, at: datetime) -> OutboxStatus:
    try:
        return figures(at=at).as_dict()
    except Exception as exc:
        return _outbox_unknown(f"{type(exc).__name__}: {exc}")


def status_report(*, at: datetime) -> StatusReport:
    """What every instance shares, for /status: the database, the broker, beat's freshness
    per job and each outbox's backlog; ``ok`` when all are. Safe to call any time: it only
    reads (and opens one broker connection of its own)."""
    database = check_database()
    broker = check_broker()
    beat: BeatStatus
    if database.ok:
        beat = _beat_status(at)
        outboxes = {name: _outbox_status(figures, at) for name, figures in OUTBOXES.items()}
    else:
        # Each would wait for the database's connect timeout again, to learn nothing new.
        skipped = "not checked: the database does not answer"
        beat = {"ok": False, "jobs": {}, "detail": skipped}
        outboxes = {name: _outbox_unknown(skipped) for name in OUTBOXES}
    ok = database.ok and broker.ok and beat["ok"] and all(o["ok"] for o in outboxes.values())
    return {
        "ok": ok,
        "checks": {
            "database": {"ok": database.ok, "detail": database.detail},
            "broker": {"ok": broker.ok, "detail": broker.detail},
            "beat": beat,
            "outboxes": outboxes,
        },
    }


def doctor(*, at: datetime) -> list[Check]:
    """Everything an operator checks first, in order."""
    database = check_database()
    checks = [check_configuration(), database, check_broker()]
    if database.ok:
        checks.append(check_migrations())
        checks += check_beat(at=at)
    checks.append(check_worker())
    if database.ok:
        checks += check_outboxes(at=at)
        checks.append(check_ledger_partitions(at=at))
    checks.append(check_clock(at=at))
    return checks


__all__ = ["STALE_AFTER_INTERVALS", "Check", "StatusReport", "doctor", "readiness", "status_report"]
