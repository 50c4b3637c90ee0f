"""verify_totals at the service level: the totals against the ledger, and the repair."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from ads.core.money import to_micros
from ads.models import (
    BrandPeriodSpend,
    Campaign,
    CampaignPeriodSpend,
    CampaignStatusChange,
    PauseReason,
    SpendEvent,
)
from ads.services.daily_totals import daily_totals_ingest
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput
from ads.services.sweeps import budget_check
from ads.services.verify import Difference, recent_periods_start, totals_verify
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
JUNE_10, JUNE_1 = date(2026, 6, 10), date(2026, 6, 1)


def execute(sql: str, *params: int | str) -> None:
    """Drift made by hand, as a careless operator or a bug would: straight SQL on the
    totals tables (never on the ledger)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))


def micros(amount: str) -> int:
    return to_micros(Decimal(amount))


def ingest_a_mix() -> tuple[Campaign, Campaign, Campaign]:
    """Spend through the services: two zones, a month boundary, late events, a restated
    day (an adjustment down) and a duplicate."""
    utc = make_brand(daily="1000", monthly="10000")
    tokyo = make_brand(timezone="Asia/Tokyo", daily="1000", monthly="10000", currency="JPY")
    a, b, t = make_campaign(utc), make_campaign(utc), make_campaign(tokyo)
    spend(a, "12.50", at=NOON, event_id="a1")
    spend(a, "12.50", at=NOON, event_id="a1")  # duplicate: counted once
    spend(a, "3.333333", at=NOON, occurred_at=NOON - timedelta(days=10), event_id="a2")
    spend(b, "7", at=NOON, occurred_at=NOON - timedelta(days=1))
    # 2026-05-31 23:30 UTC is already 1 June in Tokyo.
    spend(t, "100", at=NOON, occurred_at=datetime(2026, 5, 31, 23, 30, tzinfo=UTC))
    spend(t, "50", at=NOON, occurred_at=datetime(2026, 5, 31, 12, 0, tzinfo=UTC))
    daily_totals_ingest(
        items=[
            {
                "campaign": a.pk,
                "date": "2026-06-10",
                "total": "10",
                "reported_at": NOON.isoformat(),
                "source": "test",
            }
        ],
        at=NOON,
    )
    return a, b, t


def test_no_drift_after_ingestion_through_the_services() -> None:
    a, _, t = ingest_a_mix()

    result = totals_verify(at=NOON)

    assert result.differences == []
    assert not result.unresolved
    # a, t: 2 days in 2 months each; b: 1 day. Brands: UTC 3 days in 2 months, Tokyo 2 + 2.
    assert result.checked == {"campaign": 10, "brand": 9, "shared_budget": 0, "flight": 0}
    # The restatement really lowered the day, and the check agreed with that.
    day = CampaignPeriodSpend.objects.get(campaign=a, period="day", period_start=JUNE_10)
    assert day.amount == Decimal("10.00")
    tokyo_june = CampaignPeriodSpend.objects.get(campaign=t, period="month", period_start=JUNE_1)
    assert tokyo_june.amount == Decimal("100.00")


@pytest.mark.drift
def test_a_drifted_total_is_reported_with_its_figures() -> None:
    a, _, _ = ingest_a_mix()
    execute(
        "UPDATE ads_campaignperiodspend SET amount = %s WHERE campaign_id = %s "
        "AND period = 'month' AND period_start = %s",
        micros("1.25"),
        a.pk,
        "2026-06-01",
    )

    result = totals_verify(at=NOON)

    assert result.differences == [
        Difference(
            owner_kind="campaign",
            owner_id=a.pk,
            brand_id=a.brand_id,
            period="month",
            period_start=JUNE_1,
            stored=micros("1.25"),
            ledger=micros("10"),
        )
    ]
    assert result.unresolved
    assert result.differences[0].as_dict()["difference"] == "+8.75"
    assert result.differences[0].describe() == (
        f"campaign {a.pk} (brand {a.brand_id}) month 2026-06-01: stored 1.25, "
        "ledger 10.00, difference +8.75"
    )
    # Only reported: nothing was written.
    month = CampaignPeriodSpend.objects.get(campaign=a, period="month", period_start=JUNE_1)
    assert month.amount == Decimal("1.25")


