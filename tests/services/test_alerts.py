"""Budget alerts: each fires once per (brand, kind, period, threshold), also under concurrent
writers, recorded with the spend (their delivery: test_alert_delivery.py)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from ads.core import nudge
from ads.core.money import from_micros
from ads.models import (
    Alert,
    AlertKind,
    Brand,
    BrandAlertSettings,
)
from ads.services.alerts import _brand_candidates, _Screen, _zone_clock
from ads.services.daily_totals import daily_totals_ingest
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db

LATE = datetime(2026, 6, 10, 23, 0, tzinfo=UTC)  # too late in the day for pacing to fire
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def nudges(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The jobs nudged after commit (instead of a broker)."""
    asked: list[str] = []
    monkeypatch.setattr(nudge, "request", asked.append)
    return asked


def fired(brand: Brand) -> list[tuple[str, str, Decimal]]:
    return sorted(
        Alert.objects.filter(brand=brand).values_list("kind", "period", "threshold"),
        key=lambda row: (row[0], row[1], row[2]),
    )


def test_threshold_alerts_fire_once_each_at_80_and_100_percent() -> None:
    brand = make_brand(daily="100", monthly="1000")
    campaign = make_campaign(brand)

    spend(campaign, "79.99", at=LATE)
    assert fired(brand) == []
    spend(campaign, "0.01", at=LATE)
    spend(campaign, "5", at=LATE)
    assert fired(brand) == [("threshold", "day", Decimal("80"))]
    spend(campaign, "15", at=LATE)
    spend(campaign, "1", at=LATE - timedelta(minutes=1))

    assert fired(brand) == [
        ("threshold", "day", Decimal("80")),
        ("threshold", "day", Decimal("100")),
    ]
    alert = Alert.objects.get(brand=brand, threshold=100)
    assert (alert.spend, alert.budget, alert.period_start.isoformat()) == (
        Decimal("100.00"),
        Decimal("100.00"),
        "2026-06-10",
    )


def test_monthly_thresholds_fire_per_month_and_again_next_month() -> None:
    brand = make_brand(daily="1000", monthly="1000")
    campaign = make_campaign(brand)

    spend(campaign, "850", at=LATE)
    spend(campaign, "10", at=LATE + timedelta(minutes=10))
    july = datetime(2026, 7, 31, 23, 0, tzinfo=UTC)
    spend(campaign, "850", at=july)

    months = Alert.objects.filter(brand=brand, period="month", kind="threshold").values_list(
        "period_start", "threshold"
    )
    assert sorted((d.isoformat(), t) for d, t in months) == [
        ("2026-06-01", Decimal("80")),
        ("2026-07-01", Decimal("80")),
    ]


def test_pacing_alert_fires_once_when_the_projection_exceeds_the_budget_by_the_margin() -> None:
    brand = make_brand(daily="100", monthly="100000")
    campaign = make_campaign(brand)
    early = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)  # under a tenth of the day: not judged

    spend(campaign, "20", at=early)
    assert fired(brand) == []
    spend(campaign, "30", at=NOON)  # 50 by noon projects 100: within the 10 % margin
    assert fired(brand) == []
    spend(campaign, "5.01", at=NOON)  # 55.01 projects 110.02 > 110
    spend(campaign, "1", at=NOON + timedelta(minutes=1))

    assert fired(brand) == [("pacing", "day", Decimal("110"))]
    alert = Alert.objects.get(brand=brand, kind=AlertKind.PACING)
    assert alert.projected == Decimal("110.02")


@override_settings(ALERT_THRESHOLDS=(Decimal(90),), ALERT_PACING_MARGIN=Decimal(50))
def test_thresholds_and_margin_come_from_the_brand_else_from_the_global_settings() -> None:
    own = make_brand(daily="100", monthly="10000")
    BrandAlertSettings.objects.create(brand=own, thresholds="50, 75", pacing_margin=Decimal(0))
    default = make_brand(daily="100", monthly="10000")

    spend(make_campaign(own), "76", at=NOON)  # projects 152: over the brand's 0 % margin
    spend(make_campaign(default), "95", at=LATE)  # projects 99: within the global 50 %

    assert fired(own) == [
        ("pacing", "day", Decimal("100")),
        ("threshold", "day", Decimal("50")),
        ("threshold", "day", Decimal("75")),
    ]
    assert fired(default) == [("threshold", "day", Decimal("90"))]


