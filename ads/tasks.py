"""Celery tasks: thin wrappers. Each calls the same service as its management command."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import group, shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from ads.models import Trigger
from ads.services.ingest import spend_ingest
from ads.services.jobs import ResetPeriod, budget_check, dayparting_enforce, spend_reset
from ads.services.sweep_split import BrandRange, brand_ranges, range_sweep

# The actor written to the audit trail for everything the worker does.
BEAT_ACTOR = "celery"


@shared_task(name="ads.check_budget")
def check_budget() -> dict[str, Any]:
    return budget_check(at=timezone.now(), actor=BEAT_ACTOR).summary()


@shared_task(name="ads.enforce_dayparting")
def enforce_dayparting() -> dict[str, Any]:
    return dayparting_enforce(at=timezone.now(), actor=BEAT_ACTOR).summary()


@shared_task(name="ads.reset_spend")
def reset_spend(period: str) -> dict[str, Any]:
    return spend_reset(period=ResetPeriod(period), at=timezone.now(), actor=BEAT_ACTOR).summary()


@shared_task(name="ads.record_spend")
def record_spend(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Spend from producers that prefer the queue: items as the API takes them (amounts as
    strings). Duplicates are recognised by source + event_id, so redelivery is safe."""
    return spend_ingest(items=events, at=timezone.now(), actor=BEAT_ACTOR).as_dict()


# --- Split sweeps (issue 12): the beat starts the *_split tasks; each fans out one task
# per brand range (ads.services.sweep_split), retried alone if it fails.
_RANGE_RETRY: dict[str, Any] = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "max_retries": 5,
}


def _fan_out(task: Any, trigger: str) -> dict[str, Any]:
    at = timezone.now()
    ranges = brand_ranges(brands_per_range=settings.SWEEP_BRANDS_PER_RANGE)
    group(task.s(r.lo, r.hi, at.isoformat()) for r in ranges).apply_async()
    return {"at": at.isoformat(), "trigger": trigger, "ranges": len(ranges)}


@shared_task(name="ads.check_budget_range", **_RANGE_RETRY)
def check_budget_range(lo: int, hi: int | None, at: str) -> dict[str, Any]:
    return range_sweep(
        trigger=Trigger.BUDGET_CHECK,
        brand_range=BrandRange(lo, hi),
        at=datetime.fromisoformat(at),
        actor=BEAT_ACTOR,
    )


@shared_task(name="ads.enforce_dayparting_range", **_RANGE_RETRY)
def enforce_dayparting_range(lo: int, hi: int | None, at: str) -> dict[str, Any]:
    return range_sweep(
        trigger=Trigger.DAYPARTING,
        brand_range=BrandRange(lo, hi),
        at=datetime.fromisoformat(at),
        actor=BEAT_ACTOR,
    )


@shared_task(name="ads.check_budget_split")
def check_budget_split() -> dict[str, Any]:
    return _fan_out(check_budget_range, Trigger.BUDGET_CHECK)


@shared_task(name="ads.enforce_dayparting_split")
def enforce_dayparting_split() -> dict[str, Any]:
    return _fan_out(enforce_dayparting_range, Trigger.DAYPARTING)
