"""Many writers at once (PostgreSQL): nothing lost, nothing double-counted, one pause."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from ads.models import (
    BrandPeriodSpend,
    CampaignPeriodSpend,
    CampaignStatusChange,
    PauseReason,
    SpendEvent,
)
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput
from ads.services.sweeps import budget_check
from tests.factories import make_brand, make_campaign

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
EVENTS_PER_THREAD = 500
BATCH = 25


def run_threads(targets: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrap(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # collected and asserted on by the test
                errors.append(exc)
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=wrap(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_eight_writers_on_one_brand_lose_nothing_and_pause_once() -> None:
    brand = make_brand(daily="1000", monthly="1000000")
    campaigns = [make_campaign(brand) for _ in range(4)]
    now = datetime.now(UTC)

    def amount(thread: int, n: int) -> Decimal:
        return Decimal("0.01") * ((thread * 7919 + n) % 97 + 1)  # 0.01 .. 0.97

    def events(thread: int) -> list[SpendEventInput]:
        return [
            SpendEventInput(
                campaign_id=campaigns[(thread + n) % len(campaigns)].pk,
                amount=str(amount(thread, n)),
                occurred_at=now,
                source="load",
                external_id=f"{thread}-{n}",
            )
            for n in range(EVENTS_PER_THREAD)
        ]

    expected = sum(amount(t, n) for t in range(THREADS) for n in range(EVENTS_PER_THREAD))
    assert expected > Decimal(1000)  # the run crosses the daily budget somewhere inside

    def writer(thread: int) -> Callable[[], None]:
        mine = events(thread)
        # Every writer also resends part of its neighbour's events: duplicates under load.
        theirs = events((thread + 1) % THREADS)[:100]

        def run() -> None:
            for start in range(0, EVENTS_PER_THREAD, BATCH):
                batch = mine[start : start + BATCH] + theirs[start // 5 : start // 5 + 5]
                spend_record(events=batch, at=datetime.now(UTC))

        return run

    stop = threading.Event()
    sweeps: list[int] = []

    def sweeper() -> None:
        while not stop.is_set():
            budget_check(at=datetime.now(UTC))
            sweeps.append(1)

    sweeper_errors: list[BaseException] = []
    sweeper_thread = threading.Thread(target=lambda: sweeper_errors.extend(run_threads([sweeper])))
    sweeper_thread.start()
    errors = run_threads([writer(t) for t in range(THREADS)])
    stop.set()
    sweeper_thread.join(timeout=60)

    assert errors == [] and sweeper_errors == []
    assert len(sweeps) > 0
    assert SpendEvent.objects.count() == THREADS * EVENTS_PER_THREAD
    assert SpendEvent.objects.aggregate(total=Sum("amount"))["total"] == expected
    day_totals = CampaignPeriodSpend.objects.filter(period="day")
    assert sum(row.amount for row in day_totals) == expected
    assert BrandPeriodSpend.objects.get(brand=brand, period="day").amount == expected
    assert BrandPeriodSpend.objects.get(brand=brand, period="month").amount == expected
    for campaign in campaigns:
        changes = CampaignStatusChange.objects.filter(campaign=campaign)
        assert [(c.from_status, c.to_status, c.reason) for c in changes] == [
            ("running", "paused", PauseReason.BRAND_DAILY_BUDGET)
        ]
