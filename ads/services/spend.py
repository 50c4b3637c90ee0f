"""Recording spend, the batch path: the ledger, the period totals, the pause and the alerts
in one transaction, under the brand locks. One event on PostgreSQL takes the single-statement
path (``ads.services.spend_single``); the rules that accept or refuse an event are in
``ads.services.spend_events``, the ledger writes in ``ads.services.ledger``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from ads.core import metrics
from ads.core.sql import dialect
from ads.core.transactions import run_with_retry
from ads.models import Trigger
from ads.services.alerts import alerts_record_for_totals_locked
from ads.services.ledger import TotalsOverflow, ledger_and_totals_add, totals_room
from ads.services.locks import campaigns_lock, spend_added
from ads.services.reconcile import SYSTEM_ACTOR, log_transitions, reconcile_locked
from ads.services.rule import Scope, Transition
from ads.services.spend_events import (
    EventOutcome,
    EventStatus,
    SpendBatchResult,
    SpendEventInput,
    check_all,
    decide,
    resolve,
)
from ads.services.spend_single import spend_record_one

logger = logging.getLogger(__name__)


class _RolledBack(Exception):
    """Leaves a dry run's transaction (rolling it back) with the answer it computed."""

    def __init__(self, decided: dict[int, EventOutcome], transitions: list[Transition]):
        super().__init__("dry run")
        self.decided, self.transitions = decided, transitions


def spend_record(
    *,
    events: Sequence[SpendEventInput],
    at: datetime,
    actor: str = SYSTEM_ACTOR,
    dry_run: bool = False,
    allowed_brand_ids: frozenset[int] | None = None,
    backfill: bool = False,
) -> SpendBatchResult:
    """Record a batch of spend events and enforce budgets before returning.

    Valid events are stored once, added to the brand-local day and month totals, and the
    brands where a total reached its limit are reconciled in the same transaction, so a
    campaign that reached a budget is paused when this returns. Rejected events (including
    campaigns outside ``allowed_brand_ids``, and events that would take a period total
    past what it can hold) change nothing. Safe to run twice: a repeated (source,
    external_id) is a duplicate if it says the same and a conflict if it does not, and
    changes nothing either way. ``dry_run`` does all of it in a transaction that is rolled
    back: the answer (and the transitions) are what recording would do, nothing is kept.
    ``backfill``: old spend loaded on purpose (``import_spend``), so the ledger rows are
    marked and the reporting lags are not learned from them.
    """
    if at.tzinfo is None:
        raise ValueError("spend_record needs an aware `at`")
    checked, outcomes = check_all(events, at)
    campaign_ids = sorted({item.event.campaign_id for item in checked})

    def work(careful: bool) -> tuple[dict[int, EventOutcome], list[Transition]]:
        decided: dict[int, EventOutcome] = {}
        with transaction.atomic():
            if not checked:
                return decided, []
            # Every writer of a brand's totals or campaign states locks the brand row first,
            # in id order: batches for one brand queue here, each sees the totals of the one
            # before, and exactly one of them crosses the budget and pauses.
            targets = campaigns_lock(campaign_ids)
            valid, repeats, decided = resolve(checked, targets, allowed_brand_ids)
            if careful:
                fits, refused = totals_room(valid)
                for v in valid:
                    if v.key in refused:
                        decided[v.index] = EventOutcome(
                            v.index, EventStatus.REJECTED, refused[v.key]
                        )
                valid = [v for v in valid if v.key not in refused]
                repeats = [r for r in repeats if r.key not in refused]
                assert len(fits) == len(valid)
            inserted, totals = ledger_and_totals_add(valid, at, backfill=backfill)
            decided.update(decide(valid, repeats, inserted))
            # New positive spend can change the rule's verdict only by making a total reach
            # its limit; only those brands are reconciled here (a batch spread over a
            # thousand brands would otherwise re-evaluate all of them), and only when this
            # batch took the total there (spend reported late for campaigns already paused
            # for a budget crosses nothing).
            added = spend_added((v for v in valid if v.key in inserted), targets.campaigns)
            limited = targets.reached(totals, added)
            transitions: list[Transition] = []
            if limited:
                transitions = reconcile_locked(
                    at=at, trigger=Trigger.SPEND, actor=actor, scope=Scope(brand_ids=limited)
                )
            # Judged from the new totals the statement returned: no query unless one is due.
            alerts_record_for_totals_locked(
                brands=targets.alert_brands(at), totals=totals.brand, at=at
            )
            if dry_run:
                # Everything was done as for real, so the answer is exactly what recording
                # would do; rolling back undoes it (and drops any after-commit work).
                raise _RolledBack(decided, transitions)
            return decided, transitions

    def attempt(careful: bool) -> tuple[dict[int, EventOutcome], list[Transition]]:
        try:
            return run_with_retry(lambda: work(careful))
        except _RolledBack as rolled_back:
            return rolled_back.decided, rolled_back.transitions

    fast = None
    if (
        len(checked) == 1
        and not dry_run
        and not backfill
        and dialect().prepared
        and dialect().writing_ctes
    ):
        fast = spend_record_one(checked[0], at, actor, allowed_brand_ids)
    try:
        if fast is not None:
            decided, transitions = fast
        else:
            decided, transitions = attempt(careful=False)
    except TotalsOverflow:
        # Rare: some total would overflow. Everything rolled back; again, refusing exactly
        # the events that do not fit.
        decided, transitions = attempt(careful=True)
    if dry_run:
        outcomes.update(decided)
        return SpendBatchResult(
            outcomes=[outcomes[index] for index in range(len(events))], transitions=transitions
        )
    outcomes.update(decided)
    log_transitions(transitions, at=at, trigger=Trigger.SPEND, actor=actor)
    result = SpendBatchResult(
        outcomes=[outcomes[index] for index in range(len(events))], transitions=transitions
    )
    metrics.spend_counted(events=events, outcomes=result.outcomes)
    if not logger.isEnabledFor(logging.INFO):
        return result
    logger.info(
        "spend batch: %s accepted, %s duplicate, %s conflicting, %s rejected",
        result.accepted,
        result.duplicates,
        result.conflicts,
        result.rejected,
        extra={
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "conflicts": result.conflicts,
            "rejected": result.rejected,
            "actor": actor,
        },
    )
    return result
