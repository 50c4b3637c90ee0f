"""Platform daily totals at the service level: latest report wins, history kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum

from ads.models import CampaignPeriodSpend, ReportedDailyTotal, SpendEvent, SpendKind
from ads.services.daily_totals import TotalStatus, daily_totals_ingest
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def report(campaign_id: int, total: str, reported_at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "campaign": campaign_id,
        "date": "2026-06-10",
        "total": total,
        "reported_at": reported_at.isoformat(),
        "source": "google-ads",
        **extra,
    }


def day_total(campaign_id: int) -> Decimal:
    return CampaignPeriodSpend.objects.get(
        campaign_id=campaign_id, period="day", period_start=date(2026, 6, 10)
    ).amount


def test_restatements_up_down_and_out_of_order() -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    spend(campaign, "30", at=NOON - timedelta(hours=2), source="google-ads")
    spend(campaign, "5", at=NOON - timedelta(hours=2), source="other")
    t1, t2, t3 = (NOON - timedelta(minutes=m) for m in (30, 20, 10))

    up = daily_totals_ingest(items=[report(campaign.pk, "50", t2)], at=NOON)
    older = daily_totals_ingest(items=[report(campaign.pk, "999", t1)], at=NOON)
    down = daily_totals_ingest(items=[report(campaign.pk, "20.5", t3)], at=NOON)
    again = daily_totals_ingest(items=[report(campaign.pk, "20.5", t3)], at=NOON)

    assert [o.adjustment for o in up.outcomes] == [Decimal("20.00")]
    assert older.outcomes[0].status == TotalStatus.STALE
    assert down.outcomes[0].status == TotalStatus.APPLIED
    assert down.outcomes[0].adjustment == Decimal("-29.50")
    assert again.outcomes[0].status == TotalStatus.STALE
    # The other source's 5 is untouched: the day is 20.5 (reported) + 5.
    assert day_total(campaign.pk) == Decimal("25.50")
    adjustments = SpendEvent.objects.filter(kind=SpendKind.ADJUSTMENT).order_by("id")
    assert [a.amount for a in adjustments] == [Decimal("20.00"), Decimal("-29.50")]
    stored = ReportedDailyTotal.objects.get()
    assert (stored.total, stored.reported_at) == (Decimal("20.50"), t3)


def test_a_newer_report_with_the_same_total_changes_no_money() -> None:
    campaign = make_campaign(make_brand())
    daily_totals_ingest(items=[report(campaign.pk, "10", NOON - timedelta(hours=1))], at=NOON)
    result = daily_totals_ingest(items=[report(campaign.pk, "10", NOON)], at=NOON)
    assert result.outcomes[0].status == TotalStatus.UNCHANGED
    assert SpendEvent.objects.count() == 1
    assert ReportedDailyTotal.objects.get().reported_at == NOON


def test_within_one_batch_the_latest_report_wins_whatever_the_order() -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    late, early = NOON - timedelta(minutes=1), NOON - timedelta(minutes=9)

    result = daily_totals_ingest(
        items=[report(campaign.pk, "70", late), report(campaign.pk, "40", early)], at=NOON
    )

    assert [o.status for o in result.outcomes] == [TotalStatus.APPLIED, TotalStatus.APPLIED]
    assert day_total(campaign.pk) == Decimal("70.00")
    assert SpendEvent.objects.aggregate(total=Sum("amount"))["total"] == Decimal("70.00")


def test_a_restatement_down_resumes_a_campaign_paused_for_the_budget() -> None:
    campaign = make_campaign(make_brand(daily="100", monthly="10000"))
    daily_totals_ingest(items=[report(campaign.pk, "120", NOON - timedelta(hours=1))], at=NOON)
    assert state(campaign) == ("paused", "brand_daily_budget")

    result = daily_totals_ingest(items=[report(campaign.pk, "80", NOON)], at=NOON)

    assert state(campaign) == ("running", None)
    assert [t.kind for t in result.transitions] == ["resumed"]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"date": "2026-06-11"}, "has not begun yet"),
        ({"date": "10/06/2026"}, "is not a date"),
        ({"date": "2025-05-05"}, "more than 400 days ago"),
        ({"date": "0001-01-01"}, "more than 400 days ago"),
        ({"total": "-1"}, "must not be negative"),
        ({"total": "1.1234567"}, "total '1.1234567' has more than 6 decimal places"),
        ({"reported_at": "2026-06-10T12:00:00"}, "no time zone offset"),
        ({"reported_at": "2026-06-10T12:06:00+00:00"}, "in the future"),
        ({"reported_at": "2026-06-09T23:59:00+00:00"}, "before 2026-06-10 began"),
        ({"currency": "EUR"}, "does not match the brand's currency 'USD'"),
        ({"campaign": 999999}, "unknown campaign 999999"),
        ({"source": ""}, "source: String should have at least 1 character"),
    ],
)
def test_bad_reports_are_rejected_and_change_nothing(
    overrides: dict[str, Any], reason: str
) -> None:
    campaign = make_campaign(make_brand())
    item = report(campaign.pk, "10", NOON) | overrides

    result = daily_totals_ingest(items=[item], at=NOON)

    outcome = result.outcomes[0]
    assert outcome.status == TotalStatus.REJECTED
    assert outcome.reason is not None and reason in outcome.reason
    assert not SpendEvent.objects.exists() and not ReportedDailyTotal.objects.exists()


def test_the_adjustment_is_dated_inside_the_brand_local_day() -> None:
    tokyo = make_campaign(make_brand(timezone="Asia/Tokyo", daily="1000", monthly="10000"))
    # Reported the next morning in Tokyo: the adjustment lands on the day's last microsecond.
    daily_totals_ingest(
        items=[report(tokyo.pk, "15", datetime(2026, 6, 11, 1, 0, tzinfo=UTC))],
        at=datetime(2026, 6, 11, 1, 0, tzinfo=UTC),
    )
    adjustment = SpendEvent.objects.get()
    assert adjustment.local_date == date(2026, 6, 10)
    assert adjustment.occurred_at == datetime(2026, 6, 10, 14, 59, 59, 999999, tzinfo=UTC)
