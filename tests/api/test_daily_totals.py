"""POST /api/v1/spend/daily-totals: the latest report per campaign, source and day wins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from ads.models import (
    BrandPeriodSpend,
    Campaign,
    CampaignPeriodSpend,
    ReportedDailyTotal,
    SpendEvent,
    SpendKind,
)
from tests.api.helpers import NOON, ApiClient, brand_day, campaign_day, event
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db

T1, T2, T3 = (NOON - timedelta(minutes=m) for m in (30, 20, 10))


def total(campaign: Campaign, amount: str, reported_at: datetime, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "campaign": campaign.pk,
        "date": "2026-06-10",
        "total": amount,
        "reported_at": reported_at.isoformat(),
        "source": "google-ads",
    }
    return {key: value for key, value in {**body, **extra}.items() if value is not None}


def send(api: ApiClient, *totals: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/spend/daily-totals", {"totals": list(totals)})
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def adjustments(campaign: Campaign) -> list[Decimal]:
    rows = SpendEvent.objects.filter(campaign=campaign, kind=SpendKind.ADJUSTMENT).order_by("id")
    return [row.amount for row in rows]


def period_totals(campaign: Campaign) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Campaign day and month, brand day and month, for June 2026."""

    def one(model: type[CampaignPeriodSpend] | type[BrandPeriodSpend], **key: Any) -> Decimal:
        return model.objects.get(**key).amount

    day, month = date(2026, 6, 10), date(2026, 6, 1)
    return (
        one(CampaignPeriodSpend, campaign=campaign, period="day", period_start=day),
        one(CampaignPeriodSpend, campaign=campaign, period="month", period_start=month),
        one(BrandPeriodSpend, brand_id=campaign.brand_id, period="day", period_start=day),
        one(BrandPeriodSpend, brand_id=campaign.brand_id, period="month", period_start=month),
    )


def test_the_first_report_adds_the_difference_from_what_that_source_holds(
    api: ApiClient,
) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    other = make_campaign(campaign.brand)
    early = (NOON - timedelta(hours=2)).isoformat()
    yesterday = "2026-06-09T12:00:00+00:00"
    api.post(
        "/spend/events",
        {
            "events": [
                event(campaign.pk, "30", occurred_at=early),  # counts: same source and day
                event(campaign.pk, "5", occurred_at=early, source="meta"),  # another source
                event(campaign.pk, "7", occurred_at=yesterday),  # another day
                event(other.pk, "11", occurred_at=early),  # another campaign
            ]
        },
    )

    body = send(api, total(campaign, "50", T1))

    assert body == {
        "applied": 1,
        "unchanged": 0,
        "stale": 0,
        "rejected": 0,
        "results": [{"index": 0, "status": "applied", "reason": None, "adjustment": "20.00"}],
        "detail": None,
    }
    assert adjustments(campaign) == [Decimal("20.00")]
    adjustment = SpendEvent.objects.get(kind=SpendKind.ADJUSTMENT)
    assert (adjustment.source, adjustment.local_date) == ("google-ads", date(2026, 6, 10))
    # google-ads now holds the reported 50 for the day; meta's 5 is untouched.
    assert campaign_day(campaign.pk) == Decimal("55.00")
    assert campaign_day(campaign.pk, date(2026, 6, 9)) == Decimal("7.00")
    assert campaign_day(other.pk) == Decimal("11.00")


def test_restatements_up_and_down_keep_the_history_and_the_day_equals_the_report(
    api: ApiClient,
) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))

    first = send(api, total(campaign, "50", T1))
    up = send(api, total(campaign, "80.5", T2))
    down = send(api, total(campaign, "20.25", T3))

    assert [b["results"][0]["adjustment"] for b in (first, up, down)] == [
        "50.00",
        "30.50",
        "-60.25",
    ]
    assert adjustments(campaign) == [Decimal("50.00"), Decimal("30.50"), Decimal("-60.25")]
    assert period_totals(campaign) == (Decimal("20.25"),) * 4
    reported = ReportedDailyTotal.objects.get()
    assert (reported.total, reported.reported_at, reported.source) == (
        Decimal("20.25"),
        T3,
        "google-ads",
    )


def test_a_restatement_down_resumes_a_campaign_paused_for_the_daily_budget_at_once(
    api: ApiClient,
) -> None:
    campaign = make_campaign(make_brand(daily="100", monthly="1000"))
    api.post("/spend/events", {"events": [event(campaign.pk, "120", occurred_at=T1.isoformat())]})
    paused = api.get(f"/campaigns/{campaign.pk}").json()
    assert (paused["status"], paused["pause_reason"]) == ("paused", "brand_daily_budget")

    body = send(api, total(campaign, "40", T2))

    assert body["results"][0]["adjustment"] == "-80.00"
    shown = api.get(f"/campaigns/{campaign.pk}").json()
    assert (shown["status"], shown["pause_reason"]) == ("running", None)
    assert shown["budgets"][0]["spend"] == "40.00"
    assert shown["budgets"][0]["exhausted"] is False


