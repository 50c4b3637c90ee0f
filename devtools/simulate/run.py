"""One strategy through the real engine, in the current database (which the command makes a
scratch one: ``devtools/management/commands/simulate.py``).

Every 15 simulated minutes: the spend that has arrived by then is recorded through
``spend_record`` (the crossing pauses in that call; sources that report settling daily
totals, Meta-like, go through ``daily_totals_ingest`` every hour instead), the sweep runs
(``reconcile``, as beat's budget check and dayparting do: new days and months resume what
may run), and the platform spends, for each campaign running now, what its demand allows,
to be delivered after its source's lag. The figures judge what was really spent (the
platform's), not what was recorded.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Any

from ads.models import Brand, BrandPeriodSpend, Campaign, CampaignStatus, PauseReason, Trigger
from ads.services.daily_totals import daily_totals_ingest
from ads.services.reconcile import reconcile
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput
from devtools.simulate.model import (
    DAILY_BUDGET,
    STEP,
    STEPS_PER_DAY,
    Delivery,
    SimBrand,
    step_spend,
    world,
)

# The first of a month with 30 days: the default run is one brand-month per brand.
START = datetime(2031, 6, 1, tzinfo=UTC)
STRATEGIES = ("hard_stop", "expected", "pacing")
BUILT = ("hard_stop",)
ACTOR = "simulate"
_DAILY_REASONS = {
    PauseReason.BRAND_DAILY_BUDGET,
    PauseReason.CAMPAIGN_DAILY_BUDGET,
    PauseReason.SHARED_DAILY_BUDGET,
}
_MONTHLY_REASONS = {PauseReason.BRAND_MONTHLY_BUDGET, PauseReason.CAMPAIGN_MONTHLY_BUDGET}


class SimulationError(Exception):
    """What the options ask for cannot be simulated (said in words)."""


def strategy_problem(strategy: str) -> str | None:
    """Why ``strategy`` cannot be simulated (unknown, or not built yet), or None."""
    if strategy not in STRATEGIES:
        return f"unknown strategy {strategy!r}: one of {', '.join(STRATEGIES)}"
    if strategy not in BUILT:
        return (
            f"strategy {strategy!r} is not built yet (issue 21: the expected-spend stop and "
            f"pacing come next); built: {', '.join(BUILT)}"
        )
    return None


@dataclass(frozen=True)
class Options:
    days: int = 30
    brands: int = 20
    lags: dict[str, int] = field(default_factory=lambda: {"google_ads": 180, "meta": 900})
    seed: int = 7
    # Sources that report settling daily totals (hourly) instead of events.
    totals: tuple[str, ...] = ("meta",)


@dataclass
class _Books:
    """What the platform really spent, by brand and day, and what the engine did."""

    day: dict[tuple[int, int], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    paused_early_steps: int = 0


def _month_budget(days: int) -> Decimal:
    return DAILY_BUDGET * days


def _setup(brands: list[SimBrand], label: str, days: int) -> None:
    for sim in brands:
        brand = Brand.objects.create(
            name=f"sim {label} {sim.index:03d}",
            timezone="UTC",
            currency="USD",
            daily_budget=DAILY_BUDGET,
            monthly_budget=_month_budget(days),
        )
        sim.pk = brand.pk
        for campaign in sim.campaigns:
            campaign.pk = Campaign.objects.create(
                brand=brand, name=f"{campaign.source} {campaign.index}"
            ).pk


def _deliver(
    queue: list[Delivery], at: datetime, keys: itertools.count[int], sources: dict[int, str]
) -> None:
    due: list[Delivery] = []
    while queue and queue[0].arrives <= at:
        due.append(heapq.heappop(queue))
    if due:
        spend_record(
            events=[
                SpendEventInput(
                    campaign_id=item.campaign,
                    amount=str(item.amount),
                    occurred_at=item.occurred,
                    source=sources[item.campaign],
                    external_id=f"sim-{next(keys)}",
                )
                for item in due
            ],
            at=at,
            actor=ACTOR,
        )


@dataclass
class _Settling:
    """Sources that report a campaign's daily total, hourly, as Meta's figures settle: the
    total of a day holds what occurred at least the source's lag ago, so yesterday's still
    grows for hours after midnight."""

    spent: dict[tuple[int, int], list[tuple[datetime, Decimal]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    reported: dict[tuple[int, int], Decimal] = field(default_factory=dict)

    def report(self, at: datetime, today: int, by_pk: dict[int, Any]) -> None:
        items = []
        for (pk, day), entries in self.spent.items():
            if day < today - 3:
                continue
            lag = by_pk[pk][1].lag
            total = sum(
                (amount for occurred, amount in entries if occurred + lag <= at), Decimal(0)
            )
            if total != self.reported.get((pk, day), Decimal(0)):
                self.reported[(pk, day)] = total
                items.append(
                    {
                        "campaign": pk,
                        "date": (START + timedelta(days=day)).date().isoformat(),
                        "total": str(total),
                        "reported_at": at.isoformat(),
                        "source": by_pk[pk][1].source,
                    }
                )
        if items:
            daily_totals_ingest(items=items, at=at, actor=ACTOR)


def strategy_run(strategy: str, options: Options, *, label: str = "") -> dict[str, Any]:
    """Simulate ``options.days`` days of one strategy; the figures as the JSON shows them.
    ``label`` names the run's brands (several runs in one database need different ones)."""
    problem = strategy_problem(strategy)
    if problem is not None:
        raise SimulationError(problem)
    brands, rng = world(brands=options.brands, lags=options.lags, seed=options.seed)
    _setup(brands, label or strategy, options.days)
    by_pk = {c.pk: (b, c) for b in brands for c in b.campaigns}
    queue: list[Delivery] = []
    books, keys, sequence = _Books(), itertools.count(1), itertools.count(1)
    month_budget = _month_budget(options.days)
    true_month: dict[int, Decimal] = defaultdict(Decimal)
    sources = {c.pk: c.source for b in brands for c in b.campaigns}
    settling = _Settling()
    for step in range(options.days * STEPS_PER_DAY):
        at = START + STEP * step
        day = step // STEPS_PER_DAY
        _deliver(queue, at, keys, sources)
        if step % 4 == 0:
            settling.report(at, day, by_pk)
        reconcile(at=at, trigger=Trigger.CHECK_BUDGET, actor=ACTOR)
        states = Campaign.objects.filter(pk__in=list(by_pk)).values_list(
            "pk", "status", "pause_reason"
        )
        for pk, status, reason in states:
            sim_brand, campaign = by_pk[pk]
            if status == CampaignStatus.RUNNING:
                amount = step_spend(campaign, step, rng)
                if amount <= 0:
                    continue
                books.day[(sim_brand.index, day)] += amount
                true_month[sim_brand.index] += amount
                occurred = at + STEP / 2
                if campaign.source in options.totals:
                    settling.spent[(pk, day)].append((occurred, amount))
                    continue
                heapq.heappush(
                    queue,
                    Delivery(occurred + campaign.lag, next(sequence), pk, occurred, amount),
                )
            elif reason in _DAILY_REASONS and books.day[(sim_brand.index, day)] < DAILY_BUDGET:
                books.paused_early_steps += 1
            elif reason in _MONTHLY_REASONS and true_month[sim_brand.index] < month_budget:
                books.paused_early_steps += 1
    return _figures(strategy, brands, books, options, true_month)


