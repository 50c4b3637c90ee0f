"""Underspend alerts: a brand's month, or a flight, heading below its budget.

The ``alert_underspend`` job (beat, hourly by default) projects, at ``at``, each brand's
spend of its brand-local month and each running flight's spend to the end of the period at
the rate so far (``ads.core.pacing.projected_spend``, the status API's and the console's
projection), and fires an ``underspend`` alert when the projection lands below the budget
by more than the brand's margin (``BrandAlertSettings.underspend_margin``, else
ALERT_UNDERSPEND_MARGIN, 10 %): ``projected < budget * (100 - margin) / 100``. The month's
budget is the brand's monthly budget in force on its brand-local today (the budget
calendar); a flight's is its total budget.

* Judged only once a quarter of the period has passed (earlier, a slow first day says
  nothing), and never after it ended (a flight past its last date is over; the month of
  ``at`` has not ended by definition). A period with no spend at all projects to zero and
  fires: that is the underspend staff most need to hear of.
* At most once per brand-local day per period: the alert row carries the brand-local day
  it was judged on (``local_day``), and two partial unique indexes (one for the month, one
  per flight; ``ads.models.alerts``) decide, inserted with ``ON CONFLICT DO NOTHING``. A
  second run the same day, concurrent or later, inserts nothing; the next day may fire
  again while the period still heads below its budget.
* Set-based: the brands with their settings, their month totals, the budget calendar's
  changes, the running flights with their totals, the alerts already fired today, then one
  insert and the deliveries: a fixed number of queries whatever the number of brands.

The alerts' deliveries (email, webhook) are written in the same transaction, the outbox
the ``deliver_alerts`` job sends (``ads.services.alerts.alert_deliveries_add``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from ads.core.money import from_micros, to_micros
from ads.core.pacing import elapsed_share, projected_spend
from ads.core.periods import local_midnight, local_period, month_bounds
from ads.core.sql import adapt, rows_cte
from ads.models import (
    Alert,
    AlertKind,
    AlertPeriod,
    Brand,
    BrandAlertSettings,
    BrandPeriodSpend,
    Flight,
    SpendPeriod,
)
from ads.services.alerts import alert_deliveries_add
from ads.services.job_runs import JobFigures
from ads.services.selectors.plans import BudgetsInForce, brands_budgets_in_force

logger = logging.getLogger(__name__)

# Underspend is judged only once this share of the period has passed.
UNDERSPEND_MIN_ELAPSED = Decimal("0.25")
_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class UnderspendAlert:
    """One alert the projections call for (amounts in micro-units)."""

    brand_id: int
    period: str  # AlertPeriod.MONTH or AlertPeriod.FLIGHT
    period_start: date
    flight_id: int | None
    local_day: date
    threshold: Decimal  # 100 - margin: the share of the budget the projection fell below
    spend: int
    budget: int
    projected: int

    def key(self) -> tuple[int, str, date, int | None, date]:
        return (self.brand_id, self.period, self.period_start, self.flight_id, self.local_day)

    def as_dict(self) -> dict[str, Any]:
        return {
            "brand": self.brand_id,
            "period": self.period,
            "period_start": self.period_start.isoformat(),
            "flight": self.flight_id,
            "local_day": self.local_day.isoformat(),
            "spend": str(from_micros(self.spend)),
            "budget": str(from_micros(self.budget)),
            "projected": str(from_micros(self.projected)),
            "below_percent": str(self.threshold),
        }


@dataclass
class UnderspendReport:
    """What a run judged and fired. ``due``: the alerts the projections call for that were
    not recorded yet today (with ``dry_run``, what a run would fire)."""

    dry_run: bool
    brands: int = 0
    months_judged: int = 0
    flights_judged: int = 0
    due: list[UnderspendAlert] = field(default_factory=list)
    fired: list[int] = field(default_factory=list)  # the new alerts' ids

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "brands": self.brands,
            "months_judged": self.months_judged,
            "flights_judged": self.flights_judged,
            "due": [alert.as_dict() for alert in self.due],
            "fired": self.fired,
        }

    def line(self) -> str:
        verb = "would fire" if self.dry_run else "fired"
        count = len(self.due) if self.dry_run else len(self.fired)
        return (
            f"alert_underspend: {verb} {count} underspend alert(s); judged "
            f"{self.months_judged} month(s) and {self.flights_judged} flight(s) of "
            f"{self.brands} brand(s)."
        )


def underspend_figures(report: UnderspendReport) -> JobFigures:
    """What a run writes into its job-run row."""
    return JobFigures(
        detail={
            "brands": report.brands,
            "months_judged": report.months_judged,
            "flights_judged": report.flights_judged,
            "fired": len(report.fired),
        }
    )


def underspend_margin(own: BrandAlertSettings | None) -> Decimal:
    """The brand's underspend margin in percent, else ALERT_UNDERSPEND_MARGIN."""
    if own is not None and own.underspend_margin is not None:
        return Decimal(own.underspend_margin)
    return Decimal(settings.ALERT_UNDERSPEND_MARGIN)


