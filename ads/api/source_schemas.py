"""Envelopes of a brand's spend sources and their reporting lags."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema

from ads.api.manage_schemas import TransitionOut
from ads.models import MAX_LAG_MINUTES


class SourceOut(Schema):
    source: str = Field(description="The `source` its events and daily totals carry.")
    lag_minutes: int | None = Field(
        description="Set by an operator: used instead of the learned p95 (null: learned)."
    )
    learned_p50_minutes: int | None = Field(
        description="By when half of its spend had arrived (received minus occurred, over the "
        "rows received in the last 7 days, weighted by amount); null until 20 rows are known."
    )
    learned_p95_minutes: int | None = Field(
        description="By when 95 % of its spend had arrived; null until 20 rows are known."
    )
    lag_in_use_minutes: int = Field(
        description="The operator's lag, else the learned p95, else 0 (reports in real time)."
    )
    learned_min_minutes: int | None = Field(
        description="The quickest any of its rows arrived: negative when its clock runs ahead "
        "of ours, large when it is behind (or reports in batches)."
    )
    samples: int = Field(description="Rows the learned figures come from.")
    learned_at: datetime | None = Field(description="When the figures were last learned (UTC).")


class SourceListOut(Schema):
    items: list[SourceOut]


class SourceWriteOut(SourceOut):
    transitions: list[TransitionOut]


LagIn = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": MAX_LAG_MINUTES},
                {"type": "null"},
            ],
            "description": f"Minutes, 0 to {MAX_LAG_MINUTES} (48 hours); null: learn it again.",
            "examples": [180],
        }
    ),
]


class SourcePatch(Schema):
    """The operator's lag: minutes, or null to use the learned one again."""

    model_config = ConfigDict(extra="forbid")

    lag_minutes: LagIn = None