def test_a_missing_total_and_an_orphan_total_are_differences_and_fix_repairs_both() -> None:
    a, b, _ = ingest_a_mix()
    execute(
        "DELETE FROM ads_campaignperiodspend WHERE campaign_id = %s AND period = 'day' "
        "AND period_start = %s",
        b.pk,
        "2026-06-09",
    )
    execute(
        "INSERT INTO ads_brandperiodspend (brand_id, period, period_start, amount) "
        "VALUES (%s, 'day', %s, %s)",
        a.brand_id,
        "2026-06-05",
        micros("4"),
    )

    found = totals_verify(at=NOON)
    fixed = totals_verify(at=NOON, fix=True)
    after = totals_verify(at=NOON)

    assert [
        (d.owner_kind, d.owner_id, d.period_start, d.stored, d.ledger) for d in found.differences
    ] == [
        ("brand", a.brand_id, date(2026, 6, 5), micros("4"), None),
        ("campaign", b.pk, date(2026, 6, 9), None, micros("7")),
    ]
    assert found.differences[0].difference == -micros("4")
    assert (fixed.repaired, fixed.brands_repaired) == (2, (a.brand_id,))
    assert after.differences == []
    # The orphan is deleted (ingestion never makes a total without ledger rows), and the
    # missing row is back with the ledger's sum.
    assert not BrandPeriodSpend.objects.filter(period_start=date(2026, 6, 5)).exists()
    restored = CampaignPeriodSpend.objects.get(campaign=b, period="day", period_start="2026-06-09")
    assert restored.amount == Decimal("7.00")


def test_fix_restores_a_zeroed_total_and_pauses_the_campaigns_again() -> None:
    brand = make_brand(daily="6000", monthly="100000")
    campaigns = [make_campaign(brand) for _ in range(10)]
    for campaign in campaigns:
        spend(campaign, "1358.264", at=NOON)  # 13,582.64 against a 6,000 budget
    assert {state(c) for c in campaigns} == {("paused", PauseReason.BRAND_DAILY_BUDGET)}
    execute(
        "UPDATE ads_brandperiodspend SET amount = 0 WHERE brand_id = %s AND period = 'day'",
        brand.pk,
    )
    assert budget_check(at=NOON).count("resumed") == 10  # what the drift let happen

    result = totals_verify(at=NOON, fix=True, actor="test verify")
    again = budget_check(at=NOON + timedelta(minutes=15))

    assert [(d.owner_kind, d.stored, d.ledger) for d in result.differences] == [
        ("brand", 0, micros("13582.64"))
    ]
    assert not result.unresolved
    assert len(result.transitions) == 10
    assert {state(c) for c in campaigns} == {("paused", PauseReason.BRAND_DAILY_BUDGET)}
    assert again.transitions == []
    day = BrandPeriodSpend.objects.get(brand=brand, period="day")
    assert day.amount == Decimal("13582.64")
    audit = CampaignStatusChange.objects.filter(actor="test verify")
    assert audit.count() == 10 and {row.trigger for row in audit} == {"check_budget"}


def test_fix_twice_changes_nothing_the_second_time() -> None:
    a, _, t = ingest_a_mix()
    execute("UPDATE ads_campaignperiodspend SET amount = amount + 1 WHERE campaign_id = %s", t.pk)
    execute("UPDATE ads_brandperiodspend SET amount = 0 WHERE brand_id = %s", a.brand_id)
    totals_verify(at=NOON, fix=True)
    before = sorted(
        CampaignPeriodSpend.objects.values_list("campaign_id", "period_start", "amount")
    )
    audit = CampaignStatusChange.objects.count()

    second = totals_verify(at=NOON, fix=True)

    assert second.differences == [] and second.repaired == 0 and second.transitions == []
    assert (
        sorted(CampaignPeriodSpend.objects.values_list("campaign_id", "period_start", "amount"))
        == before
    )
    assert CampaignStatusChange.objects.count() == audit


@pytest.mark.drift
def test_brand_and_since_narrow_the_check() -> None:
    a, b, t = ingest_a_mix()
    # Drift in three places: a's 31 May day (before June), b's 9 June day, t's June month.
    execute(
        "UPDATE ads_campaignperiodspend SET amount = amount + 1 WHERE campaign_id = %s "
        "AND period = 'day' AND period_start = %s",
        a.pk,
        "2026-05-31",
    )
    execute(
        "UPDATE ads_campaignperiodspend SET amount = amount + 1 WHERE campaign_id = %s "
        "AND period = 'day' AND period_start = %s",
        b.pk,
        "2026-06-09",
    )
    execute(
        "UPDATE ads_campaignperiodspend SET amount = amount + 1 WHERE campaign_id = %s "
        "AND period = 'month' AND period_start = %s",
        t.pk,
        "2026-06-01",
    )

    def found(**kwargs: object) -> set[tuple[int, date]]:
        result = totals_verify(at=NOON, **kwargs)  # type: ignore[arg-type]
        return {(d.owner_id, d.period_start) for d in result.differences}

    assert found() == {
        (a.pk, date(2026, 5, 31)),
        (b.pk, JUNE_10 - timedelta(days=1)),
        (t.pk, JUNE_1),
    }
    assert found(brand_id=t.brand_id) == {(t.pk, JUNE_1)}
    # Days from 9 June; months: the one containing it (June), so May's day is out.
    assert found(since=date(2026, 6, 9)) == {(b.pk, date(2026, 6, 9)), (t.pk, JUNE_1)}
    # From 10 June: no day total of b qualifies, but June's month totals still do.
    assert found(since=JUNE_10) == {(t.pk, JUNE_1)}
    assert found(brand_id=a.brand_id, since=date(2026, 6, 9)) == {(b.pk, date(2026, 6, 9))}
    # A fix narrowed to one brand leaves the others' drift alone.
    totals_verify(at=NOON, brand_id=t.brand_id, fix=True)
    assert found() == {(a.pk, date(2026, 5, 31)), (b.pk, date(2026, 6, 9))}


