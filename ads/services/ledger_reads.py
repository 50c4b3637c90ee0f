"""Reading the ledger by key: which keys are recorded, and what the ledger holds under
them (the resend checks of ``ads.services.spend_events``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from ads.core.sql import as_aware, rows_cte

# (source, external_id, kind): the ledger's unique key, the primary key of ads_spendeventkey
# (a table of its own: the ledger is partitioned by month). The kind is part of it so that
# rows the system writes (adjustments, corrections) can never collide with a client's event
# id.
LedgerKey = tuple[str, str, str]


@dataclass(frozen=True)
class Recorded:
    """What the ledger holds (or this batch inserted) under an event key."""

    campaign_id: int
    micros: int
    occurred_at: datetime


def _recorded_rows(
    keys: Sequence[LedgerKey], columns: str, *, events: bool
) -> list[tuple[Any, ...]]:
    """The recorded keys among ``keys`` (``sk``), with their ledger rows (``e``: by id and
    date, one partition's primary key) if ``events``."""
    if not keys:
        return []
    cte, params = rows_cte(
        "k", (("source", "text"), ("external_id", "text"), ("kind", "text")), keys
    )
    join = (
        " JOIN ads_spendevent e ON e.id = sk.event_id AND e.local_date = sk.local_date"
        if events
        else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte} SELECT {columns} FROM ads_spendeventkey sk
            JOIN k ON k.source = sk.source AND k.external_id = sk.external_id
                AND k.kind = sk.kind{join}""",
            params,
        )
        return list(cursor.fetchall())


def recorded_keys(keys: Sequence[LedgerKey]) -> list[LedgerKey]:
    """Which of these keys the ledger already holds, in one query."""
    return [
        (row[0], row[1], row[2])
        for row in _recorded_rows(keys, "sk.source, sk.external_id, sk.kind", events=False)
    ]


def recorded_events(keys: Sequence[LedgerKey]) -> dict[LedgerKey, Recorded]:
    """What the ledger holds under these keys, in one query (none: no query)."""
    rows = _recorded_rows(
        keys,
        "sk.source, sk.external_id, sk.kind, e.campaign_id, e.amount, e.occurred_at",
        events=True,
    )
    return {
        (source, external_id, kind): Recorded(campaign_id, int(amount), as_aware(occurred_at))
        for source, external_id, kind, campaign_id, amount, occurred_at in rows
    }
