"""Why a campaign is in its state: the rule's own evaluation
(``ads.services.rule.evaluate``) for one campaign, so an explanation can never disagree with
the rule; and what recording spend would do (``record_spend --dry-run``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ads.core.periods import LocalPeriod, local_period
from ads.models import Campaign, CampaignStatus, DaypartWindow, Flight, SharedBudget
from ads.services.openings import Opening, opening_current, opening_next
from ads.services.rule import Scope, evaluate

_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class BudgetLine:
    scope: str  # "brand" | "campaign" | "shared_budget" | "flight"
    period: str  # "day" | "month" | "flight" (the flight's dates)
    period_start: date
    spend: Decimal
    budget: Decimal
    remaining: Decimal
    exhausted: bool
    name: str | None = None  # the shared budget's or flight's name
    period_end: date | None = None  # a flight's last date


@dataclass(frozen=True)
class FlightState:
    """The campaign's flights as the rule sees them at ``at``: the flight holding the
    brand-local day (None: none does, so a campaign in flights is outside them)."""

    current_id: int | None
    current_name: str | None
    flights: list[tuple[str, date, date]]  # every flight of the campaign: name, first, last


@dataclass(frozen=True)
class ScheduleState:
    id: int
    name: str
    open: bool
    current: Opening | None
    next: Opening | None


@dataclass(frozen=True)
class CampaignExplanation:
    campaign: Campaign
    at: datetime
    local_time: datetime
    should_be_status: str
    should_be_reason: str | None
    budgets: list[BudgetLine]
    schedule: ScheduleState | None
    flight: FlightState | None = None  # None: in no flight


def _line(
    scope: str,
    period: str,
    start: date,
    spend: Decimal,
    budget: Decimal,
    name: str | None = None,
    end: date | None = None,
) -> BudgetLine:
    return BudgetLine(
        scope=scope,
        period=period,
        period_start=start,
        spend=spend,
        budget=budget,
        remaining=max(budget - spend, _ZERO),
        exhausted=spend >= budget,
        name=name,
        period_end=end,
    )


def _plan_lines(
    campaign: Campaign, row: dict[str, Any], period: LocalPeriod
) -> tuple[list[BudgetLine], FlightState | None]:
    """The shared budget's and the current flight's lines, and the flights' state."""
    lines = []
    if row["shared_budget_id"] is not None:
        name = SharedBudget.objects.values_list("name", flat=True).get(pk=row["shared_budget_id"])
        for which, start, spent in (
            ("day", period.day, row["shared_day_spend"]),
            ("month", period.month, row["shared_month_spend"]),
        ):
            budget = row[f"shared_{'daily' if which == 'day' else 'monthly'}_budget"]
            if budget is not None:
                lines.append(_line("shared_budget", which, start, spent, budget, name))
    if not row["in_flight"]:
        return lines, None
    flights = list(
        Flight.objects.filter(memberships__campaign=campaign)
        .order_by("starts_on")
        .values_list("id", "name", "starts_on", "ends_on")
    )
    current = next((f for f in flights if f[0] == row["flight_id"]), None)
    if current is not None:
        lines.append(
            _line(
                "flight",
                "flight",
                current[2],
                row["flight_spend"],
                row["flight_budget"],
                current[1],
                current[3],
            )
        )
    state = FlightState(
        current_id=None if current is None else current[0],
        current_name=None if current is None else current[1],
        flights=[(name, first, last) for _, name, first, last in flights],
    )
    return lines, state


def campaign_explain(*, campaign_id: int, at: datetime) -> CampaignExplanation | None:
    """The campaign, and the rule's inputs and verdict at ``at``; None if it does not exist."""
    campaign = Campaign.objects.select_related("brand", "schedule").filter(pk=campaign_id).first()
    if campaign is None:
        return None
    (row,) = evaluate(at=at, scope=Scope(campaign_ids=(campaign_id,)))
    period = local_period(at, campaign.brand.timezone)
    budgets = [
        _line("brand", "day", period.day, row["brand_day_spend"], row["brand_daily_budget"]),
        _line(
            "brand", "month", period.month, row["brand_month_spend"], row["brand_monthly_budget"]
        ),
    ]
    if row["campaign_daily_budget"] is not None:
        budgets.append(
            _line(
                "campaign",
                "day",
                period.day,
                row["campaign_day_spend"],
                row["campaign_daily_budget"],
            )
        )
    if row["campaign_monthly_budget"] is not None:
        budgets.append(
            _line(
                "campaign",
                "month",
                period.month,
                row["campaign_month_spend"],
                row["campaign_monthly_budget"],
            )
        )
    plan_lines, flight = _plan_lines(campaign, row, period)
    budgets += plan_lines
    schedule = None
    if campaign.schedule is not None:
        windows = list(DaypartWindow.objects.filter(schedule=campaign.schedule))
        schedule = ScheduleState(
            id=campaign.schedule.pk,
            name=campaign.schedule.name,
            open=bool(row["schedule_open"]),
            current=opening_current(windows, at=at, timezone=campaign.brand.timezone),
            next=opening_next(windows, at=at, timezone=campaign.brand.timezone),
        )
    reason = row["desired_reason"]
    return CampaignExplanation(
        campaign=campaign,
        at=at,
        local_time=period.local,
        should_be_status=CampaignStatus.PAUSED if reason else CampaignStatus.RUNNING,
        should_be_reason=reason,
        budgets=budgets,
        schedule=schedule,
        flight=flight,
    )


# --- What recording spend would do (record_spend --dry-run) -------------------------------


@dataclass(frozen=True)
class SpendEffect:
    line: BudgetLine
    after: Decimal

    @property
    def reaches(self) -> bool:
        return self.after >= self.line.budget


def spend_effect(
    *, campaign_id: int, amount: Decimal, occurred_at: datetime, at: datetime
) -> list[SpendEffect]:
    """Each budget of the campaign that spend at ``occurred_at`` would count towards now,
    with the total it would bring it to (the rule pauses at ``reaches``). Read-only."""
    explained = campaign_explain(campaign_id=campaign_id, at=at)
    if explained is None:
        return []
    day = local_period(occurred_at, explained.campaign.brand.timezone).day
    effects = []
    for line in explained.budgets:
        if line.period == "flight":
            counts = line.period_start <= day <= (line.period_end or day)
        elif line.period == "day":
            counts = line.period_start == day
        else:
            counts = line.period_start == day.replace(day=1)
        if counts:
            effects.append(SpendEffect(line=line, after=line.spend + amount))
    return effects
