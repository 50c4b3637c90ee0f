"""Why a campaign is in its state: the rule's own evaluation
(``ads.services.rule.evaluate``) for one campaign, so an explanation can never disagree with
the rule; and what recording spend would do (``record_spend --dry-run``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ads.core.periods import local_period
from ads.models import (
    Campaign,
    CampaignStatus,
    DaypartWindow,
)
from ads.services.openings import Opening, opening_current, opening_next
from ads.services.rule import Scope, evaluate

_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class BudgetLine:
    scope: str  # "brand" | "campaign"
    period: str  # "day" | "month"
    period_start: date
    spend: Decimal
    budget: Decimal
    remaining: Decimal
    exhausted: bool


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


def _line(scope: str, period: str, start: date, spend: Decimal, budget: Decimal) -> BudgetLine:
    return BudgetLine(
        scope=scope,
        period=period,
        period_start=start,
        spend=spend,
        budget=budget,
        remaining=max(budget - spend, _ZERO),
        exhausted=spend >= budget,
    )


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
        counts = (
            line.period_start == day
            if line.period == "day"
            else line.period_start == day.replace(day=1)
        )
        if counts:
            effects.append(SpendEffect(line=line, after=line.spend + amount))
    return effects
