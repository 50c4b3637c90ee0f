"""Spend events as callers hand them over, and the rules that accept or refuse each one:
the field checks that need no database, the campaign, scope and currency checks against what
was read under the brand locks, and the verdict on a resend (duplicate or conflict).
Shared by the batch path (``ads.services.spend``) and the single-event statement
(``ads.services.spend_single``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast

from ads.core.money import MoneyError, money_text, parse_money, to_micros
from ads.core.periods import instant_problem, local_date
from ads.services.ledger import LedgerRow
from ads.services.ledger_reads import LedgerKey, Recorded, recorded_events
from ads.services.locks import SpendTargets
from ads.services.rule import Transition
from ads.services.spend_input import MAX_ID

# Clocks of ad platforms and of this server drift a little; anything further ahead is a bug
# on the sender's side and would count towards a day that has not begun.
MAX_FUTURE_SKEW = timedelta(minutes=5)
# Spend (and restated totals) older than this is refused: platforms restate recent days, and
# a year and a month covers last year's same month. It also keeps every date far from the
# limits of the calendar types.
MAX_SPEND_AGE = timedelta(days=400)
MAX_SOURCE_LENGTH = 64
MAX_EXTERNAL_ID_LENGTH = 128


@dataclass(frozen=True)
class SpendEventInput:
    """One event as a caller hands it over; everything is validated by ``spend_record``."""

    campaign_id: int
    amount: Any
    occurred_at: datetime | None
    source: str
    external_id: str
    currency: str | None = None  # if given, must be the brand's


class EventStatus(StrEnum):
    ACCEPTED = "accepted"
    # The same (source, event_id) with the same campaign, amount and time: counted once.
    DUPLICATE = "duplicate"
    # The same (source, event_id) with a different campaign, amount or time: the recorded
    # event stays as it is, and this one changes nothing (as idempotency keys in payment APIs).
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass(frozen=True)
class EventOutcome:
    index: int
    status: EventStatus
    reason: str | None = None
    # For a conflict: the fields that differ from the recorded event.
    differs: tuple[str, ...] = ()


@dataclass
class SpendBatchResult:
    outcomes: list[EventOutcome]
    transitions: list[Transition] = field(default_factory=list)

    def _count(self, status: EventStatus) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def accepted(self) -> int:
        return self._count(EventStatus.ACCEPTED)

    @property
    def duplicates(self) -> int:
        return self._count(EventStatus.DUPLICATE)

    @property
    def conflicts(self) -> int:
        return self._count(EventStatus.CONFLICT)

    @property
    def rejected(self) -> int:
        return self._count(EventStatus.REJECTED)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly counts and per-event results (the API's and the task's answer)."""
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
            "results": [
                {
                    "index": o.index,
                    "status": o.status.value,
                    "reason": o.reason,
                    **({"differs": list(o.differs)} if o.differs else {}),
                }
                for o in self.outcomes
            ],
        }


@dataclass(frozen=True)
class ValidEvent(LedgerRow):
    index: int = -1


def _check_fields(event: SpendEventInput, at: datetime) -> tuple[Decimal | None, str | None]:
    """The amount, or the reason the event is rejected before looking at the database."""
    try:
        amount = parse_money(event.amount)
    except MoneyError as exc:
        return None, str(exc)
    if amount <= 0:
        return None, f"amount must be greater than zero, got {amount}"
    if not isinstance(event.campaign_id, int) or not 1 <= event.campaign_id <= MAX_ID:
        return None, f"unknown campaign {event.campaign_id!r}"
    problem = instant_problem(event.occurred_at, "occurred_at")
    if problem is not None:
        return None, problem
    occurred_at = cast(datetime, event.occurred_at)
    if occurred_at > at + MAX_FUTURE_SKEW:
        return None, (
            f"occurred_at {occurred_at.isoformat()} is more than "
            f"{int(MAX_FUTURE_SKEW.total_seconds() // 60)} minutes in the future"
        )
    if occurred_at < at - MAX_SPEND_AGE:
        return (
            None,
            f"occurred_at {occurred_at.isoformat()} is more than {MAX_SPEND_AGE.days} days ago",
        )
    for name, value, limit in (
        ("source", event.source, MAX_SOURCE_LENGTH),
        ("external_id", event.external_id, MAX_EXTERNAL_ID_LENGTH),
    ):
        if (problem := key_text_problem(name, value, limit)) is not None:
            return None, problem
    return amount, None


def key_text_problem(name: str, value: object, limit: int) -> str | None:
    """Why ``value`` cannot be a ledger key's text (a source, an event id), or None."""
    if not isinstance(value, str) or not value.strip():
        return f"{name} is required"
    if len(value) > limit:
        return f"{name} is longer than {limit} characters"
    if "\x00" in value:
        # PostgreSQL refuses NUL in text; SQLite's JSON functions would cut the key at it.
        return f"{name} must not contain NUL characters"
    return None


def currency_problem(given: str | None, brand_currency: str) -> str | None:
    """Why a currency named with spend (optional) cannot be taken for this brand, or None."""
    if given is not None and given.upper() != brand_currency:
        return f"currency {given!r} does not match the brand's currency {brand_currency!r}"
    return None