def test_a_restatement_up_past_the_budget_pauses_at_once(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="100", monthly="1000"))

    send(api, total(campaign, "100", T1))

    shown = api.get(f"/campaigns/{campaign.pk}").json()
    assert (shown["status"], shown["pause_reason"]) == ("paused", "brand_daily_budget")


def test_an_older_report_than_the_applied_one_is_stale_and_changes_nothing(
    api: ApiClient,
) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    send(api, total(campaign, "50", T2))

    body = send(api, total(campaign, "999", T1))

    assert body == {
        "applied": 0,
        "unchanged": 0,
        "stale": 1,
        "rejected": 0,
        "results": [
            {
                "index": 0,
                "status": "stale",
                "reason": f"a report made at {T2.isoformat()} is already applied",
                "adjustment": None,
            }
        ],
        "detail": None,
    }
    assert adjustments(campaign) == [Decimal("50.00")]
    assert campaign_day(campaign.pk) == Decimal("50.00")
    reported = ReportedDailyTotal.objects.get()
    assert (reported.total, reported.reported_at) == (Decimal("50.00"), T2)


def test_the_same_report_twice_is_stale_the_second_time(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    report = total(campaign, "50", T2)

    first, second = send(api, report), send(api, report)

    assert first["results"][0]["status"] == "applied"
    assert (second["applied"], second["stale"]) == (0, 1)
    assert second["results"][0]["status"] == "stale"
    assert adjustments(campaign) == [Decimal("50.00")]
    assert campaign_day(campaign.pk) == Decimal("50.00")


def test_a_newer_report_with_the_same_total_is_unchanged(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    send(api, total(campaign, "50", T1))

    body = send(api, total(campaign, "50.000000", T2))

    assert body["results"] == [
        {"index": 0, "status": "unchanged", "reason": None, "adjustment": None}
    ]
    assert adjustments(campaign) == [Decimal("50.00")]
    assert ReportedDailyTotal.objects.get().reported_at == T2


def test_a_report_for_a_date_that_has_not_begun_in_the_brands_zone_is_rejected(
    api: ApiClient, clock: time_machine.Traveller
) -> None:
    # 20:00 UTC on June 10: already 05:00 on June 11 in Tokyo, still 16:00 on June 10 in
    # New York.
    clock.move_to(datetime(2026, 6, 10, 20, 0, tzinfo=UTC))
    tokyo = make_campaign(make_brand(timezone="Asia/Tokyo"))
    new_york = make_campaign(make_brand(timezone="America/New_York"))
    at = datetime(2026, 6, 10, 19, 0, tzinfo=UTC)

    body = send(
        api,
        total(tokyo, "10", at, date="2026-06-11"),
        total(new_york, "10", at, date="2026-06-11"),
    )

    assert [(r["status"], r["reason"]) for r in body["results"]] == [
        ("applied", None),
        ("rejected", "date 2026-06-11 has not begun yet in America/New_York"),
    ]
    assert campaign_day(tokyo.pk, date(2026, 6, 11)) == Decimal("10.00")
    assert not CampaignPeriodSpend.objects.filter(campaign=new_york).exists()
    assert not ReportedDailyTotal.objects.filter(campaign=new_york).exists()


def test_totals_for_several_campaigns_in_one_batch(api: ApiClient) -> None:
    acme, globex = make_brand("Acme", daily="1000"), make_brand("Globex", daily="1000")
    first, second, third = make_campaign(acme), make_campaign(acme), make_campaign(globex)

    body = send(
        api,
        total(first, "10", T1),
        total(second, "20.5", T1),
        total(third, "30", T1, source="meta"),
    )

    assert body["applied"] == 3
    assert [r["adjustment"] for r in body["results"]] == ["10.00", "20.50", "30.00"]
    assert [campaign_day(c.pk) for c in (first, second, third)] == [
        Decimal("10.00"),
        Decimal("20.50"),
        Decimal("30.00"),
    ]
    assert (brand_day(acme.pk), brand_day(globex.pk)) == (Decimal("30.50"), Decimal("30.00"))
    assert ReportedDailyTotal.objects.count() == 3


def test_within_one_batch_the_latest_report_wins_whatever_the_order(api: ApiClient) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))

    body = send(api, total(campaign, "70", T3), total(campaign, "40", T1))

    assert body["applied"] == 2
    assert campaign_day(campaign.pk) == Decimal("70.00")
    assert ReportedDailyTotal.objects.get().total == Decimal("70.00")