def _judge(
    *,
    spend: Decimal,
    budget: Decimal | None,
    bounds: tuple[datetime, datetime],
    at: datetime,
    margin: Decimal,
) -> tuple[int, int, int] | None:
    """(spend, budget, projection) in micros when the period heads below its budget by
    more than ``margin`` percent, judged once a quarter of it has passed; else None."""
    if budget is None or budget <= 0 or not bounds[0] <= at < bounds[1]:
        return None
    if elapsed_share(bounds=bounds, at=at) < UNDERSPEND_MIN_ELAPSED:
        return None
    projection = projected_spend(spend=spend, bounds=bounds, at=at)
    projected = to_micros(projection if projection is not None else spend)
    budget_micros = to_micros(budget)
    if projected * 100 >= budget_micros * (100 - margin):
        return None
    return to_micros(spend), budget_micros, projected


@dataclass(frozen=True)
class _BrandClock:
    zone: str
    day: date
    month: date
    month_bounds: tuple[datetime, datetime]


def underspend_check(
    *, at: datetime, brand_ids: Sequence[int] | None = None, dry_run: bool = False
) -> UnderspendReport:
    """Fire the underspend alerts the brands' months and running flights call for at
    ``at`` (``brand_ids``: only those brands), with their deliveries, in one transaction.
    ``dry_run`` records nothing and reports what would fire. Safe to run twice: an alert
    already fired for the period and brand-local day is not inserted again."""
    brands = Brand.objects.select_related("alert_settings").order_by("pk")
    flights = Flight.objects.all()
    if brand_ids is not None:
        brands = brands.filter(pk__in=list(brand_ids))
        flights = flights.filter(brand_id__in=list(brand_ids))
    loaded = list(brands)
    report = UnderspendReport(dry_run=dry_run, brands=len(loaded))
    if not loaded:
        return report

    zones: dict[str, _BrandClock] = {}
    clocks: dict[int, _BrandClock] = {}
    margins: dict[int, Decimal] = {}
    for brand in loaded:
        clock = zones.get(brand.timezone)
        if clock is None:
            local = local_period(at, brand.timezone)
            clock = zones[brand.timezone] = _BrandClock(
                zone=brand.timezone,
                day=local.day,
                month=local.month,
                month_bounds=month_bounds(local.month, brand.timezone),
            )
        clocks[brand.pk] = clock
        margins[brand.pk] = underspend_margin(getattr(brand, "alert_settings", None))
    days = {clock.day for clock in zones.values()}

    due = _months_due(loaded, clocks, margins, at, brand_ids, report)
    due += _flights_due(flights, clocks, margins, at, days, report)
    if due:
        fired = set(
            Alert.objects.filter(kind=AlertKind.UNDERSPEND, local_day__in=days).values_list(
                "brand_id", "period", "period_start", "flight_id", "local_day"
            )
        )
        due = [alert for alert in due if alert.key() not in fired]
    report.due = due
    if dry_run or not due:
        return report
    with transaction.atomic():
        report.fired = _record(due, at)
    return report


