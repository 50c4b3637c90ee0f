"""Sweeps split into brand ranges: the ranges cover every brand once, a failing range is
retried alone, and workers running ranges at once each move their own campaigns once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import OperationalError, connection, connections, transaction

from ad_budget_system.celery import app
from ads.models import Campaign, CampaignStatusChange, PauseReason, Trigger
from ads.services import sweep_split
from ads.services.sweep_split import BrandRange, brand_ranges, merge_summaries, range_sweep
from ads.tasks import check_budget_range, check_budget_split
from tests.factories import make_brand, make_campaign

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def disabled_campaigns(brands: int, per_brand: int = 2) -> list[int]:
    """Campaigns that the rule pauses (manual) and that are stored as running."""
    ids = []
    for _ in range(brands):
        brand = make_brand()
        for _ in range(per_brand):
            campaign = make_campaign(brand)
            Campaign.objects.filter(pk=campaign.pk).update(enabled=False)
            ids.append(campaign.pk)
    return ids


@pytest.mark.django_db
def test_ranges_cover_every_brand_once_and_leave_the_last_open() -> None:
    brand_ids = sorted(make_brand().pk for _ in range(25))

    ranges = brand_ranges(brands_per_range=10)

    assert len(ranges) == 3
    assert ranges[0].lo == 0 and ranges[-1].hi is None
    assert all(a.hi == b.lo for a, b in zip(ranges, ranges[1:]))
    counts = [sum(1 for b in brand_ids if r.lo <= b and (r.hi is None or b < r.hi)) for r in ranges]
    assert counts == [10, 10, 5]


@pytest.mark.django_db
def test_no_brands_is_one_range_over_everything() -> None:
    assert brand_ranges(brands_per_range=5) == [BrandRange(0, None)]


@pytest.mark.django_db
def test_range_sweeps_together_move_every_campaign_once() -> None:
    campaigns = disabled_campaigns(brands=7)
    summaries = [
        range_sweep(trigger=Trigger.CHECK_BUDGET, brand_range=r, at=NOON)
        for r in brand_ranges(brands_per_range=3)
    ]
    again = [
        range_sweep(trigger=Trigger.CHECK_BUDGET, brand_range=r, at=NOON)
        for r in brand_ranges(brands_per_range=3)
    ]

    total = merge_summaries(summaries)
    assert total["ranges"] == 3 and total["paused"] == len(campaigns)
    assert total["by_reason"] == {PauseReason.MANUAL: len(campaigns)}
    assert merge_summaries(again)["paused"] == 0  # safe to re-run
    assert CampaignStatusChange.objects.filter(campaign__in=campaigns).count() == len(campaigns)


@pytest.mark.django_db
def test_a_failing_range_is_retried_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    disabled_campaigns(brands=4)
    ranges = brand_ranges(brands_per_range=2)
    failing = ranges[1].lo
    calls: list[int] = []
    real = sweep_split.range_sweep

    def flaky(**kwargs: Any) -> dict[str, Any]:
        lo = kwargs["brand_range"].lo
        calls.append(lo)
        if lo == failing and calls.count(lo) == 1:
            raise OperationalError("connection lost")
        return real(**kwargs)

    monkeypatch.setattr("ads.tasks.range_sweep", flaky)
    monkeypatch.setitem(app.conf, "task_always_eager", True)

    results = [check_budget_range.apply(args=(r.lo, r.hi, NOON.isoformat())).get() for r in ranges]

    assert sorted(calls) == sorted([ranges[0].lo, failing, failing])
    assert sum(result["paused"] for result in results) == 8
    assert not Campaign.objects.filter(status="running").exists()


@pytest.mark.django_db
def test_the_beat_task_fans_out_one_task_per_range(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    campaigns = disabled_campaigns(brands=5)
    settings.SWEEP_BRANDS_PER_RANGE = 2
    monkeypatch.setitem(app.conf, "task_always_eager", True)

    answer = check_budget_split.apply().get()

    assert answer["ranges"] == 3 and answer["trigger"] == Trigger.CHECK_BUDGET
    assert CampaignStatusChange.objects.filter(campaign__in=campaigns).count() == len(campaigns)


def _in_thread(work: Any) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweep_their_ranges_at_once_and_each_campaign_moves_once() -> None:
    campaigns = disabled_campaigns(brands=6, per_brand=3)
    ranges = brand_ranges(brands_per_range=3)
    assert len(ranges) == 2
    barrier = threading.Barrier(2)
    results: dict[int, dict[str, Any]] = {}

    def worker(brand_range: BrandRange) -> None:
        barrier.wait()
        results[brand_range.lo] = range_sweep(
            trigger=Trigger.CHECK_BUDGET, brand_range=brand_range, at=NOON
        )

    threads = [_in_thread(lambda r=r: worker(r)) for r in ranges]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(result["paused"] for result in results.values()) == [9, 9]
    assert CampaignStatusChange.objects.filter(campaign__in=campaigns).count() == 18


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_range_already_being_swept_is_skipped_by_a_second_worker() -> None:
    campaigns = disabled_campaigns(brands=2)
    (only,) = brand_ranges(brands_per_range=10)
    holding, release = threading.Event(), threading.Event()

    def first_worker() -> None:
        with transaction.atomic():
            assert sweep_split._range_lock(Trigger.CHECK_BUDGET, only.lo)
            holding.set()
            release.wait(timeout=30)

    thread = _in_thread(first_worker)
    thread.start()
    assert holding.wait(timeout=30)
    try:
        second = range_sweep(trigger=Trigger.CHECK_BUDGET, brand_range=only, at=NOON)
    finally:
        release.set()
        thread.join(timeout=30)
    third = range_sweep(trigger=Trigger.CHECK_BUDGET, brand_range=only, at=NOON)

    assert "skipped" in second
    assert third["paused"] == len(campaigns)
    assert connection.vendor == "postgresql"
