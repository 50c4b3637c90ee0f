"""The bench's own data: created in bulk by the product's seeding (brands and schedules named
after the run), and removed afterwards, ledger rows included."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from ads.models import Brand, Campaign
from ads.models.ledger_guard import ledger_maintenance
from ads.services.seeding import seed_synthetic
from devtools.bench import plans
from devtools.bench.state import CAMPAIGNS_PER_BRAND, Bench, timed


def create(bench: Bench) -> None:
    brands = max(1, bench.options.campaigns // CAMPAIGNS_PER_BRAND)
    bench.say(f"1. creating {brands} brands x {CAMPAIGNS_PER_BRAND} campaigns ...")
    seconds, report = timed(
        lambda: seed_synthetic(
            brands=brands,
            campaigns_per_brand=CAMPAIGNS_PER_BRAND,
            at=timezone.now(),
            prefix=bench.prefix,
        )
    )
    bench.brand_ids = list(
        Brand.objects.filter(name__startswith=bench.prefix).values_list("id", flat=True)
    )
    bench.campaign_ids = list(
        Campaign.objects.filter(brand_id__in=bench.brand_ids).values_list("id", flat=True)
    )
    scheduled = Campaign.objects.filter(
        brand_id__in=bench.brand_ids, schedule__isnull=False
    ).count()
    bench.figure("create", "campaigns created", len(bench.campaign_ids))
    bench.figure("create", "of them with a schedule", scheduled)
    bench.figure(
        "create",
        "create + first reconcile",
        round(seconds, 2),
        "s",
        "< 60 s",
        seconds < 60,
    )
    assert report.reconcile is not None


def cleanup(bench: Bench) -> None:
    if bench.options.keep:
        bench.say(f"kept the data: brands and schedules named {bench.prefix!r}")
        return
    bench.say("removing the bench data ...")
    remove_bench_data(bench.prefix)


def remove_bench_data(prefix: str, *, key_source: str | None = None) -> None:
    """Delete what a bench created: brands and schedules named ``prefix...``, their
    campaigns, the ledger rows and keys, totals, audit rows and alerts. The bench's own
    ledger rows are the one sanctioned exception to the append-only ledger
    (ads.models.ledger_guard). ``key_source``: the bench wrote every event under this source, so
    its keys go by the key table's primary key instead of a join through the ledger (at
    tens of millions of rows, the join is the slow part)."""
    brands = "SELECT id FROM ads_brand WHERE name LIKE %s"
    campaigns = f"SELECT id FROM ads_campaign WHERE brand_id IN ({brands})"
    pattern = [prefix + "%"]
    plans.cleanup(prefix)
    with ledger_maintenance(), connection.cursor() as cursor:
        # The ledger rows' idempotency keys first (found through the rows, or their source).
        if key_source is not None:
            cursor.execute("DELETE FROM ads_spendeventkey WHERE source = %s", [key_source])
        else:
            cursor.execute(
                "DELETE FROM ads_spendeventkey WHERE event_id IN "
                f"(SELECT id FROM ads_spendevent WHERE campaign_id IN ({campaigns}))",
                pattern,
            )
        for table in (
            "ads_campaignstatuschange",
            "ads_campaignperiodspend",
            "ads_reporteddailytotal",
            "ads_spendevent",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE campaign_id IN ({campaigns})", pattern)
        # Alerts the bench's spend fired, and their deliveries.
        alerts = f"SELECT id FROM ads_alert WHERE brand_id IN ({brands})"
        cursor.execute(f"DELETE FROM ads_alertdelivery WHERE alert_id IN ({alerts})", pattern)
        for table in (
            "ads_alert",
            "ads_brandalertsettings",
            "ads_brandperiodspend",
            "ads_apitoken_brands",
            "ads_campaign",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE brand_id IN ({brands})", pattern)
        cursor.execute("DELETE FROM ads_brand WHERE name LIKE %s", pattern)
        schedules = "SELECT id FROM ads_daypartschedule WHERE name LIKE %s"
        cursor.execute(f"DELETE FROM ads_daypartwindow WHERE schedule_id IN ({schedules})", pattern)
        cursor.execute("DELETE FROM ads_daypartschedule WHERE name LIKE %s", pattern)
