"""Reading the plans: each flight's spend, what remains, days left and where it is heading;
each shared budget's day and month against the budgets in force; the calendar's upcoming
changes; and the budgets in force on a day. For the management API and the console, so
they can never disagree."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from ads.core.pacing import projected_spend
from ads.core.periods import local_date, local_midnight, local_period
from ads.models import (
    BudgetChange,
    BudgetTarget,
    Campaign,
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
    return _in_force(changes.order_by("-effective_on"), stored)


def _in_force(latest_first: Iterable[BudgetChange], stored: BudgetsInForce) -> BudgetsInForce:
    daily, monthly = stored.daily_budget, stored.monthly_budget
    daily_set = monthly_set = False
    for change in latest_first:
        if not daily_set and change.daily_budget is not None:
            daily, daily_set = change.daily_budget, True
        if not monthly_set and change.monthly_budget is not None:
            monthly, monthly_set = change.monthly_budget, True
    return BudgetsInForce(daily, monthly)


# Past this many brands, every brand's changes are read: no dearer than a long IN list.
_MAX_LISTED_BRANDS = 1000


def brands_budgets_in_force(
    *, stored: Mapping[int, BudgetsInForce], on: Mapping[int, date]
) -> dict[int, BudgetsInForce]:
    """``budgets_in_force`` for many brands at once, each brand (a key of ``stored``) on
    its own day (``on``, its brand-local today): one query whatever their number."""
    if not stored:
        return {}
    changes = BudgetChange.objects.filter(
        target=BudgetTarget.BRAND, effective_on__lte=max(on.values())
    )
    if len(stored) <= _MAX_LISTED_BRANDS:
        changes = changes.filter(brand_id__in=list(stored))
    by_brand: dict[int, list[BudgetChange]] = {}
    for change in changes.order_by("-effective_on").only(
        "brand", "effective_on", "daily_budget", "monthly_budget"
    ):
        by_brand.setdefault(change.brand_id, []).append(change)
    return {
        brand_id: _in_force(
            (c for c in by_brand.get(brand_id, []) if c.effective_on <= on[brand_id]), budgets
        )
        for brand_id, budgets in stored.items()
    }


@dataclass(frozen=True)
class SharedBudgetReport:
    shared_budget: SharedBudget
    day_spend: Decimal
    month_spend: Decimal
    daily_budget: Decimal | None  # in force today
    monthly_budget: Decimal | None
    campaign_ids: list[int]


def _shared_reports(shared: list[SharedBudget], at: datetime) -> list[SharedBudgetReport]:
    """The reports of these shared budgets in three queries whatever their number (four
    with the shared budgets' own): their totals, their calendar entries, their campaigns."""
    if not shared:
        return []
    ids = [item.pk for item in shared]
    periods = {item.pk: local_period(at, item.brand.timezone) for item in shared}
    starts = {p.day for p in periods.values()} | {p.month for p in periods.values()}
    totals = {
        (shared_id, period, start): amount
        for shared_id, period, start, amount in SharedBudgetPeriodSpend.objects.filter(
            shared_budget_id__in=ids, period_start__in=starts
        ).values_list("shared_budget_id", "period", "period_start", "amount")
    }
    changes: dict[int, list[BudgetChange]] = {}
    for change in BudgetChange.objects.filter(
        target=BudgetTarget.SHARED_BUDGET,
        shared_budget_id__in=ids,
        effective_on__lte=max(p.day for p in periods.values()),
    ).order_by("-effective_on"):
        changes.setdefault(change.shared_budget_id or 0, []).append(change)
    members: dict[int, list[int]] = {}
    for shared_id, campaign_id in (
        Campaign.objects.filter(shared_budget_id__in=ids)
        .order_by("id")
        .values_list("shared_budget_id", "id")
    ):
        members.setdefault(shared_id, []).append(campaign_id)
    reports = []
    for item in shared:
        period = periods[item.pk]
        # The calendar's definition, as budgets_in_force: the latest change on or before.
        budgets = _in_force(
            [c for c in changes.get(item.pk, []) if c.effective_on <= period.day],
            BudgetsInForce(item.daily_budget, item.monthly_budget),
        )
        reports.append(
            SharedBudgetReport(
                shared_budget=item,
                day_spend=totals.get((item.pk, SpendPeriod.DAY, period.day), _ZERO),
                month_spend=totals.get((item.pk, SpendPeriod.MONTH, period.month), _ZERO),
                daily_budget=budgets.daily_budget,
                monthly_budget=budgets.monthly_budget,
                campaign_ids=members.get(item.pk, []),
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
