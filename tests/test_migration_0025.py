"""Migration 0025 adds the ledger's backfill flag (false for every row already there) and
the spend sources; on SQLite the ledger's table is rebuilt for it, and its append-only
triggers are back after `migrate`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("ads", "0024_merge_scopes_underspend")]
AT = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


@pytest.mark.drift  # a ledger row written without its totals, as the old schema allowed
@pytest.mark.django_db(transaction=True)
def test_rows_already_in_the_ledger_are_not_backfills_and_stay_append_only() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    brand = apps.get_model("ads", "Brand").objects.create(
        name="Old", timezone="UTC", currency="USD", daily_budget=100, monthly_budget=1000
    )
    campaign = apps.get_model("ads", "Campaign").objects.create(brand=brand, name="Old one")
    apps.get_model("ads", "SpendEvent").objects.create(
        campaign=campaign,
        kind="event",
        amount=5,
        occurred_at=AT,
        local_date=date(2026, 3, 9),
        source="google_ads",
        external_id="old-1",
        recorded_at=AT,
    )

    call_command("migrate", "ads", verbosity=0, stdout=StringIO())

    with connection.cursor() as cursor:
        cursor.execute("SELECT external_id, backfill FROM ads_spendevent")
        assert [(row[0], bool(row[1])) for row in cursor.fetchall()] == [("old-1", False)]
        cursor.execute("SELECT COUNT(*) FROM ads_spendsource")
        assert cursor.fetchone()[0] == 0
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ads_spendevent SET backfill = %s", [True])
