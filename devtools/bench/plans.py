"""The bench's plans (``--plans PERCENT``): that share of each brand's campaigns in a flight
over this month and, separately, the same share in a shared budget, with budgets far above
what the bench spends, so the figures measure what reading and writing the plans costs and
not pauses. Created in bulk, like the rest of the bench's data."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from ads.core.periods import local_date
from ads.models import Brand, Campaign, Flight, FlightCampaign, SharedBudget
from ads.services.plan_totals import flight_totals_rebuild, shared_totals_rebuild
from devtools.bench.state import Bench

_PLENTY = Decimal("100000000")


def create(bench: Bench) -> None:
    share = bench.options.plans
    if not share:
        return
    bench.say(f"1b. putting {share} % of the campaigns in flights and {share} % in shared budgets")
    now = timezone.now()
    by_brand: dict[int, list[int]] = defaultdict(list)
    for campaign_id, brand_id in (
        Campaign.objects.filter(brand_id__in=bench.brand_ids)
        .order_by("id")
        .values_list("id", "brand_id")
    ):
        by_brand[brand_id].append(campaign_id)
    zones = dict(Brand.objects.filter(id__in=bench.brand_ids).values_list("id", "timezone"))
    flights, shared = [], []
    for brand_id in by_brand:
        today = local_date(now, zones[brand_id])
        flights.append(
            Flight(
                brand_id=brand_id,
                name=f"{bench.prefix} flight",
                starts_on=today - timedelta(days=10),
                ends_on=today + timedelta(days=20),
                budget=_PLENTY,
            )
        )
        shared.append(
            SharedBudget(
                brand_id=brand_id,
                name=f"{bench.prefix} pot",
                daily_budget=_PLENTY,
                monthly_budget=_PLENTY,
            )
        )
    Flight.objects.bulk_create(flights, batch_size=2000)
    SharedBudget.objects.bulk_create(shared, batch_size=2000)
    flight_of = {f.brand_id: f.pk for f in Flight.objects.filter(brand_id__in=bench.brand_ids)}
    shared_of = {
        s.brand_id: s.pk for s in SharedBudget.objects.filter(brand_id__in=bench.brand_ids)
    }
    members, pooled = [], []
    for brand_id, ids in by_brand.items():
        count = max(1, len(ids) * share // 100)
        members += [
            FlightCampaign(flight_id=flight_of[brand_id], campaign_id=c) for c in ids[:count]
        ]
        pooled += [(c, shared_of[brand_id]) for c in ids[count : 2 * count]]
    FlightCampaign.objects.bulk_create(members, batch_size=5000)
    with connection.cursor() as cursor:
        for start in range(0, len(pooled), 5000):
            chunk = pooled[start : start + 5000]
            cases = " ".join(f"WHEN {int(c)} THEN {int(s)}" for c, s in chunk)
            listed = ", ".join(str(int(c)) for c, _ in chunk)
            cursor.execute(
                f"UPDATE ads_campaign SET shared_budget_id = CASE id {cases} END "
                f"WHERE id IN ({listed})"
            )
    flight_totals_rebuild(flight_of.values())
    shared_totals_rebuild(shared_of.values())
    bench.figure("create", "campaigns in a flight", len(members))
    bench.figure("create", "campaigns in a shared budget", len(pooled))


def cleanup(prefix: str) -> None:
    """Remove the bench's plans (before its campaigns and brands go)."""
    brands = "SELECT id FROM ads_brand WHERE name LIKE %s"
    pattern = [prefix + "%"]
    with connection.cursor() as cursor:
        flights = f"SELECT id FROM ads_flight WHERE brand_id IN ({brands})"
        shared = f"SELECT id FROM ads_sharedbudget WHERE brand_id IN ({brands})"
        for table, column, owners in (
            ("ads_flightcampaign", "flight_id", flights),
            ("ads_flightspend", "flight_id", flights),
            ("ads_sharedbudgetperiodspend", "shared_budget_id", shared),
        ):
            cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({owners})", pattern)
        cursor.execute(
            f"UPDATE ads_campaign SET shared_budget_id = NULL WHERE brand_id IN ({brands})",
            pattern,
        )
        for table in ("ads_flight", "ads_sharedbudget", "ads_budgetchange", "ads_configchange"):
            cursor.execute(f"DELETE FROM {table} WHERE brand_id IN ({brands})", pattern)
