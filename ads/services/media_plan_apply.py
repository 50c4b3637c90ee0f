"""Applying a media plan: all of the sheet or none of it, in one transaction under the
locks of its brands, through the flight and budget calendar services (so each change is
validated, audited and enforced as if made by hand). Used by ``manage.py import_plan`` and
the admin's upload, which both show ``media_plan_summary`` first."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from ads.core.transactions import outermost
from ads.models import BudgetTarget
from ads.services.budget_calendar import budget_change_create, budget_change_update
from ads.services.flights import flight_create, flight_update
from ads.services.locks import brands_lock
from ads.services.media_plan import CalendarPlan, FlightPlan, MediaPlan, media_plan_read
from ads.services.media_plan_csv import PlanError, PlanInvalid
from ads.services.media_plan_summary import PlanSummary, plan_summary
from ads.services.rule import Transition

# A service's field, as the sheet's column it came from.
_FLIGHT_COLUMNS = {
    "name": "flight",
    "starts_on": "starts_on",
    "ends_on": "ends_on",
    "budget": "budget",
    "campaigns": "campaign",
    "campaign_ids": "campaign",
}
_CALENDAR_COLUMNS = {
    "effective_on": "month",
    "monthly_budget": "monthly_budget",
    "daily_budget": "monthly_budget",
    "target": "campaign",
}


class PlanChanged(Exception):
    """What the plan would change is no longer what the preview showed (someone changed
    the stored plan since): nothing was applied; here is the new summary."""

    def __init__(self, summary: PlanSummary) -> None:
        self.summary = summary
        super().__init__("the stored plan changed since the preview")


@dataclass(frozen=True)
class PlanOutcome:
    summary: PlanSummary
    transitions: list[Transition]
    applied: bool


def summary_fingerprint(summary: PlanSummary) -> str:
    """Names the changes a preview showed, so the confirmation applies only those."""
    return hashlib.sha256("\n".join(summary.changes).encode()).hexdigest()


def _refused(exc: ValidationError, line: int, columns: Mapping[str, str]) -> PlanInvalid:
    """A service's refusal, at the sheet's line and column."""
    found: list[PlanError] = []
    if hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            for error in errors:
                found.extend(PlanError(line, columns.get(key), m) for m in error.messages)
    else:
        found.extend(PlanError(line, None, message) for message in exc.messages)
    return PlanInvalid(found)


def _flight_apply(plan: FlightPlan, at: datetime, actor: str) -> list[Transition]:
    changed = plan.changed_fields()
    if plan.stored is None:
        _, moved = flight_create(
            brand_id=plan.brand.pk,
            name=plan.name,
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
            budget=plan.budget,
            campaign_ids=plan.campaign_ids,
            at=at,
            actor=actor,
        )
        return moved
    values: dict[str, Any] = {
        "name": plan.name,
        "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
        "budget": plan.budget,
        "campaign_ids": plan.campaign_ids,
    }
    _, moved = flight_update(
        flight_id=plan.stored.pk,
        changes={key: values[key] for key in changed},
        at=at,
        actor=actor,
    )
    return moved


def _calendar_apply(plan: CalendarPlan, at: datetime, actor: str) -> list[Transition]:
    if plan.stored is None:
        _, moved = budget_change_create(
            brand_id=plan.brand.pk,
            target=BudgetTarget.BRAND if plan.campaign is None else BudgetTarget.CAMPAIGN,
            target_id=None if plan.campaign is None else plan.campaign.pk,
            effective_on=plan.effective_on,
            daily_budget=None,
            monthly_budget=plan.monthly_budget,
            at=at,
            actor=actor,
        )
        return moved
    _, moved = budget_change_update(
        change_id=plan.stored.pk,
        changes={"monthly_budget": plan.monthly_budget},
        at=at,
        actor=actor,
    )
    return moved


def _apply(plan: MediaPlan, at: datetime, actor: str) -> list[Transition]:
    transitions: list[Transition] = []
    # Stored flights first: one the sheet moves away frees its dates for a new one.
    flights = sorted(plan.flights, key=lambda f: (f.stored is None, f.lines[0]))
    for flight in flights:
        if flight.stored is not None and not flight.changed_fields():
            continue
        try:
            transitions += _flight_apply(flight, at, actor)
        except ValidationError as exc:
            raise _refused(exc, flight.lines[0], _FLIGHT_COLUMNS) from None
    for entry in plan.calendar:
        if not entry.changed:
            continue
        try:
            transitions += _calendar_apply(entry, at, actor)
        except ValidationError as exc:
            raise _refused(exc, entry.line, _CALENDAR_COLUMNS) from None
    # A campaign moved twice (two flights of it changed) is reported once, as it ends.
    last = {t.campaign_id: t for t in transitions}
    return list(last.values())


def media_plan_import(
    *,
    data: bytes,
    at: datetime,
    actor: str,
    brand_ids: Collection[int] | None = None,
    dry_run: bool = False,
    expected: str | None = None,
) -> PlanOutcome:
    """Apply the sheet, all or nothing: PlanInvalid (every error by line and column) and
    nothing changed, or every change made, audited with ``actor`` and enforced at once.
    ``dry_run`` only reads and describes. ``expected``: the fingerprint of the summary the
    caller showed; PlanChanged if the plan would now do something else. Safe to run twice:
    the second run finds nothing to change."""
    if dry_run:
        return PlanOutcome(
            plan_summary(media_plan_read(data=data, at=at, brand_ids=brand_ids)), [], False
        )
    with outermost():
        # Read once to learn the brands, lock them, and read again under the locks: what is
        # compared is then what is changed.
        first = media_plan_read(data=data, at=at, brand_ids=brand_ids)
        brands_lock(first.brand_ids)
        plan = media_plan_read(data=data, at=at, brand_ids=brand_ids)
        summary = plan_summary(plan)
        if expected is not None and summary_fingerprint(summary) != expected:
            raise PlanChanged(summary)
        transitions = _apply(plan, at, actor)
    return PlanOutcome(summary, transitions, True)
