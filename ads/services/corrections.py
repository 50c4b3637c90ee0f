"""Spend corrections by staff: a signed ledger row with a note, enforced at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from django.core.exceptions import ValidationError
from django.db import transaction

from ads.core.money import MoneyError, parse_money, to_micros
from ads.core.periods import day_bounds, local_date
from ads.models import (
    Campaign,
    CampaignPeriodSpend,
    SpendCorrection,
    SpendEvent,
    SpendKind,
    SpendPeriod,
    Trigger,
)
from ads.services.ledger import LedgerRow, ledger_and_totals_add
from ads.services.locks import brands_lock
from ads.services.reconcile import log_transitions, reconcile_locked
from ads.services.rule import Scope, Transition
from ads.services.spend_events import MAX_SPEND_AGE

CORRECTION_SOURCE = "staff"


@dataclass(frozen=True)
class CorrectionResult:
    correction: SpendCorrection
    transitions: list[Transition]


def _occurred_at(day: date, timezone: str, at: datetime) -> datetime:
    """An instant inside the brand-local ``day`` (so the row's local date is that day):
    now for today, else the day's last microsecond, like a platform's final total."""
    start, end = day_bounds(day, timezone)
    return min(max(at, start), end - timedelta(microseconds=1))


def spend_correct(
    *,
    campaign_id: int,
    day: date,
    amount: Decimal | str,
    note: str,
    actor: str,
    at: datetime,
) -> CorrectionResult:
    """Add ``amount`` (positive or negative) to a campaign's spend for a brand-local day,
    with a required note, then enforce the rule at once for its brand (a negative one can
    resume campaigns). Not idempotent: each call is a new correction."""
    note = note.strip()
    if not note:
        raise ValidationError({"note": "Say why: a correction needs a note."})
    try:
        value = parse_money(amount)
    except MoneyError as exc:
        raise ValidationError({"amount": str(exc)}) from None
    if value == 0:
        raise ValidationError({"amount": "A correction of zero changes nothing."})
    with transaction.atomic():
        campaign = Campaign.objects.select_related("brand").filter(pk=campaign_id).first()
        if campaign is None:
            raise ValidationError(f"No campaign {campaign_id}.")
        brands_lock([campaign.brand_id])
        timezone = campaign.brand.timezone
        today = local_date(at, timezone)
        if day > today:
            raise ValidationError({"day": f"{day} has not begun yet in {timezone}."})
        if day < local_date(at - MAX_SPEND_AGE, timezone):
            raise ValidationError(
                {"day": f"Spend older than {MAX_SPEND_AGE.days} days cannot be corrected."}
            )
        if value < 0:
            held = (
                CampaignPeriodSpend.objects.filter(
                    campaign_id=campaign.pk, period=SpendPeriod.DAY, period_start=day
                )
                .values_list("amount", flat=True)
                .first()
            ) or Decimal(0)
            if held + value < 0:
                raise ValidationError(
                    {
                        "amount": f"The campaign's spend for {day} is {held}; a correction "
                        "cannot take it below zero."
                    }
                )
        row = LedgerRow(
            campaign_id=campaign.pk,
            brand_id=campaign.brand_id,
            micros=to_micros(value),
            occurred_at=_occurred_at(day, timezone, at),
            local_date=day,
            source=CORRECTION_SOURCE,
            # A fresh key: a correction never collides with a client's event ids.
            external_id=f"correction:{uuid4()}",
            kind=SpendKind.CORRECTION,
        )
        ledger_and_totals_add([row], at)
        correction = SpendCorrection.objects.create(
            spend_event=SpendEvent.objects.get(source=row.source, external_id=row.external_id),
            campaign_id=campaign.pk,
            note=note,
            actor=actor,
            at=at,
        )
        transitions = reconcile_locked(
            at=at,
            trigger=Trigger.STAFF,
            actor=actor,
            scope=Scope(brand_ids=(campaign.brand_id,)),
        )
    log_transitions(transitions, at=at, trigger=Trigger.STAFF, actor=actor)
    return CorrectionResult(correction=correction, transitions=transitions)
