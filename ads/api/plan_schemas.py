"""Envelopes of the management API's plans: flights, shared budgets and the budget
calendar (money as decimal strings, brand-local ISO dates)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from ads.api.manage_schemas import IdIn, IsoDate, MoneyIn, Name, TransitionOut, not_null
from ads.api.schemas import Money

# A plan names its campaigns by id; a brand with more in one flight is not a plan.
MAX_CAMPAIGNS = 10_000
CampaignIds = Annotated[list[IdIn], Field(max_length=MAX_CAMPAIGNS)]
_CAMPAIGNS = "Campaign ids, all of the brand; replaces the set."


class DeletedOut(Schema):
    id: int
    deleted: bool = True
    transitions: list[TransitionOut]


class FlightCreate(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Name
    starts_on: IsoDate = Field(description="First brand-local date.")
    ends_on: IsoDate = Field(description="Last brand-local date (inclusive).")
    budget: MoneyIn = Field(description="Spend of its campaigns over all its dates.")
    campaigns: CampaignIds = Field(
        default_factory=list,
        description="Campaign ids, all of the brand; a campaign's flights may not overlap.",
    )


class FlightPatch(Schema):
    """The fields to change; those not sent stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None
    budget: MoneyIn | None = None
    campaigns: CampaignIds | None = Field(default=None, description=_CAMPAIGNS)

    _present = field_validator(
        "name", "starts_on", "ends_on", "budget", "campaigns", mode="before"
    )(not_null)


class FlightOut(Schema):
    id: int
    brand: int
    name: str
    starts_on: date
    ends_on: date
    budget: Money
    campaigns: list[int]
    spend: Money = Field(description="Its campaigns' spend on its dates.")
    remaining: Money = Field(description="Budget minus spend: negative when over.")
    days_left: int = Field(
        description="Brand-local days from today to the end, today included; 0 once ended."
    )
    projected: Money = Field(
        description="Spend at the end at the rate so far (the spend, before it starts or once "
        "ended)."
    )
    pace: str = Field(description="not started | ahead | behind | on pace | ended")
    on_pace: bool


class FlightWriteOut(FlightOut):
    transitions: list[TransitionOut]


class FlightListOut(Schema):
    items: list[FlightOut]


class SharedBudgetCreate(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Name
    daily_budget: MoneyIn | None = Field(default=None, description="Per brand-local day.")
    monthly_budget: MoneyIn | None = Field(default=None, description="Per brand-local month.")
    campaigns: CampaignIds = Field(
        default_factory=list,
        description="Campaign ids, all of the brand; one already in another shared budget is "
        "refused (422, naming it), never moved silently.",
    )


class SharedBudgetPatch(Schema):
    """The fields to change; those not sent stay as they are (null clears one of the two
    budgets; at least one remains)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    daily_budget: MoneyIn | None = None
    monthly_budget: MoneyIn | None = None
    campaigns: CampaignIds | None = Field(default=None, description=_CAMPAIGNS)

    _present = field_validator("name", "campaigns", mode="before")(not_null)


class SharedBudgetOut(Schema):
    id: int
    brand: int
    name: str
    daily_budget: Money | None = Field(description="Its own daily budget.")
    monthly_budget: Money | None = Field(description="Its own monthly budget.")
    campaigns: list[int]
    day_spend: Money = Field(description="Its campaigns' spend today (brand-local).")
    month_spend: Money = Field(description="Its campaigns' spend this month (brand-local).")
    daily_budget_in_force: Money | None = Field(
        description="Today's daily budget: the budget calendar's, else its own."
    )
    monthly_budget_in_force: Money | None


class SharedBudgetWriteOut(SharedBudgetOut):
    transitions: list[TransitionOut]


class SharedBudgetListOut(Schema):
    items: list[SharedBudgetOut]


class CampaignTarget(Schema):
    model_config = ConfigDict(extra="forbid")

    campaign: IdIn


class SharedBudgetTarget(Schema):
    model_config = ConfigDict(extra="forbid")

    shared_budget: IdIn


class BudgetChangeCreate(Schema):
    model_config = ConfigDict(extra="forbid")

    target: Literal["brand"] | CampaignTarget | SharedBudgetTarget = Field(
        description='"brand", {"campaign": id} or {"shared_budget": id} (of this brand).'
    )
    effective_on: IsoDate = Field(description="Brand-local date it applies from: today or later.")
    daily_budget: MoneyIn | None = None
    monthly_budget: MoneyIn | None = None


class BudgetChangeOut(Schema):
    id: int
    brand: int
    target: Literal["brand"] | CampaignTarget | SharedBudgetTarget
    effective_on: date
    daily_budget: Money | None
    monthly_budget: Money | None
    created_by: str = Field(description="Who planned it (api:<token name> or a username).")
    created_at: datetime
    upcoming: bool = Field(
        description="Effective after today (brand-local): it can still be deleted."
    )


class BudgetChangeWriteOut(BudgetChangeOut):
    transitions: list[TransitionOut]


class BudgetChangeListOut(Schema):
    items: list[BudgetChangeOut]
