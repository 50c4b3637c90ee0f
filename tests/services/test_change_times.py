"""A move is recorded at the time it was applied: the audit rows' ``at`` and the campaigns'
``status_changed_at`` say when the change happened, while the decision is still the rule at
the sweep's instant (its windows, its brand-local day)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from ads.models import Campaign, CampaignStatusChange, PauseReason, Trigger
from ads.services import rule as engine
from ads.services.reconcile import reconcile
from ads.services.sweep_split import BrandRange, range_sweep
from tests.factories import make_brand, make_campaign, make_schedule, state

pytestmark = pytest.mark.django_db

# A Wednesday (weekday 2); the window below is open then and shut seven minutes later.
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
QUEUED = timedelta(minutes=7)  # how long after its sweep's instant the range starts
LOCKED = timedelta(seconds=30)  # how long it then waits for the brands' locks


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[time_machine.Traveller]:
    """The clock stands still at NOON, and moves on by LOCKED while the engine, having
    planned, waits for its locks (both databases plan before they lock and move)."""
    with time_machine.travel(NOON, tick=False) as traveller:
        real = engine.clock

        def slow_locks(*args: Any, **kwargs: Any) -> Any:
            planned = real(*args, **kwargs)
            traveller.shift(LOCKED)
            return planned

        monkeypatch.setattr(engine, "clock", slow_locks)
        yield traveller


def campaign_outside_its_open_window() -> Campaign:
    """Stored as paused outside its schedule; at NOON its window is open."""
    campaign = make_campaign(make_brand(), schedule=make_schedule((2, "11:00", "12:05")))
    Campaign.objects.filter(pk=campaign.pk).update(
        status="paused", pause_reason=PauseReason.OUTSIDE_SCHEDULE
    )
    return campaign


def test_a_range_run_late_decides_at_its_sweeps_instant_and_records_when_it_applied(
    clock: time_machine.Traveller,
) -> None:
    campaign = campaign_outside_its_open_window()
    at = timezone.now()
    clock.shift(QUEUED)  # by now the window has shut

    range_sweep(trigger=Trigger.ENFORCE_DAYPARTING, brand_range=BrandRange(0, None), at=at)

    assert state(campaign) == ("running", None)  # the window was open at the sweep's instant
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert change.snapshot["local_time"] == "2026-06-10T12:00:00+00:00"
    assert change.at == NOON + QUEUED + LOCKED
    assert campaign.status_changed_at == NOON + QUEUED + LOCKED


def test_any_reconcile_records_its_moves_after_its_locks_not_at_its_instant(
    clock: time_machine.Traveller,
) -> None:
    disabled = make_campaign(make_brand(), enabled=False)

    reconcile(at=NOON, trigger=Trigger.CHECK_BUDGET)

    assert state(disabled) == ("paused", PauseReason.MANUAL)
    change = CampaignStatusChange.objects.get(campaign=disabled)
    assert change.at == disabled.status_changed_at == NOON + LOCKED
