"""Underspend alerts: a brand's month or a flight projected below its budget by more than
the margin fires once per brand-local day, once a quarter of the period has passed."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from ads.core import nudge
from ads.models import (
    Alert,
    AlertDelivery,
    AlertKind,
    AlertPeriod,
    Brand,
    BrandAlertSettings,
    Flight,
    JobName,
    JobOutcome,
    JobRun,
    JobTrigger,
)
from ads.notifications.alerts import alert_text
from ads.services.budget_calendar import budget_change_create
from ads.services.flights import flight_create, flight_delete
from ads.services.underspend import _record, underspend_check
from ads.tasks import alert_underspend
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db

# June 2026 has 30 days: a quarter of it has passed at 2026-06-08 12:00 UTC.
JUNE_10 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 9.5 of 30 days
EARLY = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def nudges(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    monkeypatch.setattr(nudge, "request", asked.append)
    return asked


def month_brand(*, zone: str = "UTC", spent: str = "200", monthly: str = "1000") -> Brand:
    """A brand that spent ``spent`` early in June 2026."""
    brand = make_brand(timezone=zone, daily="500", monthly=monthly)
    spend(make_campaign(brand), spent, at=EARLY)
    return brand


def underspends(brand: Brand) -> list[tuple[str, str, str]]:
    return [
        (a.period, a.period_start.isoformat(), str(a.local_day))
        for a in Alert.objects.filter(brand=brand, kind=AlertKind.UNDERSPEND).order_by("id")
    ]


@override_settings(ALERT_EMAILS=["ops@example.test"])
def test_a_month_projected_below_its_budget_by_more_than_the_margin_fires_with_deliveries() -> None:
    behind = month_brand(spent="200")  # projects 631.58: under 900 (1000 less 10 %)
    on_pace = month_brand(spent="300")  # projects 947.37: within the margin

    report = underspend_check(at=JUNE_10)

    assert underspends(behind) == [("month", "2026-06-01", "2026-06-10")]
    assert underspends(on_pace) == []
    alert = Alert.objects.get(brand=behind, kind=AlertKind.UNDERSPEND)
    assert (alert.spend, alert.budget, alert.projected, alert.threshold) == (
        Decimal("200.00"),
        Decimal("1000.00"),
        Decimal("631.578947"),
        Decimal("90"),
    )
    assert alert.flight_id is None
    assert report.fired == [alert.pk] and report.months_judged == 2
    delivery = AlertDelivery.objects.get(alert=alert)
    assert delivery.target == "ops@example.test"
    assert alert_text(delivery) == (
        f"{behind.name}: monthly spend is projected to reach 631.578947 USD, more than 10% under "
        "its budget of 1000.00 (spent 200.00 so far; month starting 2026-06-01; as of "
        "2026-06-10)."
    )


def test_a_month_with_no_spend_at_all_is_underspending() -> None:
    idle = make_brand(daily="100", monthly="1000")

    underspend_check(at=JUNE_10)

    assert underspends(idle) == [("month", "2026-06-01", "2026-06-10")]
    assert Alert.objects.get(brand=idle, kind=AlertKind.UNDERSPEND).projected == Decimal("0.00")


def test_nothing_fires_before_a_quarter_of_the_month_has_passed() -> None:
    brand = month_brand(spent="10")
    quarter = datetime(2026, 6, 8, 12, 0, tzinfo=UTC)

    underspend_check(at=quarter - timedelta(minutes=1))
    assert underspends(brand) == []
    underspend_check(at=quarter)
    assert underspends(brand) == [("month", "2026-06-01", "2026-06-08")]


def test_once_a_brand_local_day_and_again_the_next_day() -> None:
    # New York: 2026-06-10 runs from 04:00 to 04:00 UTC the next day (EDT).
    brand = month_brand(zone="America/New_York")

    first = underspend_check(at=JUNE_10)
    again = underspend_check(at=datetime(2026, 6, 11, 3, 59, tzinfo=UTC))  # still June 10
    assert len(first.fired) == 1 and again.fired == [] and again.due == []
    assert underspends(brand) == [("month", "2026-06-01", "2026-06-10")]

    next_day = underspend_check(at=datetime(2026, 6, 11, 4, 0, tzinfo=UTC))
    assert len(next_day.fired) == 1
    assert underspends(brand) == [
        ("month", "2026-06-01", "2026-06-10"),
        ("month", "2026-06-01", "2026-06-11"),
    ]


def test_the_unique_index_decides_when_two_runs_judge_the_same_day() -> None:
    month_brand()
    found = underspend_check(at=JUNE_10, dry_run=True).due
    assert len(found) == 1 and not Alert.objects.filter(kind=AlertKind.UNDERSPEND).exists()

    # Two runs that both read "not fired yet": the second insert finds the row and adds
    # nothing, deliveries included.
    first = _record(found, JUNE_10)
    second = _record(found, JUNE_10 + timedelta(minutes=5))
    assert len(first) == 1 and second == []
    assert Alert.objects.filter(kind=AlertKind.UNDERSPEND).count() == 1


@override_settings(ALERT_UNDERSPEND_MARGIN=Decimal(50))
def test_the_brand_margin_overrides_the_global_setting() -> None:
    own = month_brand(spent="200")  # projects 631.58
    BrandAlertSettings.objects.create(brand=own, underspend_margin=Decimal("12.5"))
    default = month_brand(spent="200")  # 631.58 is within the global 50 %
    far_behind = month_brand(spent="100")  # 315.79: under 500

    underspend_check(at=JUNE_10)

    assert Alert.objects.get(brand=own, kind=AlertKind.UNDERSPEND).threshold == Decimal("87.5")
    assert underspends(default) == []
    assert Alert.objects.get(brand=far_behind, kind=AlertKind.UNDERSPEND).threshold == 50


def test_the_monthly_budget_in_force_comes_from_the_budget_calendar() -> None:
    lowered = month_brand(spent="250")  # projects 789.47: under 900 of 1000
    kept = month_brand(spent="250")
    budget_change_create(
        brand_id=lowered.pk,
        target="brand",
        target_id=None,
        effective_on=date(2026, 6, 5),
        daily_budget=None,
        monthly_budget="800",  # 789.47 is within 10 % of 800
        at=EARLY,
        actor="planner",
    )

    underspend_check(at=JUNE_10)

    assert underspends(lowered) == []
    assert underspends(kept) == [("month", "2026-06-01", "2026-06-10")]


# --- Flights: Nov 20 to Dec 1 2026, 12 days: a quarter has passed on Nov 23 at 00:00 UTC.
NOV_25 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 5.5 of 12 days


def flight_brand(spent: str = "500") -> tuple[Brand, Flight]:
    # A month budget its spend keeps pace with, so only the flight is behind.
    brand = make_brand(daily="10000", monthly="100000")
    campaign = make_campaign(brand)
    flight, _ = flight_create(
        brand_id=brand.pk,
        name="Black Friday",
        starts_on=date(2026, 11, 20),
        ends_on=date(2026, 12, 1),
        budget="4000",
        campaign_ids=[campaign.pk],
        at=datetime(2026, 11, 19, tzinfo=UTC),
        actor="planner",
    )
    spend(campaign, spent, at=datetime(2026, 11, 21, 12, tzinfo=UTC))
    BrandAlertSettings.objects.create(brand=brand, underspend_margin=Decimal(10), emails="a@b.c")
    return brand, flight


def flight_alerts(flight: Flight) -> list[str]:
    return [
        str(a.local_day)
        for a in Alert.objects.filter(flight=flight, kind=AlertKind.UNDERSPEND).order_by("id")
    ]


def test_a_flight_projected_below_its_budget_fires_once_a_day_while_it_runs() -> None:
    brand, flight = flight_brand()  # 500 by Nov 25 noon projects 1090.91 of 4000

    underspend_check(at=datetime(2026, 11, 22, 23, 59, tzinfo=UTC))  # under a quarter
    assert flight_alerts(flight) == []
    underspend_check(at=NOV_25)
    underspend_check(at=NOV_25 + timedelta(hours=6))
    underspend_check(at=NOV_25 + timedelta(days=1))
    assert flight_alerts(flight) == ["2026-11-25", "2026-11-26"]

    alert = Alert.objects.filter(flight=flight).order_by("id").first()
    assert alert is not None
    assert (alert.period, alert.period_start, alert.budget, alert.projected) == (
        AlertPeriod.FLIGHT,
        date(2026, 11, 20),
        Decimal("4000.00"),
        Decimal("1090.909091"),
    )
    delivery = AlertDelivery.objects.filter(alert=alert).get()
    assert alert_text(delivery) == (
        f"{brand.name}: flight Black Friday (2026-11-20 to 2026-12-01) is projected to reach "
        "1090.909091 USD, more than 10% under its budget of 4000.00 (spent 500.00 so far; as of "
        "2026-11-25)."
    )


def test_a_flight_that_ended_or_keeps_pace_does_not_fire() -> None:
    _, ended = flight_brand()
    _, on_pace = flight_brand(spent="1700")  # projects 3709.09 of 4000: within 10 %

    underspend_check(at=datetime(2026, 12, 2, 0, 0, tzinfo=UTC))
    underspend_check(at=NOV_25)

    assert flight_alerts(on_pace) == []
    assert flight_alerts(ended) == ["2026-11-25"]  # the ended run fired nothing


def test_a_deleted_flight_keeps_its_alerts() -> None:
    brand, flight = flight_brand()
    underspend_check(at=NOV_25)
    flight_delete(flight_id=flight.pk, at=NOV_25, actor="planner")

    alert = Alert.objects.get(brand=brand, kind=AlertKind.UNDERSPEND, period=AlertPeriod.FLIGHT)
    assert alert.flight_id is None
    assert "a deleted flight (starting 2026-11-20)" in alert_text(alert.deliveries.get())


def test_the_job_is_a_fixed_number_of_queries_whatever_the_number_of_brands() -> None:
    def queries(count: int) -> int:
        for _ in range(count):
            flight_brand()
            month_brand()
        Alert.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            report = underspend_check(at=NOV_25)
        assert len(report.fired) >= count
        return len(captured.captured_queries)

    assert queries(2) == queries(20)


@override_settings(ALERT_EMAILS=["ops@example.test"])
def test_the_command_and_the_task_run_the_same_job_recorded_in_the_history() -> None:
    brand = month_brand()
    other = month_brand()
    out = StringIO()
    with time_machine.travel(JUNE_10, tick=False):
        call_command("alert_underspend", "--dry-run", stdout=out)
        assert not Alert.objects.filter(kind=AlertKind.UNDERSPEND).exists()
        assert "would fire 2 underspend alert(s)" in out.getvalue()

        call_command("alert_underspend", "--brand", str(brand.pk), stdout=out)
        assert underspends(brand) != [] and underspends(other) == []
        result = alert_underspend.apply().get()
        again = alert_underspend.apply().get()

    assert len(result["fired"]) == 1 and again["fired"] == []
    assert underspends(other) == [("month", "2026-06-01", "2026-06-10")]
    runs = JobRun.objects.filter(job=JobName.ALERT_UNDERSPEND).order_by("id")
    assert [(r.trigger, r.outcome, r.detail["fired"]) for r in runs] == [
        (JobTrigger.COMMAND, JobOutcome.SUCCEEDED, 1),
        (JobTrigger.BEAT, JobOutcome.SUCCEEDED, 1),
        (JobTrigger.BEAT, JobOutcome.SUCCEEDED, 0),
    ]


def test_the_admin_lists_underspend_alerts_with_their_flight(admin_client: Client) -> None:
    brand, flight = flight_brand()
    underspend_check(at=NOV_25)
    flight_alert = Alert.objects.get(flight=flight)

    alerts = admin_client.get("/admin/ads/alert/?kind=underspend")
    detail = admin_client.get(f"/admin/ads/alert/{flight_alert.pk}/change/")
    deliveries = admin_client.get("/admin/ads/alertdelivery/")

    assert alerts.status_code == detail.status_code == deliveries.status_code == 200
    listed = alerts.content.decode()
    assert "Projected to fall short of budget" in listed and "Black Friday" in listed
    assert ">Flight<" in listed and ">Month<" in listed
    assert "2026-11-25" in detail.content.decode() or "Nov. 25, 2026" in detail.content.decode()
    assert f"{brand.name}: flight Black Friday underspend" in deliveries.content.decode()
    assert f"{brand.name}: month underspend" in deliveries.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(ALERT_EMAILS=["ops@example.test"])
def test_concurrent_runs_fire_each_underspend_alert_exactly_once() -> None:
    brands = [month_brand() for _ in range(3)]
    _, flight = flight_brand()
    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(10)
            underspend_check(at=JUNE_10)
            underspend_check(at=at)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    # Each month brand once on June 10 and once on Nov 25 (no spend in November at all).
    for brand in brands:
        assert sorted(underspends(brand)) == [
            ("month", "2026-06-01", "2026-06-10"),
            ("month", "2026-11-01", "2026-11-25"),
        ]
    assert flight_alerts(flight) == ["2026-11-25"]
    alerts = Alert.objects.filter(kind=AlertKind.UNDERSPEND)
    assert AlertDelivery.objects.filter(alert__in=alerts).count() == alerts.count()
