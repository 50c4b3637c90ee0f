"""Reporting lags learned per brand and source from the ledger: weighted p50/p95 over the
last 7 days, backfills and rows over 48 h late ignored, too few rows learn nothing, silent
sources cleared, an operator's lag wins, safe to run twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ads.models import (
    Brand,
    Campaign,
    ConfigChange,
    JobName,
    JobOutcome,
    JobRun,
    SpendEvent,
    SpendSource,
)
from ads.services.daily_totals import daily_totals_ingest
from ads.services.lags import LAG_MIN_SAMPLES, lags_learn, lags_measure, source_lag_set
from ads.tasks import learn_lags
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def sent(
    campaign: Campaign,
    lags_minutes: list[float],
    *,
    source: str = "google_ads",
    amount: str = "1",
    received: datetime = NOW,
) -> None:
    """One event per lag, each received at ``received`` and occurred that much earlier."""
    for lag in lags_minutes:
        spend(
            campaign,
            amount,
            at=received,
            occurred_at=received - timedelta(minutes=lag),
            source=source,
        )


def row(brand: Brand, source: str = "google_ads") -> SpendSource:
    return SpendSource.objects.get(brand=brand, source=source)


@pytest.fixture
def campaign() -> Campaign:
    return make_campaign(make_brand(daily="1000000", monthly="10000000"))


def test_p50_and_p95_of_received_minus_occurred(campaign: Campaign) -> None:
    # 20 equal rows, 1..20 minutes late: half the spend had arrived at 10 minutes, 95 % at 19.
    sent(campaign, [float(m) for m in range(1, 21)])
    report = lags_learn(at=NOW)
    source = row(campaign.brand)
    assert (source.learned_p50_minutes, source.learned_p95_minutes) == (10, 19)
    assert source.samples == 20 and source.learned_min_minutes == 1
    assert source.learned_at == NOW and source.lag_minutes is None
    assert source.lag_in_use_minutes == 19
    assert report.line() == (
        "learn_lags: learned the lags of 1 source(s) with rows in the last 7 days, 1 with "
        f"enough ({LAG_MIN_SAMPLES}+ rows); 0 silent source(s) cleared."
    )


def test_the_percentiles_weigh_spend_not_rows(campaign: Campaign) -> None:
    # 19 small prompt rows and one large late one: most of the money arrived 3 hours late.
    sent(campaign, [0.0] * 19, amount="1")
    sent(campaign, [180.0], amount="100")
    lags_learn(at=NOW)
    source = row(campaign.brand)
    assert (source.learned_p50_minutes, source.learned_p95_minutes) == (180, 180)
    assert source.learned_min_minutes == 0


def test_lags_round_up_to_the_minute(campaign: Campaign) -> None:
    sent(campaign, [61 / 60] * 20)
    lags_learn(at=NOW)
    assert row(campaign.brand).learned_p95_minutes == 2


def test_too_few_rows_learn_nothing_but_count(campaign: Campaign) -> None:
    sent(campaign, [30.0] * (LAG_MIN_SAMPLES - 1))
    lags_learn(at=NOW)
    source = row(campaign.brand)
    assert source.samples == LAG_MIN_SAMPLES - 1
    assert (source.learned_p50_minutes, source.learned_p95_minutes) == (None, None)
    assert source.learned_min_minutes == 30
    assert source.lag_in_use_minutes == 0


def test_backfills_and_rows_over_48_hours_late_are_ignored(
    campaign: Campaign, tmp_path: Path
) -> None:
    sent(campaign, [5.0] * 20)
    sent(campaign, [48 * 60 + 1.0] * 30)  # a late load, not reporting lag
    path = tmp_path / "backfill.csv"
    lines = ["campaign,amount,occurred_at,event_id,source"]
    occurred = (NOW - timedelta(hours=20)).isoformat()
    lines += [f"{campaign.pk},50,{occurred},bf-{n},google_ads" for n in range(40)]
    path.write_text("\n".join(lines) + "\n")
    with time_machine.travel(NOW, tick=False):
        call_command("import_spend", str(path), stdout=StringIO())
    assert SpendEvent.objects.filter(backfill=True).count() == 40
    assert SpendEvent.objects.filter(backfill=False).count() == 50
    lags_learn(at=NOW)
    source = row(campaign.brand)
    assert (source.samples, source.learned_p95_minutes) == (20, 5)


def test_only_the_last_seven_days_of_receipts_count(campaign: Campaign) -> None:
    sent(campaign, [600.0] * 20, received=NOW - timedelta(days=8))
    sent(campaign, [2.0] * 20, received=NOW - timedelta(days=6))
    lags_learn(at=NOW)
    assert (row(campaign.brand).samples, row(campaign.brand).learned_p95_minutes) == (20, 2)


def test_sources_and_brands_are_learned_apart(campaign: Campaign) -> None:
    other = make_campaign(make_brand(daily="1000000", monthly="10000000"))
    sent(campaign, [5.0] * 20, source="google_ads")
    sent(campaign, [900.0] * 20, source="meta")
    sent(other, [60.0] * 20, source="google_ads")
    lags_learn(at=NOW)
    assert row(campaign.brand, "google_ads").learned_p95_minutes == 5
    assert row(campaign.brand, "meta").learned_p95_minutes == 900
    assert row(other.brand, "google_ads").learned_p95_minutes == 60


def test_a_daily_total_measures_how_long_the_day_still_grew(campaign: Campaign) -> None:
    # Totals for June 9 (UTC brand) still growing 6 hours after the day ended.
    day_end = datetime(2026, 6, 10, 0, 0, tzinfo=UTC)
    for n in range(20):
        reported = day_end + timedelta(hours=6, minutes=n)
        daily_totals_ingest(
            items=[
                {
                    "campaign": campaign.pk,
                    "date": "2026-06-09",
                    "total": str(10 + n),
                    "reported_at": reported.isoformat(),
                    "source": "meta",
                }
            ],
            at=reported,
        )
    lags_learn(at=NOW)
    source = row(campaign.brand, "meta")
    # 20 adjustments (10, then +1 each), the late ones 6 h 00 to 6 h 19 after midnight.
    assert source.samples == 20
    # Weighted: 29 in all, 10 of it at 6 h 00; half (14.5) was in at 6 h 05, 95 % at 6 h 18.
    assert (source.learned_p50_minutes, source.learned_p95_minutes) == (365, 378)


def test_a_clock_ahead_shows_as_a_negative_quickest_row(campaign: Campaign) -> None:
    sent(campaign, [-3.0] * 20)  # occurred 3 minutes "after" we received it
    lags_learn(at=NOW)
    source = row(campaign.brand)
    assert source.learned_min_minutes == -3
    assert (source.learned_p50_minutes, source.learned_p95_minutes) == (0, 0)


def test_a_silent_source_is_cleared_and_twice_is_the_same(campaign: Campaign) -> None:
    sent(campaign, [5.0] * 20)
    lags_learn(at=NOW)
    first = lags_learn(at=NOW)
    assert first.cleared == 0 and row(campaign.brand).learned_p95_minutes == 5
    later = NOW + timedelta(days=8)
    report = lags_learn(at=later)
    source = row(campaign.brand)
    assert report.cleared == 1
    assert (source.samples, source.learned_p95_minutes, source.learned_at) == (0, None, later)
    assert lags_learn(at=later).cleared == 0


def test_an_operators_lag_wins_and_null_learns_again(campaign: Campaign) -> None:
    sent(campaign, [5.0] * 20)
    lags_learn(at=NOW)
    source = source_lag_set(
        brand_id=campaign.brand_id, source="google_ads", lag_minutes=180, actor="ops", at=NOW
    )
    lags_learn(at=NOW)
    source.refresh_from_db()
    assert (source.lag_minutes, source.learned_p95_minutes, source.lag_in_use_minutes) == (
        180,
        5,
        180,
    )
    source_lag_set(
        brand_id=campaign.brand_id, source="google_ads", lag_minutes=None, actor="ops", at=NOW
    )
    assert row(campaign.brand).lag_in_use_minutes == 5
    audit = list(
        ConfigChange.objects.filter(object_type="spend source")
        .order_by("id")
        .values_list("actor", "changes")
    )
    assert audit == [("ops", {"lag_minutes": [None, 180]}), ("ops", {"lag_minutes": [180, None]})]


def test_setting_a_source_never_seen_creates_it(campaign: Campaign) -> None:
    made = source_lag_set(
        brand_id=campaign.brand_id, source="tiktok", lag_minutes=60, actor="ops", at=NOW
    )
    assert (made.source, made.lag_minutes, made.samples, made.learned_at) == (
        "tiktok",
        60,
        0,
        None,
    )
    change = ConfigChange.objects.get(object_type="spend source")
    assert (change.action, change.changes) == ("created", {"lag_minutes": [None, 60]})


@pytest.mark.parametrize(
    ("source", "lag", "field", "words"),
    [
        ("", 10, "source", "source is required"),
        ("x" * 65, 10, "source", "longer than 64"),
        ("a\x00b", 10, "source", "NUL"),
        ("meta", -1, "lag_minutes", "from 0 to 2880"),
        ("meta", 2881, "lag_minutes", "from 0 to 2880"),
        ("meta", True, "lag_minutes", "whole number"),
        ("meta", 1.5, "lag_minutes", "whole number"),
    ],
)
def test_a_bad_source_or_lag_is_refused_and_changes_nothing(
    campaign: Campaign, source: str, lag: Any, field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        source_lag_set(
            brand_id=campaign.brand_id, source=source, lag_minutes=lag, actor="ops", at=NOW
        )
    assert words in " ".join(refused.value.message_dict[field])
    assert not SpendSource.objects.exists() and not ConfigChange.objects.exists()


def test_learning_is_a_fixed_number_of_queries(campaign: Campaign) -> None:
    brands = [make_brand(daily="1000000", monthly="10000000") for _ in range(5)]
    for brand in brands:
        sent(make_campaign(brand), [5.0] * 3, source="a")
        sent(make_campaign(brand), [5.0] * 3, source="b")
    with CaptureQueriesContext(connection) as few:
        lags_learn(at=NOW, brand_ids=[brands[0].pk])
    with CaptureQueriesContext(connection) as many:
        lags_learn(at=NOW)
    assert len(few) == len(many)
    assert SpendSource.objects.count() == 10


def test_one_brand_only_leaves_the_others_alone(campaign: Campaign) -> None:
    other = make_campaign(make_brand(daily="1000000", monthly="10000000"))
    sent(campaign, [5.0] * 20)
    sent(other, [7.0] * 20)
    lags_learn(at=NOW, brand_ids=[campaign.brand_id])
    assert row(campaign.brand).learned_p95_minutes == 5
    assert not SpendSource.objects.filter(brand=other.brand).exists()
    assert lags_learn(at=NOW + timedelta(days=8), brand_ids=[other.brand_id]).cleared == 0
    assert row(campaign.brand).learned_p95_minutes == 5


def test_dry_run_measures_and_stores_nothing(campaign: Campaign) -> None:
    sent(campaign, [5.0] * 20)
    report = lags_learn(at=NOW, dry_run=True)
    assert [lag.as_dict() for lag in report.learned] == [
        {
            "brand": campaign.brand_id,
            "source": "google_ads",
            "samples": 20,
            "p50_minutes": 5,
            "p95_minutes": 5,
            "min_minutes": 5,
        }
    ]
    assert report.line().startswith("learn_lags: would learn the lags of 1 source(s)")
    assert not SpendSource.objects.exists()
    assert lags_measure(at=NOW) == report.learned


def test_the_command_and_the_task_are_recorded_job_runs(campaign: Campaign) -> None:
    sent(campaign, [5.0] * 20)
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("learn_lags", "--dry-run", stdout=out)
        assert not SpendSource.objects.exists() and not JobRun.objects.exists()
        assert f"brand {campaign.brand_id} google_ads: 20 rows, p50 5 min, p95 5 min" in (
            out.getvalue()
        )
        call_command("learn_lags", stdout=out)
        answer = learn_lags()
    assert row(campaign.brand).learned_p95_minutes == 5
    runs = list(JobRun.objects.filter(job=JobName.LEARN_LAGS).values_list("trigger", "outcome"))
    assert sorted(runs) == [("beat", JobOutcome.SUCCEEDED), ("command", JobOutcome.SUCCEEDED)]
    assert answer["sources"] == 1 and answer["known"] == 1
