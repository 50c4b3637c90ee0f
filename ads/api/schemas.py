"""Response and request envelopes of the HTTP API (amounts as strings, instants with offset)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, PlainSerializer, WithJsonSchema

from ads.services.spend_input import MAX_BATCH, DailyTotalPayload, SpendEventPayload, item_schema

# Decimals travel as JSON strings ("12.50"), never as floats.
Money = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(value), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["12.50"]}),
]

# Items are validated one by one by the services (a bad item is rejected alone, the rest
# are stored), so the envelope takes objects; the documented schema is the item's.
SpendItems = Annotated[
    list[dict[str, Any]],
    Field(min_length=1, max_length=MAX_BATCH),
    WithJsonSchema(
        {
            "type": "array",
            "items": item_schema(SpendEventPayload),
            "minItems": 1,
            "maxItems": MAX_BATCH,
        }
    ),
]
TotalItems = Annotated[
    list[dict[str, Any]],
    Field(min_length=1, max_length=MAX_BATCH),
    WithJsonSchema(
        {
            "type": "array",
            "items": item_schema(DailyTotalPayload),
            "minItems": 1,
            "maxItems": MAX_BATCH,
        }
    ),
]


class SpendEventsIn(Schema):
    events: SpendItems


class EventResultOut(Schema):
    index: int
    status: str = Field(
        description="accepted | duplicate (the same source + event_id with the same values: "
        "counted once) | conflict (the same source + event_id with a different campaign, "
        "amount or occurred_at: the recorded event is kept, this one changes nothing) | "
        "rejected"
    )
    reason: str | None = None
    differs: list[str] | None = Field(
        default=None,
        description="For a conflict: the fields that differ from the recorded event "
        "(campaign, amount, occurred_at).",
    )


class SpendEventsOut(Schema):
    accepted: int
    duplicates: int
    conflicts: int
    rejected: int
    results: list[EventResultOut]
    detail: str | None = Field(default=None, description="Set when nothing was accepted.")


class DailyTotalsIn(Schema):
    totals: TotalItems


class TotalResultOut(Schema):
    index: int
    status: str = Field(description="applied | unchanged | stale | rejected")
    reason: str | None = None
    adjustment: Money | None = Field(
        default=None, description="What was added to (or, negative, taken from) the day."
    )


class DailyTotalsOut(Schema):
    applied: int
    unchanged: int
    stale: int
    rejected: int
    results: list[TotalResultOut]
    detail: str | None = None


class ErrorOut(Schema):
    detail: str
    errors: list[dict[str, Any]] | None = None


class BrandRefOut(Schema):
    id: int
    name: str
    timezone: str
    currency: str


class BudgetLineOut(Schema):
    scope: str = Field(description="brand | campaign | shared_budget | flight")
    period: str = Field(description="day | month (brand-local) | flight (the flight's dates)")
    period_start: date
    spend: Money
    budget: Money = Field(description="The budget in force (the budget calendar's, if any).")
    remaining: Money
    exhausted: bool
    name: str | None = Field(default=None, description="The shared budget's or flight's name.")
    period_end: date | None = Field(default=None, description="A flight's last date.")


class FlightDatesOut(Schema):
    name: str
    starts_on: date
    ends_on: date


class CampaignFlightsOut(Schema):
    current_id: int | None = Field(
        description="The flight holding the brand-local day; null: none does, so the campaign "
        "is paused outside_flight."
    )
    current_name: str | None
    flights: list[FlightDatesOut] = Field(description="Every flight of the campaign, by date.")


class OpeningOut(Schema):
    weekday: int = Field(description="0 = Monday")
    opens_at: datetime
    closes_at: datetime


class ScheduleOut(Schema):
    id: int
    name: str
    open: bool
    current_window: OpeningOut | None
    next_window: OpeningOut | None


class CampaignOut(Schema):
    id: int
    name: str
    external_id: str | None
    brand: BrandRefOut
    enabled: bool
    status: str
    pause_reason: str | None
    status_changed_at: datetime | None
    evaluated_at: datetime
    local_time: datetime
    should_be_status: str = Field(
        description="What the rule says right now; equals status once enforced."
    )
    should_be_reason: str | None
    budgets: list[BudgetLineOut]
    schedule: ScheduleOut | None
    flight: CampaignFlightsOut | None = Field(
        default=None, description="Its flights; null: it is in none (it runs on any date)."
    )


class PeriodBudgetOut(Schema):
    period_start: date
    starts_at: datetime
    ends_at: datetime
    spend: Money
    budget: Money
    remaining: Money
    overspend: Money = Field(description="Spend past the budget (arrived after the pause).")
    projected: Money | None = Field(
        description="Straight-line projection to the end of the period at the rate so far."
    )


class BrandBudgetOut(Schema):
    brand: BrandRefOut
    evaluated_at: datetime
    local_time: datetime
    day: PeriodBudgetOut
    month: PeriodBudgetOut