def _months_due(
    brands: list[Brand],
    clocks: dict[int, _BrandClock],
    margins: dict[int, Decimal],
    at: datetime,
    brand_ids: Sequence[int] | None,
    report: UnderspendReport,
) -> list[UnderspendAlert]:
    """The brands' months heading below the monthly budget in force (two queries)."""
    judged = [
        brand
        for brand in brands
        if elapsed_share(bounds=clocks[brand.pk].month_bounds, at=at) >= UNDERSPEND_MIN_ELAPSED
    ]
    report.months_judged = len(judged)
    if not judged:
        return []
    totals = BrandPeriodSpend.objects.filter(
        period=SpendPeriod.MONTH, period_start__in={clocks[b.pk].month for b in judged}
    )
    if brand_ids is not None:
        totals = totals.filter(brand_id__in=list(brand_ids))
    spent = {(row.brand_id, row.period_start): row.amount for row in totals}
    budgets = brands_budgets_in_force(
        stored={b.pk: BudgetsInForce(b.daily_budget, b.monthly_budget) for b in judged},
        on={b.pk: clocks[b.pk].day for b in judged},
    )
    due = []
    for brand in judged:
        clock = clocks[brand.pk]
        found = _judge(
            spend=spent.get((brand.pk, clock.month), _ZERO),
            budget=budgets[brand.pk].monthly_budget,
            bounds=clock.month_bounds,
            at=at,
            margin=margins[brand.pk],
        )
        if found is not None:
            due.append(
                UnderspendAlert(
                    brand.pk,
                    AlertPeriod.MONTH,
                    clock.month,
                    None,
                    clock.day,
                    100 - margins[brand.pk],
                    *found,
                )
            )
    return due


def _flights_due(
    flights: QuerySet[Flight],
    clocks: dict[int, _BrandClock],
    margins: dict[int, Decimal],
    at: datetime,
    days: set[date],
    report: UnderspendReport,
) -> list[UnderspendAlert]:
    """The flights running on their brand's today that head below their budget (one
    query: the flights that may run on any brand's today, with their totals)."""
    running = flights.filter(starts_on__lte=max(days), ends_on__gte=min(days)).values_list(
        "pk", "brand_id", "starts_on", "ends_on", "budget", "spend__amount"
    )
    due = []
    for flight_id, brand_id, starts_on, ends_on, budget, amount in running.order_by("pk"):
        clock = clocks.get(brand_id)
        if clock is None or not starts_on <= clock.day <= ends_on:
            continue
        report.flights_judged += 1
        bounds = (
            local_midnight(starts_on, clock.zone),
            local_midnight(ends_on + timedelta(days=1), clock.zone),
        )
        found = _judge(
            spend=amount if amount is not None else _ZERO,
            budget=budget,
            bounds=bounds,
            at=at,
            margin=margins[brand_id],
        )
        if found is not None:
            due.append(
                UnderspendAlert(
                    brand_id,
                    AlertPeriod.FLIGHT,
                    starts_on,
                    flight_id,
                    clock.day,
                    100 - margins[brand_id],
                    *found,
                )
            )
    return due


def _record(due: list[UnderspendAlert], at: datetime) -> list[int]:
    """Insert the alerts not fired yet, and their deliveries. Helper: inside the caller's
    transaction."""
    cte, params = rows_cte(
        "v",
        (
            ("brand_id", "bigint"),
            ("period", "text"),
            ("period_start", "date"),
            ("flight_id", "bigint"),
            ("local_day", "date"),
            ("threshold", "numeric"),
            ("spend", "bigint"),
            ("budget", "bigint"),
            ("projected", "bigint"),
        ),
        [
            (
                a.brand_id,
                a.period,
                a.period_start,
                a.flight_id,
                a.local_day,
                str(a.threshold),
                a.spend,
                a.budget,
                a.projected,
            )
            for a in due
        ],
    )
    # No conflict target: the month's and the flights' once-a-day indexes are two partial
    # unique indexes, and whichever one a row meets means "already fired today".
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO ads_alert (brand_id, kind, period, period_start, flight_id, local_day,
                threshold, spend, budget, projected, created_at)
            SELECT brand_id, %s, period, period_start, flight_id, local_day, threshold, spend,
                budget, projected, %s
            FROM v WHERE 1 = 1
            ON CONFLICT DO NOTHING
            RETURNING id, brand_id, period, period_start, flight_id""",
            params + [AlertKind.UNDERSPEND.value, adapt(at)],
        )
        new = cursor.fetchall()
    if not new:
        return []
    alert_deliveries_add(alerts=[(row[0], row[1]) for row in new], at=at)
    for alert_id, brand_id, period, period_start, flight_id in new:
        logger.info(
            "alert %s: brand %s underspend %s %s (flight %s)",
            alert_id,
            brand_id,
            period,
            period_start,
            flight_id,
            extra={
                "alert_id": alert_id,
                "brand_id": brand_id,
                "kind": AlertKind.UNDERSPEND.value,
                "period": period,
                "flight_id": flight_id,
            },
        )
    return [row[0] for row in new]
