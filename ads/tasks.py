"""Celery tasks: thin wrappers. Each calls the same service as its management command."""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task
from django.utils import timezone

from ads.platforms.outbox import deliveries_push
from ads.platforms.sync import platforms_sync
from ads.services.ingest import spend_ingest
from ads.services.jobs import ResetPeriod, budget_check, dayparting_enforce, spend_reset
from ads.services.verify import recent_periods_start, totals_verify

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


# --- Ad platforms (issue 11) ------------------------------------------------------------------


@shared_task(name="ads.push_platform_status")
def push_platform_status(account_id: int | None = None) -> dict[str, Any]:
    """Deliver due status pushes; runs after each commit that queued one, and on beat."""
    return deliveries_push(at=timezone.now(), account_id=account_id).as_dict()


@shared_task(name="ads.sync_platforms")
def sync_platforms(account_id: int | None = None) -> dict[str, Any]:
    return platforms_sync(at=timezone.now(), account_id=account_id).as_dict()


@shared_task(name="ads.verify_totals")
def verify_totals(since: str | None = None) -> dict[str, Any]:
    """The nightly check (no repair; drift is logged at ERROR). ``since`` (YYYY-MM-DD)
    defaults to the start of last month, so its cost does not grow with the ledger's age;
    ``manage.py verify_totals`` without --since checks all of history."""
    at = timezone.now()
    start = date.fromisoformat(since) if since else recent_periods_start(at)
    return totals_verify(at=at, since=start, actor=BEAT_ACTOR).summary()
