"""Migration 0017 keeps the ledger's rows: from 0016 with rows, forward (keys copied; on
PostgreSQL the rows moved into month partitions) and back again."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("ads", "0016_audit_without_fk_check")]
AFTER = [("ads", "0017_ledger_partitions")]
AT = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def ledger_rows() -> list[tuple[int, str, date]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, external_id, local_date FROM ads_spendevent ORDER BY id")
        return [(row[0], row[1], row[2]) for row in cursor.fetchall()]


# Ledger rows written by the historical models, without totals: no verify_totals after it.
@pytest.mark.drift
@pytest.mark.django_db(transaction=True)
def test_migration_0017_keeps_existing_ledger_rows_both_ways() -> None:
    executor = migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    brand = apps.get_model("ads", "Brand").objects.create(
        name="Old", timezone="UTC", currency="USD", daily_budget=100, monthly_budget=1000
    )
    campaign = apps.get_model("ads", "Campaign").objects.create(brand=brand, name="Old one")
    SpendEvent = apps.get_model("ads", "SpendEvent")
    for number, day in enumerate([date(2025, 1, 5), date(2026, 3, 9), date(2026, 3, 1)]):
        SpendEvent.objects.create(
            campaign=campaign,
            amount=Decimal("1.25"),
            occurred_at=AT,
            local_date=day,
            source="old",
            external_id=f"e{number}",
            recorded_at=AT,
        )
    before = ledger_rows()

    migrate(AFTER)

    assert ledger_rows() == before
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT external_id, local_date, event_id FROM ads_spendeventkey ORDER BY event_id"
        )
        assert [tuple(row) for row in cursor.fetchall()] == before_keys(before)
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tableoid::regclass::text FROM ads_spendevent ORDER BY id",
            )
            assert [row[0] for row in cursor.fetchall()] == [
                "ads_spendevent_y2025m01",
                "ads_spendevent_y2026m03",
                "ads_spendevent_y2026m03",
            ]
            # A new row takes the next id of the same sequence.
            cursor.execute("SELECT nextval('ads_spendevent_id_seq')")
            assert cursor.fetchone()[0] > before[-1][0]

    migrate(BEFORE)  # and back: a plain table with its unique key again
    assert ledger_rows() == before
    migrate(executor.loader.graph.leaf_nodes("ads"))


def before_keys(rows: list[tuple[int, str, date]]) -> list[tuple[str, date, int]]:
    return [(external_id, day, event_id) for event_id, external_id, day in rows]
