"""Transactions at the entry points, and retrying what the database refused only because of
concurrency.

A task or command owns the transactions of the work it starts. Its service may be one unit
of work (``outermost``: Django's durable atomic block) or commit as it goes: a job run's row
before its work, an outbox's claims before their sends, the single-event statement before
its pause (``entry_point``). Either way it must not start inside someone else's transaction,
where its commits would silently become savepoints: nothing would be durable until, and
unless, the caller commits, and an outbox claim would hold its row locks across the
network. Services called by other services or by the admin's forms (which Django wraps in a
transaction of its own) keep plain ``transaction.atomic()`` blocks, which nest.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection, transaction
from django.db.transaction import Atomic

logger = logging.getLogger(__name__)

# PostgreSQL reports a deadlock or serialization failure with these; both are retried.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
_MAX_ATTEMPTS = 5


_T = TypeVar("_T")
_P = ParamSpec("_P")


def outermost() -> Atomic:
    """The entry point's own transaction, for a service that is one unit of work: refused
    (RuntimeError) inside another transaction."""
    return transaction.atomic(durable=True)


def require_no_transaction(what: str) -> None:
    """Refuse to start ``what`` inside a transaction (see the module's docstring)."""
    # Django's test cases run each test inside transactions of their own, marked so; a
    # durable block is allowed inside those, and so is this.
    if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        raise RuntimeError(
            f"{what} must not run inside a transaction: it commits as it goes; call it "
            "outside transaction.atomic()"
        )


def entry_point(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """A task's or command's function, refused inside someone else's transaction."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        require_no_transaction(function.__qualname__)
        return function(*args, **kwargs)

    return wrapper


def run_with_retry(work: Callable[[], _T]) -> _T:
    """Run ``work`` (which owns its transaction), retrying PostgreSQL deadlocks and
    serialization failures so they never reach the caller."""
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            return work()
        except OperationalError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if sqlstate not in _RETRYABLE_SQLSTATES or attempt == _MAX_ATTEMPTS:
                raise
            logger.warning(
                "retrying after %s (attempt %s)", sqlstate, attempt, extra={"sqlstate": sqlstate}
            )
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")
