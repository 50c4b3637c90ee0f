"""Writes made on the condition that what the writer last read is still what is stored
(HTTP ``If-Match``), and writes of several services that must commit together.

The version is compared and the write made in one transaction, under the brand's lock,
which every writer of a brand takes first (``ads.services.locks``): two planners who read
the same version cannot both pass the check. The services called inside keep their own
``transaction.atomic()`` blocks, which nest."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

from django.db import transaction

from ads.services.locks import brands_lock

_T = TypeVar("_T")


class PreconditionFailed(Exception):
    """What is stored is no longer the version the writer read (or is gone)."""


def brand_write(
    *,
    brand_id: int,
    write: Callable[[], _T],
    expected: Collection[str] | None = None,
    version: Callable[[], str | None] | None = None,
) -> _T:
    """Run ``write`` in one transaction under the brand's lock; with ``expected``, only if
    ``version()`` is one of those versions (``*``: any, as long as it exists), else raise
    PreconditionFailed and change nothing. As safe to run twice as ``write`` is."""
    with transaction.atomic():
        brands_lock([brand_id])
        if expected is not None:
            current = version() if version is not None else None
            if current is None or ("*" not in expected and current not in expected):
                raise PreconditionFailed(current)
        return write()