def test_a_batch_judges_alerts_from_its_own_totals_and_reads_nothing_more() -> None:
    own = make_brand(daily="100", monthly="10000")
    BrandAlertSettings.objects.create(brand=own, thresholds="50", pacing_margin=Decimal(0))
    default = make_brand(daily="100", monthly="10000")
    quiet = make_brand(daily="100", monthly="10000")
    campaigns = [make_campaign(brand) for brand in (own, default, quiet)]

    def batch(amounts: list[str], tag: str) -> list[str]:
        events = [
            SpendEventInput(
                campaign_id=campaign.pk,
                amount=amount,
                occurred_at=LATE,
                source="test",
                external_id=f"{tag}-{campaign.pk}",
            )
            for campaign, amount in zip(campaigns, amounts)
        ]
        with CaptureQueriesContext(connection) as captured:
            spend_record(events=events, at=LATE)
        return [query["sql"] for query in captured.captured_queries]

    # Nothing due: no query beyond the lock, the write and the transaction.
    queries = batch(["10", "10", "10"], "a")
    assert not any("ads_alert" in sql or 'ads_brandperiodspend"' in sql for sql in queries)
    assert [fired(brand) for brand in (own, default, quiet)] == [[], [], []]
    # The brand's own 50 % and the global 80 % and 100 %, from the batch's new totals.
    batch(["45", "90", "1"], "b")
    assert fired(own) == [("threshold", "day", Decimal("50"))]
    assert fired(default) == [
        ("threshold", "day", Decimal("80")),
        ("threshold", "day", Decimal("100")),
    ]
    assert fired(quiet) == []


def test_the_quick_screen_lets_through_every_period_the_exact_rule_alerts_for() -> None:
    rng = random.Random(12)
    rules = [None, BrandAlertSettings(brand_id=1, thresholds="33.33, 90", pacing_margin=0)]
    rules.append(BrandAlertSettings(brand_id=1, thresholds="", pacing_margin=Decimal("12.5")))
    checked = 0
    for minutes in (0, 90, 144, 145, 600, 1439):
        at = datetime(2026, 6, 10, tzinfo=UTC) + timedelta(minutes=minutes, seconds=17)
        clock = _zone_clock(at, "UTC")
        for own in rules:
            screen = _Screen(own)
            for _ in range(400):
                budget = rng.choice([1, 7, 100, 999_999, 10**6, 10**9, 10**15])
                ratio = rng.choice([0, 0.0999, 0.3333, 0.8, 0.9, 1, 1.1, 1.125, 2, 10])
                spend = max(0, int(budget * ratio) + rng.choice([-1, 0, 1]))
                found = _brand_candidates(
                    brand_id=1,
                    zone="UTC",
                    daily_budget=from_micros(budget),
                    monthly_budget=from_micros(budget),
                    own=own,
                    day_total=spend,
                    month_total=None,
                    at=at,
                    clock=clock,
                )
                if found:
                    checked += 1
                    assert screen.may_alert(spend, budget, clock.day_elapsed), (spend, budget)
    assert checked > 1000


def test_a_restated_daily_total_fires_the_alert_it_crosses() -> None:
    brand = make_brand(daily="100", monthly="1000")
    campaign = make_campaign(brand)

    daily_totals_ingest(
        items=[
            {
                "campaign": campaign.pk,
                "date": "2026-06-10",
                "total": "85.00",
                "source": "platform",
                "reported_at": LATE.isoformat(),
            }
        ],
        at=LATE,
    )

    assert fired(brand) == [("threshold", "day", Decimal("80"))]


# --- Concurrent writers ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_fire_each_alert_exactly_once(nudges: list[str]) -> None:
    brand = make_brand(daily="100", monthly="100000")
    campaigns = [make_campaign(brand) for _ in range(8)]
    barrier = threading.Barrier(len(campaigns))
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            barrier.wait(10)
            for step in range(3):
                spend(campaigns[index], "5", at=LATE, event_id=f"c{index}-{step}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(campaigns))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    # 8 writers x 3 events x 5 = 120: past 80 % and 100 % of the daily budget, and 120 by
    # 23:00 projects 125, past the 10 % pacing margin; each fired by exactly one writer.
    assert fired(brand) == [
        ("pacing", "day", Decimal("110")),
        ("threshold", "day", Decimal("80")),
        ("threshold", "day", Decimal("100")),
    ]


def test_a_brands_thresholds_are_validated_in_the_form() -> None:
    from django.core.exceptions import ValidationError

    settings_row = BrandAlertSettings(brand=make_brand(), thresholds="80, lots")

    with pytest.raises(ValidationError, match="Percentages above 0"):
        settings_row.full_clean()
    settings_row.thresholds = "50,80,100"
    settings_row.full_clean()
