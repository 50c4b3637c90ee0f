"""Where brands stand against their budgets: one brand (the status API) and a page of them
(the admin), from the same definitions so they can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import (
    BigIntegerField,
    Case,
    DateField,
    ExpressionWrapper,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest

from ads.core.money import from_micros
from ads.core.pacing import projected_spend
from ads.core.periods import day_bounds, local_period, month_bounds, zone
from ads.models import (
    Brand,
    BrandPeriodSpend,
    SpendPeriod,
)

_ZERO = Decimal("0.00")


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
    projected = projected_spend(spend=spend, bounds=bounds, at=at)
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
    return brand_report_from(
        brand,
        at=at,
        day_spend=totals.get((SpendPeriod.DAY, period.day), _ZERO),
        month_spend=totals.get((SpendPeriod.MONTH, period.month), _ZERO),
    )


# --- Staff console: figures for whole pages of brands and campaigns ----------------------
# The admin shows many brands and campaigns at once; these read a page's figures in a fixed
# number of queries, and reuse the definitions above (``_period_budget``, the pause reasons'
# precedence in ``PauseReason``) so a page and the API can never disagree.


def brand_report_from(
    brand: Brand, *, at: datetime, day_spend: Decimal, month_spend: Decimal
) -> BrandBudgetReport:
    """A brand's report from totals already read (see ``brands_with_spend``)."""
    period = local_period(at, brand.timezone)
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


def _local_day_expression(timezones: list[str], at: datetime, *, month: bool) -> Case:
    """Each brand's current local day (or month start) as SQL: one WHEN per zone in use."""
    whens = []
    for name in timezones:
        period = local_period(at, name)
        whens.append(When(timezone=name, then=Value(period.month if month else period.day)))
    return Case(*whens, default=Value(None), output_field=DateField())


def brands_with_spend(queryset: QuerySet[Brand], *, at: datetime) -> QuerySet[Brand]:
    """``queryset`` with today's and this month's brand-local spend (``day_spend``,
    ``month_spend``) and their share of each budget in % (``day_pct``, ``month_pct``,
    ``top_pct``: the larger), all sortable and filterable in SQL. One extra query (the
    zones in use), whatever the number of brands."""
    timezones = sorted(set(Brand.objects.values_list("timezone", flat=True).distinct()))
    annotated = queryset.annotate(
        local_day=_local_day_expression(timezones, at, month=False),
        local_month=_local_day_expression(timezones, at, month=True),
    )
    totals = BrandPeriodSpend.objects.filter(brand_id=OuterRef("pk"))
    day = totals.filter(period=SpendPeriod.DAY, period_start=OuterRef("local_day"))
    month = totals.filter(period=SpendPeriod.MONTH, period_start=OuterRef("local_month"))
    micros = BigIntegerField()
    annotated = annotated.annotate(
        day_micros=Coalesce(Subquery(day.values("amount")[:1], output_field=micros), 0),
        month_micros=Coalesce(Subquery(month.values("amount")[:1], output_field=micros), 0),
    )
    return annotated.annotate(
        day_pct=ExpressionWrapper(
            Cast("day_micros", FloatField()) * 100.0 / Cast("daily_budget", FloatField()),
            output_field=FloatField(),
        ),
        month_pct=ExpressionWrapper(
            Cast("month_micros", FloatField()) * 100.0 / Cast("monthly_budget", FloatField()),
            output_field=FloatField(),
        ),
    ).annotate(top_pct=Greatest("day_pct", "month_pct"))


def brand_report_of(brand: Brand, *, at: datetime) -> BrandBudgetReport:
    """The report of a brand read through ``brands_with_spend`` (no further query)."""
    return brand_report_from(
        brand,
        at=at,
        day_spend=from_micros(getattr(brand, "day_micros", 0)),
        month_spend=from_micros(getattr(brand, "month_micros", 0)),
    )
