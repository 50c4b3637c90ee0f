"""Advisory locks: a lock on a number, so that one run of a job (or of one range of a sweep)
goes at a time. On a database without them (SQLite) every call succeeds: its IMMEDIATE
transactions admit one writer at a time already, which serialises the runs as the locks
would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from ads.core.sql import dialect


def try_transaction_lock(key: int) -> bool:
    """Take ``key`` for the current transaction (released at its end, also behind PgBouncer
    in transaction mode), or say another session holds it."""
    if not dialect().advisory_locks:
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return bool(cursor.fetchone()[0])


@contextmanager
def session_lock(key: int) -> Iterator[bool]:
    """Whether this session holds ``key`` for the block: released at its end or, if the
    process dies, when its connection closes, so a killed worker never blocks the next one."""
    if not dialect().advisory_locks:
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
