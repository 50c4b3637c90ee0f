"""Reading the plans: each flight's spend, what remains, days left and where it is heading;
each shared budget's day and month against the budgets in force; the calendar's upcoming
changes; and the budgets in force on a day. For the management API and the console, so
they can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from ads.core.pacing import projected_spend
from ads.core.periods import local_date, local_midnight, local_period
from ads.models import (
    BudgetChange,
    BudgetTarget,
    Flight,
    FlightCampaign,
    FlightSpend,
    SharedBudget,
    SharedBudgetPeriodSpend,
    SpendPeriod,
)

_ZERO = Decimal("0.00")
# A flight heading below its budget by more than this share is behind; above it, ahead.
PACE_MARGIN = Decimal("0.10")


@dataclass(frozen=True)
class FlightReport:
    flight: Flight
    spend: Decimal
    remaining: Decimal  # budget minus spend: negative when over
    days_left: int  # brand-local days from today to the end, today included; 0 once ended
    projected: Decimal  # the spend at the end at the rate so far (the spend once ended)
    pace: str  # "not started", "ahead", "behind", "on pace" or "ended"
    campaign_ids: list[int]

    @property
    def on_pace(self) -> bool:
        return self.pace in ("on pace", "not started")


def _flight_report(
    flight: Flight, spend: Decimal, campaign_ids: list[int], at: datetime
) -> FlightReport:
    zone = flight.brand.timezone
    today = local_date(at, zone)
    days_left = max((flight.ends_on - today).days + 1, 0)
    bounds = (
        local_midnight(flight.starts_on, zone),
        local_midnight(flight.ends_on + timedelta(days=1), zone),
    )
    if today < flight.starts_on:
        projected, pace = spend, "not started"
    elif days_left == 0:
        projected, pace = spend, "ended"
    else:
        projected = projected_spend(spend=spend, bounds=bounds, at=at) or spend
        if projected > flight.budget:
            pace = "ahead"
        elif projected < flight.budget * (1 - PACE_MARGIN):
            pace = "behind"
        else:
            pace = "on pace"
    return FlightReport(
        flight=flight,
        spend=spend,
        remaining=flight.budget - spend,
        days_left=days_left,
        projected=projected,
        pace=pace,
        campaign_ids=campaign_ids,
    )


def _flight_reports(flights: list[Flight], at: datetime) -> list[FlightReport]:
    ids = [flight.pk for flight in flights]
    spend = dict(FlightSpend.objects.filter(flight_id__in=ids).values_list("flight_id", "amount"))
    members: dict[int, list[int]] = {}
    for flight_id, campaign_id in (
        FlightCampaign.objects.filter(flight_id__in=ids)
        .order_by("campaign_id")
        .values_list("flight_id", "campaign_id")
    ):
        members.setdefault(flight_id, []).append(campaign_id)
    return [
        _flight_report(flight, spend.get(flight.pk, _ZERO), members.get(flight.pk, []), at)
        for flight in flights
    ]


def flight_reports(*, brand_id: int, at: datetime) -> list[FlightReport]:
    """The brand's flights, by start date (four queries whatever their number)."""
    flights = list(
        Flight.objects.filter(brand_id=brand_id)
        .select_related("brand")
        .order_by("starts_on", "name")
    )
    return _flight_reports(flights, at)


def flight_report(*, flight_id: int, at: datetime) -> FlightReport | None:
    flight = Flight.objects.filter(pk=flight_id).select_related("brand").first()
    return None if flight is None else _flight_reports([flight], at)[0]


@dataclass(frozen=True)
class BudgetsInForce:
    daily_budget: Decimal | None
    monthly_budget: Decimal | None


def budgets_in_force(
    *, brand_id: int, target: BudgetTarget, owner_id: int, stored: BudgetsInForce, on: date
) -> BudgetsInForce:
    """The daily and monthly budgets in force on ``on``: for each, the latest change
    effective on or before it that sets it, else the stored budget (the rule's
    definition, ``ads.services.rule_plans.in_force_sql``)."""
    changes = BudgetChange.objects.filter(brand_id=brand_id, target=target, effective_on__lte=on)
    if target == BudgetTarget.CAMPAIGN:
        changes = changes.filter(campaign_id=owner_id)
    elif target == BudgetTarget.SHARED_BUDGET:
        changes = changes.filter(shared_budget_id=owner_id)
    daily, monthly = stored.daily_budget, stored.monthly_budget
    daily_set = monthly_set = False
    for change in changes.order_by("-effective_on"):
        if not daily_set and change.daily_budget is not None:
            daily, daily_set = change.daily_budget, True
        if not monthly_set and change.monthly_budget is not None:
            monthly, monthly_set = change.monthly_budget, True
    return BudgetsInForce(daily, monthly)


@dataclass(frozen=True)
class SharedBudgetReport:
    shared_budget: SharedBudget
    day_spend: Decimal
    month_spend: Decimal
    daily_budget: Decimal | None  # in force today
    monthly_budget: Decimal | None
    campaign_ids: list[int]


def _shared_reports(shared: list[SharedBudget], at: datetime) -> list[SharedBudgetReport]:
    reports = []
    for item in shared:
        period = local_period(at, item.brand.timezone)
        totals = {
            (row.period, row.period_start): row.amount
            for row in SharedBudgetPeriodSpend.objects.filter(
                shared_budget=item, period_start__in=[period.day, period.month]
            )
        }
        budgets = budgets_in_force(
            brand_id=item.brand_id,
            target=BudgetTarget.SHARED_BUDGET,
            owner_id=item.pk,
            stored=BudgetsInForce(item.daily_budget, item.monthly_budget),
            on=period.day,
        )
        reports.append(
            SharedBudgetReport(
                shared_budget=item,
                day_spend=totals.get((SpendPeriod.DAY, period.day), _ZERO),
                month_spend=totals.get((SpendPeriod.MONTH, period.month), _ZERO),
                daily_budget=budgets.daily_budget,
                monthly_budget=budgets.monthly_budget,
                campaign_ids=sorted(item.campaigns.values_list("id", flat=True)),
            )
        )
    return reports


def shared_budget_reports(*, brand_id: int, at: datetime) -> list[SharedBudgetReport]:
    shared = list(SharedBudget.objects.filter(brand_id=brand_id).select_related("brand"))
    return _shared_reports(shared, at)


def shared_budget_report(*, shared_budget_id: int, at: datetime) -> SharedBudgetReport | None:
    item = SharedBudget.objects.filter(pk=shared_budget_id).select_related("brand").first()
    return None if item is None else _shared_reports([item], at)[0]


def upcoming_budget_changes(*, brand_id: int, at: datetime) -> list[BudgetChange]:
    """The brand's budget changes effective after its today, soonest first."""
    changes = BudgetChange.objects.filter(brand_id=brand_id).select_related(
        "brand", "campaign", "shared_budget"
    )
    first = changes.first()
    if first is None:
        return []
    today = local_date(at, first.brand.timezone)
    return list(changes.filter(effective_on__gt=today).order_by("effective_on", "id"))