def test_a_total_whose_campaign_is_gone_is_reported_and_deleted() -> None:
    ingest_a_mix()
    gone = Campaign.objects.order_by("-id").values_list("id", flat=True)[0] + 1000
    execute(
        "INSERT INTO ads_campaignperiodspend (campaign_id, period, period_start, amount) "
        "VALUES (%s, 'day', %s, %s)",
        gone,
        "2026-06-10",
        micros("9"),
    )

    found = totals_verify(at=NOON)
    fixed = totals_verify(at=NOON, fix=True)

    assert [(d.owner_id, d.brand_id, d.ledger) for d in found.differences] == [(gone, None, None)]
    assert "no brand (campaign gone)" in found.differences[0].describe()
    assert fixed.repaired == 1
    assert not CampaignPeriodSpend.objects.filter(campaign_id=gone).exists()
    assert totals_verify(at=NOON).differences == []


@pytest.mark.drift
def test_drift_is_logged_at_error_with_its_fields(caplog: pytest.LogCaptureFixture) -> None:
    a, _, _ = ingest_a_mix()
    execute("UPDATE ads_brandperiodspend SET amount = 0 WHERE brand_id = %s", a.brand_id)

    with caplog.at_level(logging.INFO, logger="ads.services.verify"):
        totals_verify(at=NOON)

    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    per_total = [r for r in errors if r.msg.startswith("period total differs")]
    assert len(per_total) == 5  # the brand's three days and two months
    fields = vars(per_total[0])
    assert (fields["owner_kind"], fields["brand_id"], fields["stored"]) == (
        "brand",
        a.brand_id,
        "0.00",
    )
    assert vars(errors[-1])["differences"] == 5


def test_no_drift_logs_one_info_line(caplog: pytest.LogCaptureFixture) -> None:
    ingest_a_mix()

    with caplog.at_level(logging.INFO, logger="ads.services.verify"):
        totals_verify(at=NOON)

    assert [r.levelno for r in caplog.records if r.name == "ads.services.verify"] == [logging.INFO]


def test_the_nightly_window_starts_at_last_month_with_a_days_margin() -> None:
    assert recent_periods_start(NOON) == date(2026, 5, 1)
    # Just after midnight UTC on the 1st, zones behind UTC are still in the old month.
    assert recent_periods_start(datetime(2026, 6, 1, 3, 15, tzinfo=UTC)) == date(2026, 4, 1)
    assert recent_periods_start(datetime(2026, 1, 15, tzinfo=UTC)) == date(2025, 12, 1)


def test_the_ledger_is_never_written() -> None:
    a, _, _ = ingest_a_mix()
    ledger = sorted(SpendEvent.objects.values_list("id", "amount", "local_date"))
    execute("UPDATE ads_campaignperiodspend SET amount = 0 WHERE campaign_id = %s", a.pk)

    totals_verify(at=NOON, fix=True)

    assert sorted(SpendEvent.objects.values_list("id", "amount", "local_date")) == ledger


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fix_during_ingestion_loses_no_spend() -> None:
    """Repairs take the brand locks: a repair racing with writers of the same brands never
    overwrites an increment (without the locks, a repair would write a stale sum)."""
    brands = [make_brand(daily="100000", monthly="1000000") for _ in range(2)]
    campaigns = [make_campaign(brand) for brand in brands for _ in range(3)]
    spend(campaigns[0], "1", at=NOON)
    errors: list[BaseException] = []

    def writer(thread: int) -> None:
        try:
            for n in range(40):
                spend_record(
                    events=[
                        SpendEventInput(
                            campaign_id=campaigns[(thread + n + k) % len(campaigns)].pk,
                            amount="0.37",
                            occurred_at=NOON,
                            source="load",
                            external_id=f"{thread}-{n}-{k}",
                        )
                        for k in range(5)
                    ],
                    at=NOON,
                )
        except BaseException as exc:  # asserted on below
            errors.append(exc)
        finally:
            connection.close()

    def fixer() -> None:
        try:
            for _ in range(15):
                # Drift again each time, so every round has a repair racing the writers.
                # (One row: a statement locking several could deadlock with a writer.)
                execute(
                    "UPDATE ads_brandperiodspend SET amount = 0 WHERE period = 'day' "
                    "AND brand_id = %s",
                    brands[0].pk,
                )
                totals_verify(at=NOON, fix=True)
        except BaseException as exc:  # asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(3)]
    threads.append(threading.Thread(target=fixer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert totals_verify(at=NOON).differences == []
    brand_days = BrandPeriodSpend.objects.filter(period="day").values_list("amount", flat=True)
    assert sum(brand_days) == Decimal("1") + 3 * 40 * 5 * Decimal("0.37")
