"""Envelopes of the management API's brands and campaigns, and the input types every
management endpoint shares (money as decimal strings, ISO dates, ids, names)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    WithJsonSchema,
    field_validator,
)

from ads.api.schemas import CampaignOut, Money
from ads.core.money import MoneyError, parse_money
from ads.services.spend_input import MAX_ID, Text

_AMOUNT_PATTERN = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# Plans are made for this century and the next: a date past them is a typo, and date
# arithmetic near year 9999 would overflow.
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2199, 12, 31)


def _money(value: object) -> Decimal:
    # The spend endpoints' rule: a decimal string, or a JSON number by its exact digits
    # (the parser hands those over as text); ads.core.money.parse_money says why not.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("an amount is a decimal string such as '12.50'")
    try:
        return parse_money(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


def not_null(value: object) -> object:
    """For a field that may be left out of a change but not cleared (a `before` validator
    runs only for values sent)."""
    if value is None:
        raise ValueError("cannot be null (leave the field out to keep it)")
    return value


def _iso_date(value: object) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("a date is ISO 8601 text, YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a date") from None
    if not FIRST_DATE <= parsed <= LAST_DATE:
        raise ValueError(f"a date is between {FIRST_DATE} and {LAST_DATE}")
    return parsed


MoneyIn = Annotated[
    Decimal,
    PlainValidator(_money),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": _AMOUNT_PATTERN}, {"type": "number"}],
            "description": "A decimal string ('12.50') or a JSON number (its exact digits): "
            "above zero, no more decimals than the brand's currency has.",
            "examples": ["12.50"],
        }
    ),
]
IsoDate = Annotated[
    date,
    PlainValidator(_iso_date),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "description": f"Brand-local date, YYYY-MM-DD ({FIRST_DATE} to {LAST_DATE}).",
        }
    ),
]
IdIn = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


def _length(most: int) -> AfterValidator:
    def check(value: str) -> str:
        value = value.strip()
        if not 1 <= len(value) <= most:
            raise ValueError(f"must have 1 to {most} characters (spaces around it aside)")
        return value

    return AfterValidator(check)


Name = Annotated[Text, _length(200), Field(min_length=1, max_length=200)]
ExternalId = Annotated[Text, _length(128), Field(min_length=1, max_length=128)]


class TransitionOut(Schema):
    campaign: int
    to: str = Field(description="paused | running")
    reason: str | None = Field(description="The pause reason (null when running).")


class RefOut(Schema):
    id: int
    name: str


class BudgetsInForceOut(Schema):
    daily_budget: Money
    monthly_budget: Money


class BrandItemOut(Schema):
    id: int
    name: str
    timezone: str = Field(description="IANA zone of the brand's days and months (read only).")
    currency: str = Field(description="ISO 4217 (read only).")
    daily_budget: Money = Field(description="Spend of all its campaigns per brand-local day.")
    monthly_budget: Money = Field(description="Spend of all its campaigns per brand-local month.")


class BrandOut(BrandItemOut):
    budgets_in_force: BudgetsInForceOut = Field(
        description="Today's budgets (brand-local): for each, the latest budget change "
        "effective on or before today, else the budget above."
    )


class BrandWriteOut(BrandOut):
    transitions: list[TransitionOut]


class BrandListOut(Schema):
    items: list[BrandItemOut]


READ_ONLY = "is read only"


class BrandPatch(Schema):
    """The budgets; name, time zone and currency are read only (a 422 says so)."""

    model_config = ConfigDict(extra="forbid")

    daily_budget: MoneyIn | None = None
    monthly_budget: MoneyIn | None = None
    name: Any = Field(default=None, description=f"Read only: sending it {READ_ONLY} (422).")
    timezone: Any = Field(default=None, description=f"Read only: sending it {READ_ONLY} (422).")
    currency: Any = Field(default=None, description=f"Read only: sending it {READ_ONLY} (422).")

    _present = field_validator("daily_budget", "monthly_budget", mode="before")(not_null)


class CampaignItemOut(Schema):
    id: int
    name: str
    external_id: str | None
    brand: int
    enabled: bool = Field(description="False: paused by staff (reason manual).")
    status: str = Field(description="running | paused")
    pause_reason: str | None
    daily_budget: Money | None = Field(description="Its own cap per brand-local day.")
    monthly_budget: Money | None = Field(description="Its own cap per brand-local month.")
    schedule: RefOut | None
    shared_budget: RefOut | None


class CampaignListOut(Schema):
    items: list[CampaignItemOut]


class CampaignDetailOut(CampaignOut):
    daily_budget: Money | None = Field(description="Its own cap per brand-local day.")
    monthly_budget: Money | None = Field(description="Its own cap per brand-local month.")
    shared_budget: RefOut | None


class CampaignWriteOut(CampaignDetailOut):
    transitions: list[TransitionOut]


class _CampaignFields(Schema):
    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId | None = Field(default=None, description="The ad platform's id.")
    daily_budget: MoneyIn | None = Field(default=None, description="Cap per day; null: none.")
    monthly_budget: MoneyIn | None = Field(default=None, description="Cap per month; null: none.")
    schedule: IdIn | None = Field(default=None, description="Schedule id; null: any time.")
    shared_budget: IdIn | None = Field(
        default=None,
        description="Shared budget id (of the campaign's brand); null: none. A campaign already "
        "in another shared budget is refused (422), never moved silently: leave that one first.",
    )


class CampaignCreate(_CampaignFields):
    brand: IdIn
    name: Name
    enabled: StrictBool = True


class CampaignPatch(_CampaignFields):
    """The fields to change; those not sent stay as they are."""

    name: Name | None = None
    enabled: StrictBool | None = None
    brand: Any = Field(default=None, description=f"Read only: sending it {READ_ONLY} (422).")

    _present = field_validator("name", "enabled", mode="before")(not_null)
