"""Migration 0020 renames the recorded triggers of the periodic jobs to the jobs' names, and
back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("ads", "0019_alert_delivery_outbox")]
AFTER = [("ads", "0020_triggers_named_after_jobs")]
AT = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
OLD = ["spend", "budget_check", "dayparting", "daily_reset", "monthly_reset", "staff", "setup"]
NEW = [
    "spend",
    "check_budget",
    "enforce_dayparting",
    "reset_spend_daily",
    "reset_spend_monthly",
    "staff",
    "setup",
]


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def triggers() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT trigger FROM ads_campaignstatuschange ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_recorded_triggers_take_the_jobs_names_and_back() -> None:
    executor = migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    brand = apps.get_model("ads", "Brand").objects.create(
        name="Old", timezone="UTC", currency="USD", daily_budget=100, monthly_budget=1000
    )
    campaign = apps.get_model("ads", "Campaign").objects.create(brand=brand, name="Old one")
    for trigger in OLD:
        apps.get_model("ads", "CampaignStatusChange").objects.create(
            campaign=campaign,
            at=AT,
            from_status="running",
            to_status="paused",
            reason="manual",
            trigger=trigger,
            actor="system",
        )

    migrate(AFTER)
    assert triggers() == NEW
    migrate(BEFORE)
    assert triggers() == OLD
    migrate(AFTER)
    assert triggers() == NEW
    # Leave the database as the other tests expect it: every migration applied.
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes("ads"))
