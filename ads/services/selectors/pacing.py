"""The pacing picture of a brand's month and of each running flight: cumulative spend by
brand-local day, the ideal line from nothing to the budget, and the straight-line
projection to the end (``ads.core.pacing``, the same as the alerts and the status API).
Figures only; the console draws them (``ads.admin.pacing_chart``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from ads.core.pacing import elapsed_share, projected_spend
from ads.core.periods import day_bounds, local_period, month_bounds
from ads.models import (
    Brand,
    BrandPeriodSpend,
    BudgetTarget,
    CampaignPeriodSpend,
    SpendPeriod,
)
from ads.services.selectors.plans import BudgetsInForce, FlightReport, budgets_in_force

_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PacingSeries:
    """One period (a month or a flight), brand-local dates, both inclusive."""

    title: str
    first: date
    last: date
    today: date
    budget: Decimal
    currency: str
    # Spend to the end of each day from ``first`` to today (or ``last``, once ended).
    cumulative: list[tuple[date, Decimal]]
    projected: Decimal | None
    # How much of ``today`` has passed (its spend so far stands there, not at its end).
    today_share: float = 1.0

    @property
    def spend(self) -> Decimal:
        return self.cumulative[-1][1] if self.cumulative else _ZERO

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def ideal(self, day: date) -> Decimal:
        """Where spend would stand at the end of ``day`` at an even pace to the budget."""
        return self.budget * ((day - self.first).days + 1) / self.days


def _cumulative(daily: dict[date, Decimal], first: date, upto: date) -> list[tuple[date, Decimal]]:
    running, points, day = _ZERO, [], first
    while day <= upto:
        running += daily.get(day, _ZERO)
        points.append((day, running))
        day += timedelta(days=1)
    return points


def month_series(*, brand: Brand, at: datetime) -> PacingSeries:
    """The brand's current month against the monthly budget in force today (two queries)."""
    period = local_period(at, brand.timezone)
    first = period.month
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    daily = dict(
        BrandPeriodSpend.objects.filter(
            brand=brand,
            period=SpendPeriod.DAY,
            period_start__gte=first,
            period_start__lte=period.day,
        ).values_list("period_start", "amount")
    )
    budget = budgets_in_force(
        brand_id=brand.pk,
        target=BudgetTarget.BRAND,
        owner_id=brand.pk,
        stored=BudgetsInForce(brand.daily_budget, brand.monthly_budget),
        on=period.day,
    ).monthly_budget
    cumulative = _cumulative(daily, first, period.day)
    spend = cumulative[-1][1]
    return PacingSeries(
        title=f"{first:%B %Y}",
        first=first,
        last=last,
        today=period.day,
        budget=budget or brand.monthly_budget,
        currency=brand.currency,
        cumulative=cumulative,
        projected=projected_spend(spend=spend, bounds=month_bounds(first, brand.timezone), at=at),
        today_share=float(elapsed_share(bounds=day_bounds(period.day, brand.timezone), at=at)),
    )


def flight_series(
    *, brand: Brand, reports: Iterable[FlightReport], at: datetime
) -> list[PacingSeries]:
    """The brand's running flights (today within their dates), in the reports' order: their
    campaigns' day totals in one query."""
    today = local_period(at, brand.timezone).day
    running = [r for r in reports if r.flight.starts_on <= today <= r.flight.ends_on]
    if not running:
        return []
    share = float(elapsed_share(bounds=day_bounds(today, brand.timezone), at=at))
    # Each campaign's running flights, from the reports (they carry their campaigns).
    members: dict[int, list[int]] = defaultdict(list)
    for report in running:
        for campaign_id in report.campaign_ids:
            members[campaign_id].append(report.flight.pk)
    first = min(r.flight.starts_on for r in running)
    daily: dict[int, dict[date, Decimal]] = defaultdict(lambda: defaultdict(lambda: _ZERO))
    window = {r.flight.pk: (r.flight.starts_on, r.flight.ends_on) for r in running}
    for campaign_id, day, amount in CampaignPeriodSpend.objects.filter(
        campaign_id__in=list(members),
        period=SpendPeriod.DAY,
        period_start__gte=first,
        period_start__lte=today,
    ).values_list("campaign_id", "period_start", "amount"):
        for flight_id in members[campaign_id]:
            starts, ends = window[flight_id]
            if starts <= day <= ends:
                daily[flight_id][day] += amount
    series = []
    for report in running:
        flight = report.flight
        series.append(
            PacingSeries(
                title=f"Flight: {flight.name}",
                first=flight.starts_on,
                last=flight.ends_on,
                today=today,
                budget=flight.budget,
                currency=brand.currency,
                cumulative=_cumulative(daily[flight.pk], flight.starts_on, today),
                # The flight table's projection (``plans._flight_report``), so the two agree.
                projected=report.projected,
                today_share=share,
            )
        )
    return series
