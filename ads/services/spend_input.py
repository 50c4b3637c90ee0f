"""Shapes of spend input from outside (HTTP API, Celery task, CSV import).

One definition serves validation of each item and the OpenAPI documentation. Amounts are
strings (decimal, exact); instants are ISO-8601 strings with an offset. Semantic rules
(amount > 0, not in the future, ...) are checked by the services, not here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import WithJsonSchema

MAX_BATCH = 1000
# Ids are PostgreSQL bigints; a larger number names no campaign and must not reach a query.
MAX_ID = 2**63 - 1


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text, and SQLite's JSON functions cut the text at it.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class JsonNumber(str):
    """The literal text of a JSON number that is not a small integer, as the API's parser
    (``ads.api.parser``) hands it over instead of a float: an amount sent as a number is then
    read from exactly the digits that were sent, never through binary floating point."""


# Integers the parser turns into int: every id and count. Longer ones stay JsonNumber text
# (an amount of 30 digits gets its own "out of range" reason, an id a type error).
JSON_INT_DIGITS = 19


def _not_a_number(value: object) -> object:
    if isinstance(value, JsonNumber):
        raise ValueError("Input should be a valid string")
    return value


def _amount_text(value: object) -> object:
    # A JSON number is taken by its literal digits; an int (from JSON or Python) likewise.
    # Whether that text is an acceptable amount is ads.core.money.parse_money's to say.
    if isinstance(value, JsonNumber):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# Text from outside: a string, without NUL characters (documented as a pattern too).
Text = Annotated[
    StrictStr,
    BeforeValidator(_not_a_number),
    AfterValidator(_no_nul),
    Field(json_schema_extra={"pattern": "^[^\u0000]*$"}),
]
# An amount: a decimal string, or a JSON number taken by its exact digits. Both must be plain
# decimal notation ('12.50', 12.5); ads.core.money.parse_money gives the reason for anything else.
AmountText = Annotated[
    StrictStr,
    BeforeValidator(_amount_text),
    AfterValidator(_no_nul),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": "^[^\u0000]*$"},
                {"type": "number"},
            ]
        }
    ),
]


class _CampaignRef(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [{"required": ["campaign"]}, {"required": ["campaign_external_id"]}]
        },
    )

    campaign: StrictInt | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="Campaign id. Give this or campaign_external_id.",
    )
    campaign_external_id: Text | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The ad platform's campaign id, as stored on the campaign.",
    )
    brand: Annotated[StrictInt, Field(ge=1, le=MAX_ID)] | Text | None = Field(
        default=None,
        description="Brand id or name: needed with campaign_external_id when that id exists "
        "in several brands the token may write to.",
    )

    @model_validator(mode="after")
    def _one_reference(self) -> _CampaignRef:
        if (self.campaign is None) == (self.campaign_external_id is None):
            raise ValueError("give exactly one of campaign and campaign_external_id")
        return self


class SpendEventPayload(_CampaignRef):
    amount: AmountText = Field(
        description="Greater than zero, in plain decimal notation with at most 6 decimal "
        'places: a string such as "12.50" (preferred) or a JSON number such as 12.5, '
        "read from its exact digits. No exponent (1e3), separators or other characters.",
        examples=["12.50"],
    )
    occurred_at: Text = Field(
        description="When it was spent: ISO-8601 with an offset. At most 5 minutes ahead.",
        json_schema_extra={"format": "date-time"},
        examples=["2026-06-10T10:00:00+02:00"],
    )
    source: Text = Field(
        min_length=1, max_length=64, description="Who reports it.", examples=["google-ads"]
    )
    event_id: Text = Field(
        min_length=1,
        max_length=128,
        description="Idempotency key within the source: resending it records nothing new.",
    )
    currency: Text | None = Field(
        default=None,
        min_length=3,
        max_length=3,
        description="ISO 4217; if given, must be the brand's currency.",
    )


class DailyTotalPayload(_CampaignRef):
    date: Text = Field(
        description="Brand-local date, YYYY-MM-DD.",
        json_schema_extra={"format": "date"},
        examples=["2026-06-10"],
    )
    total: AmountText = Field(
        description="The campaign's whole spend on that date from this source, >= 0, in "
        'plain decimal notation (a string such as "123.45" or a JSON number).',
        examples=["123.45"],
    )
    reported_at: Text = Field(
        description="When the source computed the total: ISO-8601 with an offset. The latest "
        "report wins; an older one changes nothing.",
        json_schema_extra={"format": "date-time"},
    )
    source: Text = Field(min_length=1, max_length=64, examples=["google-ads"])
    currency: Text | None = Field(default=None, min_length=3, max_length=3)


def describe_errors(exc: ValidationError) -> str:
    """One readable line: 'amount: Input should be a valid string; event_id: Field required'."""
    parts = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"])
        parts.append(f"{location}: {error['msg']}" if location else str(error["msg"]))
    return "; ".join(parts)


def item_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of one item, inline (these models have no nested definitions)."""
    schema = model.model_json_schema()
    assert "$defs" not in schema
    return schema
