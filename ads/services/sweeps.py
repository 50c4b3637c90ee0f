"""The periodic jobs. Each is the full reconcile over all campaigns; they differ only in the
trigger written to the audit trail and in what their report stresses.

Because spend is keyed by brand-local day and month, no job zeroes anything: a new period
starts at each brand's own midnight by itself, and whichever sweep runs next moves the
campaigns. The jobs are safe to run twice and at any time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from ads.models import PauseReason, Trigger
from ads.services.reconcile import SYSTEM_ACTOR, reconcile
from ads.services.rule import ReconcileResult


class ResetPeriod(StrEnum):
    DAILY = "daily"
    MONTHLY = "monthly"


# Reasons a new period lifts: a new month also begins a new day.
RESET_LIFTS: dict[ResetPeriod, tuple[str, ...]] = {
    ResetPeriod.DAILY: (PauseReason.BRAND_DAILY_BUDGET, PauseReason.CAMPAIGN_DAILY_BUDGET),
    ResetPeriod.MONTHLY: (
        PauseReason.BRAND_MONTHLY_BUDGET,
        PauseReason.BRAND_DAILY_BUDGET,
        PauseReason.CAMPAIGN_MONTHLY_BUDGET,
        PauseReason.CAMPAIGN_DAILY_BUDGET,
    ),
}


def budget_check(
    *, at: datetime, actor: str = SYSTEM_ACTOR, dry_run: bool = False
) -> ReconcileResult:
    """Enforce budgets (and every other rule) for all campaigns. Safe to run twice."""
    return reconcile(at=at, trigger=Trigger.CHECK_BUDGET, actor=actor, dry_run=dry_run)


def dayparting_enforce(
    *, at: datetime, actor: str = SYSTEM_ACTOR, dry_run: bool = False
) -> ReconcileResult:
    """Open and close schedule windows (and apply every other rule). Safe to run twice."""
    return reconcile(at=at, trigger=Trigger.ENFORCE_DAYPARTING, actor=actor, dry_run=dry_run)


def spend_reset(
    *, period: ResetPeriod, at: datetime, actor: str = SYSTEM_ACTOR, dry_run: bool = False
) -> ReconcileResult:
    """Start a new day or month: resume what the new period allows. Safe to run twice.

    Nothing is zeroed (totals are keyed by period); this is a reconcile whose report counts
    the campaigns resumed because their budget period rolled over.
    """
    trigger = (
        Trigger.RESET_SPEND_DAILY if period == ResetPeriod.DAILY else Trigger.RESET_SPEND_MONTHLY
    )
    return reconcile(at=at, trigger=trigger, actor=actor, dry_run=dry_run)
