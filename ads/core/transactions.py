"""Transactions: retrying what the database refused only because of concurrency."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError

logger = logging.getLogger(__name__)

# PostgreSQL reports a deadlock or serialization failure with these; both are retried.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
_MAX_ATTEMPTS = 5


_T = TypeVar("_T")


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
