"""Rebuilding the running totals of shared budgets and flights from the campaign totals
when what they cover changes (a campaign joins or leaves, a flight's dates move). The
campaign totals are kept from the ledger in the same transactions as it (``ads.services.
ledger``) and ``verify_totals`` proves them, so a rebuild from them is exact; it runs under
the brand's lock, which every writer of spend takes first. Each is one delete and one
set-based insert, whatever the number of campaigns."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from ads.core.sql import in_ids
from ads.models import SpendPeriod


def shared_totals_rebuild(shared_budget_ids: Iterable[int]) -> None:
    """Every day and month total of these shared budgets, as the sum of their campaigns'.
    Helper: inside the caller's transaction, brands locked."""
    ids = sorted(set(shared_budget_ids))
    if not ids:
        return
    clause, params = in_ids("shared_budget_id", ids)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM ads_sharedbudgetperiodspend WHERE {clause}", params)
        clause, params = in_ids("c.shared_budget_id", ids)
        cursor.execute(
            f"""INSERT INTO ads_sharedbudgetperiodspend
                (shared_budget_id, period, period_start, amount)
            SELECT c.shared_budget_id, t.period, t.period_start, SUM(t.amount)
            FROM ads_campaign c JOIN ads_campaignperiodspend t ON t.campaign_id = c.id
            WHERE {clause}
            GROUP BY c.shared_budget_id, t.period, t.period_start""",
            params,
        )


def flight_totals_rebuild(flight_ids: Iterable[int]) -> None:
    """The totals of these flights: their campaigns' day totals over the flights' dates (no
    row for a flight without spend, as the ledger's write path leaves it).
    Helper: inside the caller's transaction, brands locked."""
    ids = sorted(set(flight_ids))
    if not ids:
        return
    clause, params = in_ids("flight_id", ids)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM ads_flightspend WHERE {clause}", params)
        clause, params = in_ids("f.id", ids)
        cursor.execute(
            f"""INSERT INTO ads_flightspend (flight_id, amount)
            SELECT f.id, SUM(t.amount)
            FROM ads_flight f
            JOIN ads_flightcampaign fc ON fc.flight_id = f.id
            JOIN ads_campaignperiodspend t ON t.campaign_id = fc.campaign_id
                AND t.period = '{SpendPeriod.DAY.value}'
                AND t.period_start >= f.starts_on AND t.period_start <= f.ends_on
            WHERE {clause}
            GROUP BY f.id""",
            params,
        )