@dataclass(frozen=True)
class CheckedEvent:
    index: int
    event: SpendEventInput
    occurred_at: datetime
    micros: int


def check_all(
    events: Sequence[SpendEventInput], at: datetime
) -> tuple[list[CheckedEvent], dict[int, EventOutcome]]:
    """Field checks that need no database."""
    outcomes: dict[int, EventOutcome] = {}
    checked: list[CheckedEvent] = []
    for index, event in enumerate(events):
        amount, reason = _check_fields(event, at)
        if amount is None or event.occurred_at is None:
            outcomes[index] = EventOutcome(index, EventStatus.REJECTED, reason)
        else:
            checked.append(CheckedEvent(index, event, event.occurred_at, to_micros(amount)))
    return checked, outcomes


def resolve(
    checked: Sequence[CheckedEvent],
    targets: SpendTargets,
    allowed_brand_ids: frozenset[int] | None,
) -> tuple[list[ValidEvent], list[ValidEvent], dict[int, EventOutcome]]:
    """Campaign, scope and currency checks against what was read under lock. Returns the
    first valid occurrence of each key (to insert), later occurrences of a key within the
    batch (decided against what the first one leaves recorded), and the rejections."""
    outcomes: dict[int, EventOutcome] = {}
    valid: list[ValidEvent] = []
    repeats: list[ValidEvent] = []
    seen: set[LedgerKey] = set()
    for item in checked:
        event = item.event
        target = targets.campaigns.get(event.campaign_id)
        reason = None
        if target is None or (
            allowed_brand_ids is not None and target.brand_id not in allowed_brand_ids
        ):
            # The same words for a campaign of another brand as for one that does not
            # exist: a rejection must not tell a token what other brands hold.
            reason = f"unknown campaign {event.campaign_id!r}"
        else:
            reason = currency_problem(event.currency, target.currency)
        if reason is not None or target is None:
            outcomes[item.index] = EventOutcome(item.index, EventStatus.REJECTED, reason)
            continue
        row = ValidEvent(
            index=item.index,
            campaign_id=event.campaign_id,
            brand_id=target.brand_id,
            micros=item.micros,
            occurred_at=item.occurred_at,
            local_date=local_date(item.occurred_at, target.timezone),
            source=event.source,
            external_id=event.external_id,
        )
        if row.key in seen:
            repeats.append(row)
            continue
        seen.add(row.key)
        valid.append(row)
    # A fixed order of inserts: two batches sharing keys then wait on each other instead
    # of deadlocking.
    valid.sort(key=lambda v: v.key)
    return valid, repeats, outcomes


def compare(row: ValidEvent, recorded: Recorded) -> EventOutcome:
    """A resend of a recorded key: a duplicate if it says the same, else a conflict naming
    what differs. The recorded values are shown only for the same campaign: a key can have
    been used by another brand's sender, whose figures this caller must not learn."""
    differs: list[str] = []
    details: list[str] = []
    if row.campaign_id != recorded.campaign_id:
        differs.append("campaign")
        details.append("it was recorded for another campaign")
    else:
        if row.micros != recorded.micros:
            differs.append("amount")
            details.append(
                f"amount {money_text(row.micros)} (recorded: {money_text(recorded.micros)})"
            )
        if row.occurred_at != recorded.occurred_at:
            differs.append("occurred_at")
            details.append(
                f"occurred_at {row.occurred_at.isoformat()} "
                f"(recorded: {recorded.occurred_at.astimezone(row.occurred_at.tzinfo).isoformat()})"
            )
    if not differs:
        return EventOutcome(row.index, EventStatus.DUPLICATE)
    return EventOutcome(
        row.index,
        EventStatus.CONFLICT,
        f"source {row.source!r} and event_id {row.external_id!r} were already recorded with "
        f"different values: {'; '.join(details)}. The recorded event is kept; send a new "
        "event_id for new spend",
        tuple(differs),
    )


def decide(
    valid: Sequence[ValidEvent],
    repeats: Sequence[ValidEvent],
    inserted: set[LedgerKey],
) -> dict[int, EventOutcome]:
    """Accepted for what was inserted; duplicate or conflict for the rest, compared with
    the recorded event (one query, only when some key was already known)."""
    decided: dict[int, EventOutcome] = {}
    recorded: dict[LedgerKey, Recorded] = {}
    known: list[ValidEvent] = []
    for v in valid:
        if v.key in inserted:
            decided[v.index] = EventOutcome(v.index, EventStatus.ACCEPTED)
            recorded[v.key] = Recorded(v.campaign_id, v.micros, v.occurred_at)
        else:
            known.append(v)
    recorded.update(recorded_events([v.key for v in known]))
    for v in [*known, *repeats]:
        previous = recorded.get(v.key)
        if previous is None:
            # Only a dry run gets here (nothing was inserted, nothing is recorded).
            decided[v.index] = EventOutcome(v.index, EventStatus.ACCEPTED)
            recorded[v.key] = Recorded(v.campaign_id, v.micros, v.occurred_at)
        else:
            decided[v.index] = compare(v, previous)
    return decided
