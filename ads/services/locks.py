"""The lock order every writer of a brand's money or campaign states follows."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from ads.services.sql import in_ids, is_postgres, lock_clause


def brands_lock(brand_ids: Iterable[int]) -> None:
    """Lock the brand rows, in id order, inside the caller's transaction.

    Spend ingestion, the reconcile and staff changes all take these locks before touching a
    brand's totals or campaign states. One fixed order means two writers never wait on each
    other in a cycle, so there are no deadlocks between them. On SQLite the IMMEDIATE
    transaction already admits one writer at a time, so there is nothing to lock.
    """
    ids = sorted(set(brand_ids))
    if not ids or not is_postgres():
        return
    clause, params = in_ids("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM ads_brand WHERE {clause} ORDER BY id{lock_clause()}", params
        )
