"""Moving campaigns set-based: the audit row's snapshot, the returned transitions and the
log lines, as one statement builds them on PostgreSQL and the simpler path on SQLite."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from ads.core.money import MAX_TOTAL_MICROS, money_text
from ads.models import Brand, CampaignStatusChange, PauseReason, Trigger
from ads.services import moves
from ads.services import reconcile as engine
from ads.services.reconcile import reconcile
from ads.services.rule import Scope, evaluate
from tests.factories import make_brand, make_campaign, make_schedule, spend, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
MONEY_KEYS = (
    "brand_day_spend",
    "brand_daily_budget",
    "brand_month_spend",
    "brand_monthly_budget",
    "campaign_day_spend",
    "campaign_daily_budget",
    "campaign_month_spend",
    "campaign_monthly_budget",
)


def test_snapshot_amounts_are_written_exactly_as_money_text() -> None:
    brand = make_brand(daily="12.5", monthly="1000.000001")
    capped = make_campaign(brand, daily="3", monthly="999.9")
    plain = make_campaign(brand)
    spend(capped, "0.000001", at=NOON)
    # Lower the budget behind the engine's back, so the sweep (not ingestion) moves both.
    Brand.objects.filter(pk=brand.pk).update(daily_budget="0.000001")

    result = reconcile(at=NOON, trigger=Trigger.CHECK_BUDGET)

    assert {t.campaign_id for t in result.transitions} == {capped.pk, plain.pk}
    seen = {row["campaign_id"]: row for row in evaluate(at=NOON, scope=Scope((brand.pk,)))}
    for change in CampaignStatusChange.objects.filter(trigger=Trigger.CHECK_BUDGET):
        row = seen[change.campaign_id]
        expected = {key: None if row[key] is None else str(row[key]) for key in MONEY_KEYS}
        assert {key: change.snapshot[key] for key in MONEY_KEYS} == expected
        assert change.snapshot["timezone"] == "UTC"
        assert change.snapshot["local_time"] == "2026-06-10T12:00:00+00:00"
        assert change.snapshot["schedule_open"] is None
    assert CampaignStatusChange.objects.get(campaign=capped).snapshot["brand_day_spend"] == (
        "0.000001"
    )
    snapshot = CampaignStatusChange.objects.get(campaign=plain).snapshot
    assert snapshot["brand_daily_budget"] == "0.000001"
    assert snapshot["brand_monthly_budget"] == "1000.000001"
    assert snapshot["campaign_daily_budget"] is None
    capped_snapshot = CampaignStatusChange.objects.get(campaign=capped).snapshot
    assert capped_snapshot["campaign_daily_budget"] == "3.00"
    assert capped_snapshot["campaign_monthly_budget"] == "999.90"


def test_transitions_carry_the_figures_behind_the_reason_given_or_lifted() -> None:
    brand = make_brand(daily="100", monthly="1000")
    campaign = make_campaign(brand)

    paused = spend(campaign, "100", at=NOON).transitions
    resumed = reconcile(at=NOON + timedelta(days=1), trigger=Trigger.RESET_SPEND_DAILY).transitions

    assert [(t.kind, t.to_reason, t.spend, t.limit) for t in paused] == [
        ("paused", PauseReason.BRAND_DAILY_BUDGET, "100.00", "100.00")
    ]
    # On a resume, the figures of the reason lifted, as they stood when it was lifted.
    assert [(t.kind, t.from_reason, t.spend, t.limit) for t in resumed] == [
        ("resumed", PauseReason.BRAND_DAILY_BUDGET, "0.00", "100.00")
    ]


def test_schedule_transitions_write_whether_the_schedule_was_open() -> None:
    closed = make_schedule((0, "01:00", "02:00"))
    campaign = make_campaign(make_brand(), schedule=closed)

    reconcile(at=NOON, trigger=Trigger.ENFORCE_DAYPARTING)

    assert state(campaign) == ("paused", PauseReason.OUTSIDE_SCHEDULE)
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert change.snapshot["schedule_open"] is False
    assert (change.from_status, change.to_status, change.reason) == (
        "running",
        "paused",
        PauseReason.OUTSIDE_SCHEDULE,
    )


def test_a_large_move_logs_one_summary_line_and_keeps_every_audit_row(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "DETAILED_LOG_LINES", 2)
    brand = make_brand()
    campaigns = [make_campaign(brand, enabled=False) for _ in range(3)]

    with caplog.at_level(logging.INFO, logger="ads.services.reconcile"):
        result = reconcile(at=NOON, trigger=Trigger.CHECK_BUDGET)

    assert len(result.transitions) == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "ads.services.reconcile"]
    assert lines == ["3 campaigns moved (check_budget): 3 paused, 0 resumed, 0 changed reason"]
    assert CampaignStatusChange.objects.filter(campaign__in=campaigns).count() == 3


def test_a_small_move_logs_one_line_per_transition(caplog: pytest.LogCaptureFixture) -> None:
    brand = make_brand()
    campaigns = [make_campaign(brand, enabled=False) for _ in range(2)]

    with caplog.at_level(logging.INFO, logger="ads.services.reconcile"):
        reconcile(at=NOON, trigger=Trigger.CHECK_BUDGET)

    records = [r for r in caplog.records if r.name == "ads.services.reconcile"]
    assert sorted(getattr(r, "campaign_id") for r in records) == [c.pk for c in campaigns]
    assert {r.getMessage().split(":")[1].strip() for r in records} == {
        "running -> manual (check_budget)"
    }


@pytest.mark.postgres
def test_money_text_in_sql_matches_python_for_every_shape_of_amount() -> None:
    values = [0, 1, 10, 100_000, 1_000_000, 1_500_000, 12_340_000, 123_456_789, 999_999]
    values += [-v for v in values] + [MAX_TOTAL_MICROS, -MAX_TOTAL_MICROS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT x, {moves.money_sql('x')} FROM unnest(%s::bigint[]) x",
            [values],
        )
        rows = cursor.fetchall()
    assert {x: text for x, text in rows} == {x: money_text(x) for x in values}
