"""Reads shared by the API and the admin: why a campaign is in its state, and where a
brand stands against its budgets. Spend figures and the verdict come from the engine's own
evaluation (``reconcile.evaluate``), so an explanation can never disagree with the rule."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db.models import Count

from ads.models import (
    Brand,
    BrandPeriodSpend,
    Campaign,
    CampaignStatus,
    DaypartWindow,
    PauseReason,
    SpendPeriod,
    WindowOccurrence,
    current_occurrence,
    next_occurrence,
)
from ads.money import quantize
from ads.services.periods import day_bounds, local_period, month_bounds, zone
from ads.services.reconcile import Scope, evaluate

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
class Opening:
    opens_at: datetime  # aware, in the brand's zone
    closes_at: datetime
    weekday: int


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


def _aware(occurrence: WindowOccurrence | None, timezone: str) -> Opening | None:
    if occurrence is None:
        return None
    tz = zone(timezone)
    # Wall-clock times to instants, normalised through UTC (a non-existent local time on a
    # spring-forward day becomes the instant it denotes).
    return Opening(
        opens_at=occurrence.opens.replace(tzinfo=tz).astimezone(UTC).astimezone(tz),
        closes_at=occurrence.closes.replace(tzinfo=tz).astimezone(UTC).astimezone(tz),
        weekday=occurrence.window.weekday,
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
            current=_aware(current_occurrence(windows, period.local), campaign.brand.timezone),
            next=_aware(next_occurrence(windows, period.local), campaign.brand.timezone),
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


@dataclass(frozen=True)
class PeriodBudget:
    period: str
    period_start: date
    starts_at: datetime
    ends_at: datetime
    spend: Decimal
    budget: Decimal
    remaining: Decimal
    overspend: Decimal
    projected: Decimal | None


@dataclass(frozen=True)
class BrandBudgetReport:
    brand: Brand
    at: datetime
    local_time: datetime
    day: PeriodBudget
    month: PeriodBudget


def _period_budget(
    period: str,
    start: date,
    bounds: tuple[datetime, datetime],
    spend: Decimal,
    budget: Decimal,
    at: datetime,
    timezone: str,
) -> PeriodBudget:
    begins, ends = bounds
    elapsed = (at - begins) / (ends - begins)
    # Straight line: the spend so far, at the same rate, to the end of the period (real
    # elapsed time, so 23- and 25-hour days are counted as they are).
    projected = quantize(spend / Decimal(elapsed)) if elapsed > 0 else None
    tz = zone(timezone)
    return PeriodBudget(
        period=period,
        period_start=start,
        starts_at=begins.astimezone(tz),
        ends_at=ends.astimezone(tz),
        spend=spend,
        budget=budget,
        remaining=max(budget - spend, _ZERO),
        overspend=max(spend - budget, _ZERO),
        projected=projected,
    )


def brand_budget_report(*, brand_id: int, at: datetime) -> BrandBudgetReport | None:
    """Today's and this month's spend (brand-local) against the budgets; None if unknown."""
    brand = Brand.objects.filter(pk=brand_id).first()
    if brand is None:
        return None
    period = local_period(at, brand.timezone)
    totals = {
        (row.period, row.period_start): row.amount
        for row in BrandPeriodSpend.objects.filter(
            brand=brand, period_start__in=[period.day, period.month]
        )
    }
    day_spend = totals.get((SpendPeriod.DAY, period.day), _ZERO)
    month_spend = totals.get((SpendPeriod.MONTH, period.month), _ZERO)
    return BrandBudgetReport(
        brand=brand,
        at=at,
        local_time=period.local,
        day=_period_budget(
            "day",
            period.day,
            day_bounds(period.day, brand.timezone),
            day_spend,
            brand.daily_budget,
            at,
            brand.timezone,
        ),
        month=_period_budget(
            "month",
            period.month,
            month_bounds(period.month, brand.timezone),
            month_spend,
            brand.monthly_budget,
            at,
            brand.timezone,
        ),
    )


# --- Where campaigns stand (the last line of the sweep commands and of seed_data) ----------


@dataclass(frozen=True)
class CampaignStates:
    """How many campaigns run, and how many are paused for each reason, right now."""

    total: int
    running: int
    paused_by_reason: dict[str, int]

    @property
    def paused(self) -> int:
        return sum(self.paused_by_reason.values())

    def line(self) -> str:
        """For an operator: '12 campaigns, 6 running, 6 paused (3 outside_schedule, ...)'."""
        text = f"{self.total} campaigns, {self.running} running, {self.paused} paused"
        if self.paused_by_reason:
            reasons = ", ".join(f"{n} {reason}" for reason, n in self.paused_by_reason.items())
            text += f" ({reasons})"
        return text


def campaign_states(*, brand_ids: Collection[int] | None = None) -> CampaignStates:
    """Campaigns by stored status and reason, of some brands or all (one query). Reasons in
    ``PauseReason`` order."""
    campaigns = Campaign.objects.all()
    if brand_ids is not None:
        campaigns = campaigns.filter(brand_id__in=brand_ids)
    counts = {
        (row["status"], row["pause_reason"]): row["n"]
        for row in campaigns.order_by().values("status", "pause_reason").annotate(n=Count("id"))
    }
    running = counts.pop((CampaignStatus.RUNNING, None), 0)
    paused = {reason: counts.get((CampaignStatus.PAUSED, reason), 0) for reason in PauseReason}
    return CampaignStates(
        total=running + sum(counts.values()),
        running=running,
        paused_by_reason={str(reason): n for reason, n in paused.items() if n},
    )


# --- Brands named by an operator (id or name) -----------------------------------------------


@dataclass(frozen=True)
class BrandLookup:
    """What a list of brand references named: the brands found (in the order given, each
    once), and the references that named none or several."""

    found: list[Brand]
    unknown: list[str]
    ambiguous: dict[str, list[Brand]]


def brands_lookup(references: Sequence[str]) -> BrandLookup:
    """Brands by id or by name, ignoring case. A reference that matches several brands (two
    names differing only in case, or an id and another brand's name) is ambiguous, unless
    exactly one of them is an exact, case-sensitive match."""
    # Compared in Python: SQLite's lower() folds ASCII only, so "Café" would miss "CAFÉ".
    # The (id, name) pairs of every brand are small next to anything else this project reads.
    brands = {brand.pk: brand for brand in Brand.objects.only("id", "name")}
    found: dict[int, Brand] = {}
    unknown: list[str] = []
    ambiguous: dict[str, list[Brand]] = {}
    for reference in references:
        text = reference.strip()
        folded = text.casefold()
        matches = [b for b in brands.values() if b.name.casefold() == folded]
        if text.isdigit() and int(text) in brands and brands[int(text)] not in matches:
            matches.append(brands[int(text)])
        exact = [b for b in matches if b.name == text or str(b.pk) == text]
        if len(matches) > 1 and len(exact) == 1:
            matches = exact
        if not matches:
            unknown.append(reference)
        elif len(matches) > 1:
            ambiguous[reference] = sorted(matches, key=lambda b: b.pk)
        else:
            found.setdefault(matches[0].pk, matches[0])
    return BrandLookup(found=list(found.values()), unknown=unknown, ambiguous=ambiguous)