def test_a_campaign_outside_the_tokens_scope_is_rejected(
    api_for: Callable[..., ApiClient],
) -> None:
    mine, theirs = make_brand("Mine"), make_brand("Theirs")
    my_campaign, their_campaign = make_campaign(mine), make_campaign(theirs)

    response = api_for(mine).post(
        "/spend/daily-totals",
        {"totals": [total(my_campaign, "1", T1), total(their_campaign, "1", T1)]},
    )

    assert response.status_code == 200
    applied, refused = response.json()["results"]
    assert applied["status"] == "applied"
    assert refused["status"] == "rejected"
    # The same words as for a campaign that does not exist: nothing about the other brand.
    assert refused["reason"] == f"unknown campaign {their_campaign.pk}"
    assert not ReportedDailyTotal.objects.filter(campaign=their_campaign).exists()
    assert not CampaignPeriodSpend.objects.filter(campaign=their_campaign).exists()


INVALID_TOTALS = [
    pytest.param({"total": "-1"}, "total must not be negative", id="negative"),
    pytest.param({"total": "1.1234567"}, "more than 6 decimal places", id="7-decimals"),
    pytest.param({"total": "1E+999999999999999999"}, "plain decimal notation", id="huge-exp"),
    pytest.param({"total": "99999999999999999999999.0000001"}, "more than 6", id="29-digits"),
    pytest.param({"date": "10/06/2026"}, "is not a date (YYYY-MM-DD)", id="bad-date"),
    pytest.param(
        {"reported_at": "2026-06-10T11:00:00"}, "reported_at has no time zone", id="naive"
    ),
    pytest.param(
        {"reported_at": "2026-06-10T12:05:01+00:00"}, "is in the future", id="future-report"
    ),
    pytest.param(
        {"reported_at": "2026-06-09T23:59:59+00:00"}, "is before 2026-06-10 began", id="early"
    ),
    pytest.param({"currency": "EUR"}, "does not match the brand's currency", id="currency"),
    pytest.param({"campaign": 999_999}, "unknown campaign 999999", id="unknown-campaign"),
]


@pytest.mark.parametrize(("change", "reason"), INVALID_TOTALS)
def test_an_invalid_total_is_rejected_with_its_reason_and_changes_nothing(
    api: ApiClient, change: dict[str, Any], reason: str
) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"))
    valid = total(campaign, "5", T1, source="meta")
    invalid = {**total(campaign, "9", T2), **change}

    body = send(api, valid, invalid)

    assert (body["applied"], body["rejected"]) == (1, 1)
    rejected = body["results"][1]
    assert (rejected["status"], rejected["adjustment"]) == ("rejected", None)
    assert reason in rejected["reason"]
    assert list(ReportedDailyTotal.objects.values_list("source", flat=True)) == ["meta"]
    assert campaign_day(campaign.pk) == Decimal("5.00")


def test_when_every_total_is_rejected_the_answer_is_422_with_detail(api: ApiClient) -> None:
    campaign = make_campaign(make_brand())

    response = api.post(
        "/spend/daily-totals", {"totals": [total(campaign, "-1", T1), total(campaign, "x", T1)]}
    )

    assert response.status_code == 422
    assert response.json()["detail"] == (
        "no total was taken; first reason: total must not be negative, got -1"
    )
    assert not ReportedDailyTotal.objects.exists()
    assert not SpendEvent.objects.exists()


def test_the_422_answer_has_the_batch_shape_with_counts_results_and_detail(api: ApiClient) -> None:
    campaign = make_campaign(make_brand())

    response = api.post("/spend/daily-totals", {"totals": [total(campaign, "-1", T1)]})

    assert response.status_code == 422
    body = response.json()
    assert (body["applied"], body["unchanged"], body["stale"], body["rejected"]) == (0, 0, 0, 1)
    assert body["results"] == [
        {
            "index": 0,
            "status": "rejected",
            "reason": "total must not be negative, got -1",
            "adjustment": None,
        }
    ]
    assert body["detail"] == "no total was taken; first reason: total must not be negative, got -1"


def test_an_empty_list_of_totals_is_a_422(api: ApiClient) -> None:
    response = api.post("/spend/daily-totals", {"totals": []})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("totals: List should have at least 1 item")


def test_a_date_whose_start_is_out_of_range_is_rejected_not_a_500(secret: str) -> None:
    # Midnight of 0001-01-01 in Tokyo is before year 1 in UTC.
    campaign = make_campaign(make_brand(timezone="Asia/Tokyo"))
    client = ApiClient(secret, raise_request_exception=False)

    response = client.post(
        "/spend/daily-totals", {"totals": [total(campaign, "5", NOON, date="0001-01-01")]}
    )

    assert response.status_code == 422
    assert not SpendEvent.objects.exists()