def _recorded_month(brand_pk: int) -> Decimal:
    row = BrandPeriodSpend.objects.filter(
        brand_id=brand_pk, period="month", period_start=START.date()
    ).first()
    return row.amount if row else Decimal(0)


def _figures(
    strategy: str,
    brands: list[SimBrand],
    books: _Books,
    options: Options,
    true_month: dict[int, Decimal],
) -> dict[str, Any]:
    month_budget = _month_budget(options.days)
    ratios = [true_month[b.index] / month_budget for b in brands]
    day_ratios = [
        books.day[(b.index, d)] / DAILY_BUDGET for b in brands for d in range(options.days)
    ]
    # Dark: a day with no spend at all once the month's budget had (nearly) run out.
    dark = 0
    for b in brands:
        running_total = Decimal(0)
        for d in range(options.days):
            if books.day[(b.index, d)] == 0 and running_total >= month_budget * Decimal("0.99"):
                dark += 1
            running_total += books.day[(b.index, d)]
    over = [max(Decimal(0), r - 1) for r in ratios]
    under = sum(max(Decimal(0), month_budget - true_month[b.index]) for b in brands)
    return {
        "name": strategy,
        "ratio_min": _pct(min(ratios)),
        "ratio_median": _pct(Decimal(str(median(ratios)))),
        "ratio_max": _pct(max(ratios)),
        "worst_overspend_pct": _pct(max(over)),
        "underspend_pct": _pct(under / (month_budget * len(brands))),
        "day_ratio_max": _pct(max(day_ratios)),
        "day_ratio_median": _pct(Decimal(str(median(day_ratios)))),
        "days_over_pct": _pct(
            Decimal(sum(1 for r in day_ratios if r > 1)) / Decimal(len(day_ratios))
        ),
        "dark_brand_days": dark,
        "hours_paused_early": float(books.paused_early_steps * STEP / timedelta(hours=1)),
        "budget_pushes": 0,
        # How much of what was spent the system had recorded when the run ended.
        "recorded_pct": _pct(
            sum((_recorded_month(b.pk) for b in brands), Decimal(0))
            / max(sum(true_month.values(), Decimal(0)), Decimal("0.01"))
        ),
        "brand_months": [
            {
                "brand": b.index,
                "month": f"{START:%Y-%m}",
                "spend": f"{true_month[b.index]:.2f}",
                "budget": f"{month_budget:.2f}",
            }
            for b in brands
        ],
    }


def _pct(share: Decimal) -> float:
    return float(round(share * 100, 2))
