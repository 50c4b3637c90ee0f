"""The simulated world the engine decides in: brands and campaigns, hourly demand with a
daily curve and noise, platforms that spend what demand allows while a campaign runs
(obeying a pause at once, as the issue's measurements assume), and spend delivered to the
system late, by each source's lag. Only the platform and the clock are simulated; the
decisions are the real services' (``devtools.simulate.run``).

Deterministic: everything random comes from one ``random.Random(seed)``."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

STEP = timedelta(minutes=15)
STEPS_PER_DAY = 96
DAILY_BUDGET = Decimal("1000.00")
CAMPAIGNS_PER_BRAND = 3
# How hard brands push against their budgets: demand is 1.3 to 2 times the daily budget.
DEMAND_LOW, DEMAND_HIGH = 1.3, 2.0


def daily_curve(step: int) -> float:
    """The share of a day's demand in each 15-minute step: low at night, peaking in the
    afternoon (sums to 1 over the day)."""
    hour = (step % STEPS_PER_DAY) / 4
    weight = 1.0 + 0.8 * math.sin((hour - 8.0) / 24.0 * 2 * math.pi)
    return weight / STEPS_PER_DAY


@dataclass
class SimCampaign:
    index: int
    source: str
    lag: timedelta
    # The campaign's share of its brand's demand, and the brand's push on its budget.
    demand_per_day: Decimal
    pk: int = 0


@dataclass
class SimBrand:
    index: int
    campaigns: list[SimCampaign]
    pk: int = 0


@dataclass(order=True)
class Delivery:
    """Spend the platform made, on its way to the system."""

    arrives: datetime
    sequence: int
    campaign: int = field(compare=False)
    occurred: datetime = field(compare=False)
    amount: Decimal = field(compare=False)


def world(*, brands: int, lags: dict[str, int], seed: int) -> tuple[list[SimBrand], random.Random]:
    """The brands and campaigns of a run: sources taken in turn from ``lags``."""
    rng = random.Random(seed)
    sources = sorted(lags) or ["realtime"]
    made: list[SimBrand] = []
    for b in range(brands):
        push = Decimal(str(round(rng.uniform(DEMAND_LOW, DEMAND_HIGH), 3)))
        weights = [rng.uniform(0.5, 1.5) for _ in range(CAMPAIGNS_PER_BRAND)]
        total = sum(weights)
        campaigns = [
            SimCampaign(
                index=c,
                source=sources[(b + c) % len(sources)],
                lag=timedelta(minutes=lags.get(sources[(b + c) % len(sources)], 0)),
                demand_per_day=(
                    DAILY_BUDGET * push * Decimal(str(round(weights[c] / total, 6)))
                ).quantize(Decimal("0.01")),
            )
            for c in range(CAMPAIGNS_PER_BRAND)
        ]
        made.append(SimBrand(index=b, campaigns=campaigns))
    return made, rng


def step_spend(campaign: SimCampaign, step: int, rng: random.Random) -> Decimal:
    """What the platform spends for a running campaign in one step: its demand on the daily
    curve, with noise (never negative)."""
    noise = max(0.0, rng.gauss(1.0, 0.25))
    amount = float(campaign.demand_per_day) * daily_curve(step) * noise
    return Decimal(str(round(amount, 2)))
