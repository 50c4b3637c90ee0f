"""Demo data a person can look at, and large synthetic data for benchmarks.

The demo's ad accounts (created only when asked, which ``seed_data`` does with DEBUG on) name
credentials variables that ``make run`` sets to its local protocol fakes; this module only
writes the rows, and knows nothing of the fakes themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from ads.core.credentials import binding_problem
from ads.core.periods import local_date
from ads.models import (
    AdAccount,
    Brand,
    BudgetTarget,
    Campaign,
    DaypartSchedule,
    DaypartWindow,
    Platform,
    Trigger,
)
from ads.services.budget_calendar import budget_change_create
from ads.services.flights import flight_create
from ads.services.platform_links import campaign_platform_link
from ads.services.reconcile import reconcile
from ads.services.rule import ReconcileResult, Scope
from ads.services.shared_budgets import shared_budget_create
from ads.services.spend import spend_record
from ads.services.spend_events import SpendEventInput

SEED_SOURCE = "seed"
SYNTHETIC_PREFIX = "Synthetic "
SEED_ACTOR = "seed_data"
DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # printed by seed_data; only ever created when DEBUG is on

# Zones for synthetic brands: both hemispheres, half-hour offsets, no-DST zones.
SYNTHETIC_ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Lagos",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "UTC",
)


@dataclass
class SeedReport:
    brands_created: int = 0
    campaigns_created: int = 0
    schedules_created: int = 0
    events_accepted: int = 0
    ad_accounts_created: int = 0
    campaigns_linked: int = 0
    reconcile: ReconcileResult | None = None
    # The brands seeded (created now or already there), for reporting where they stand.
    brand_ids: tuple[int, ...] = ()
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Window:
    weekdays: tuple[int, ...]
    start: time
    end: time


DEMO_SCHEDULES: dict[str, tuple[str, tuple[_Window, ...]]] = {
    "Business hours": (
        "Monday to Friday, 09:00-17:00 brand-local time.",
        (_Window((0, 1, 2, 3, 4), time(9), time(17)),),
    ),
    "Overnight": (
        "Every night 22:00-06:00; each window belongs to the evening it starts on.",
        (_Window((0, 1, 2, 3, 4, 5, 6), time(22), time(6)),),
    ),
    "Lunch and evening": (
        "Two windows a day: 11:30-14:00 and 18:00-21:30.",
        (
            _Window((0, 1, 2, 3, 4, 5, 6), time(11, 30), time(14)),
            _Window((0, 1, 2, 3, 4, 5, 6), time(18), time(21, 30)),
        ),
    ),
}

# name, zone, currency, daily, monthly, campaigns: (name, schedule, daily cap, monthly cap,
# spend amounts to record)
DEMO_BRANDS: tuple[
    tuple[
        str,
        str,
        str,
        str,
        str,
        tuple[tuple[str, str | None, str | None, str | None, tuple[str, ...]], ...],
    ],
    ...,
] = (
    (
        "Acme Coffee",
        "America/New_York",
        "USD",
        "500.00",
        "12000.00",
        (
            ("Search - Brand", None, None, None, ("42.10", "18.75")),
            ("Search - Generic", "Business hours", "150.00", None, ("95.00", "60.00")),
            ("Display - Retargeting", "Lunch and evening", None, None, ("12.40",)),
            ("Video - Launch", "Overnight", None, "3000.00", ()),
        ),
    ),
    (
        "Brolly & Co",
        "Europe/London",
        "GBP",
        "300.00",
        "8000.00",
        (
            ("Search - Umbrellas", None, "120.00", None, ("33.00",)),
            ("Shopping - Raincoats", "Business hours", None, None, ("21.99", "8.01")),
            ("Social - Storm Season", "Lunch and evening", None, None, ()),
            ("Display - Prospecting", None, None, None, ("5.50",)),
        ),
    ),
    (
        "Sakura Games",
        "Asia/Tokyo",
        "JPY",
        "80000",
        "2000000",
        (
            ("App Install - iOS", None, None, None, ("12000", "9000")),
            ("App Install - Android", "Overnight", None, None, ("7000",)),
            ("Search - Titles", "Business hours", "20000", None, ("4000",)),
            ("Video - Trailer", "Lunch and evening", None, None, ()),
        ),
    ),
)


@dataclass(frozen=True)
class DemoAdAccount:
    brand: str
    name: str
    platform: Platform
    account_id: str
    credentials_env: str
    # (demo campaign name, the platform's id for it)
    campaigns: tuple[tuple[str, str], ...]


# A Google Ads and a Meta account, two campaigns each: one that runs and one the budget or the
# schedule pauses, so the first pushes carry both statuses. `make run` binds each variable to
# its brand and points it at a fake (Makefile, DEV_ENV); `manage.py run_fakes` serves them.
DEMO_AD_ACCOUNTS = (
    DemoAdAccount(
        brand="Acme Coffee",
        name="Acme Search (demo)",
        platform=Platform.GOOGLE_ADS,
        account_id="123-456-7890",
        credentials_env="DEMO_GOOGLE_ADS",
        campaigns=(("Search - Brand", "20001"), ("Search - Generic", "20002")),
    ),
    DemoAdAccount(
        brand="Brolly & Co",
        name="Brolly Social (demo)",
        platform=Platform.META,
        account_id="act_1001",
        credentials_env="DEMO_META",
        campaigns=(("Social - Storm Season", "30001"), ("Display - Prospecting", "30002")),
    ),
)


def _ensure_schedules(report: SeedReport, prefix: str = "") -> dict[str, DaypartSchedule]:
    schedules: dict[str, DaypartSchedule] = {}
    for name, (description, windows) in DEMO_SCHEDULES.items():
        schedule, created = DaypartSchedule.objects.get_or_create(
            name=prefix + name, defaults={"description": description}
        )
        report.schedules_created += int(created)
        if created:
            DaypartWindow.objects.bulk_create(
                DaypartWindow(schedule=schedule, weekday=day, start_time=w.start, end_time=w.end)
                for w in windows
                for day in w.weekdays
            )
        schedules[name] = schedule
    return schedules


def _ensure_demo_ad_accounts(report: SeedReport, *, at: datetime) -> None:
    """Each demo account, and its campaigns linked to it when the account is new (so a link
    staff changed stays as they left it). Linking queues each campaign's current status."""
    for demo in DEMO_AD_ACCOUNTS:
        brand = Brand.objects.filter(name=demo.brand).first()
        # Only where the demo's credentials are bound to the brand (`make run` binds them and
        # starts the fakes): run by hand without them, an account could only ever fail.
        if brand is None or binding_problem(demo.credentials_env, brand.name) is not None:
            continue
        account, created = AdAccount.objects.get_or_create(
            platform=demo.platform,
            account_id=demo.account_id,
            defaults={"brand": brand, "name": demo.name, "credentials_env": demo.credentials_env},
        )
        report.ad_accounts_created += int(created)
        if not created:
            continue
        for campaign_name, platform_campaign_id in demo.campaigns:
            campaign = Campaign.objects.filter(brand=brand, name=campaign_name).first()
            if campaign is not None and campaign.ad_account_id is None:
                report.campaigns_linked += int(
                    campaign_platform_link(
                        campaign_id=campaign.pk,
                        account=account,
                        platform_campaign_id=platform_campaign_id,
                        at=at,
                    )
                )


def seed_demo(*, at: datetime, ad_accounts: bool = False) -> SeedReport:
    """Three brands in three zones, three schedules, a dozen campaigns, some spend; with
    ``ad_accounts``, also DEMO_AD_ACCOUNTS with a few campaigns linked to them.
    Safe to run twice: existing rows are kept as they are, and the seeded spend events carry
    fixed ids, so a second run records duplicates only."""
    report = SeedReport()
    with transaction.atomic():
        schedules = _ensure_schedules(report)
        events: list[SpendEventInput] = []
        brand_ids: list[int] = []
        for brand_name, tz, currency, daily, monthly, campaigns in DEMO_BRANDS:
            brand, created = Brand.objects.get_or_create(
                name=brand_name,
                defaults={
                    "timezone": tz,
                    "currency": currency,
                    "daily_budget": Decimal(daily),
                    "monthly_budget": Decimal(monthly),
                },
            )
            report.brands_created += int(created)
            brand_ids.append(brand.pk)
            for name, schedule, daily_cap, monthly_cap, amounts in campaigns:
                campaign, created = Campaign.objects.get_or_create(
                    brand=brand,
                    name=name,
                    defaults={
                        "schedule": schedules[schedule] if schedule else None,
                        "daily_budget": Decimal(daily_cap) if daily_cap else None,
                        "monthly_budget": Decimal(monthly_cap) if monthly_cap else None,
                    },
                )
                report.campaigns_created += int(created)
                for number, amount in enumerate(amounts, start=1):
                    events.append(
                        SpendEventInput(
                            campaign_id=campaign.pk,
                            amount=amount,
                            occurred_at=at - timedelta(minutes=10 * number),
                            source=SEED_SOURCE,
                            external_id=f"{brand_name}/{name}/{number}",
                        )
                    )
    report.brand_ids = tuple(brand_ids)
    if ad_accounts:
        # Before the spend: the links queue "running", and the pauses the spend and the
        # check below decide then follow as pushes of their own.
        _ensure_demo_ad_accounts(report, at=at)
    report.events_accepted = spend_record(events=events, at=at, actor=SEED_ACTOR).accepted
    _ensure_demo_plans(at=at)
    report.reconcile = reconcile(at=at, trigger=Trigger.SETUP, actor=SEED_ACTOR)
    return report


def _ensure_demo_plans(*, at: datetime) -> None:
    """A flight, a shared budget and next month's budget change for the first demo brand,
    through the planning services (each kept if it exists already)."""
    brand = Brand.objects.filter(name=DEMO_BRANDS[0][0]).first()
    if brand is None:
        return
    campaigns = dict(Campaign.objects.filter(brand=brand).values_list("name", "id"))
    today = local_date(at, brand.timezone)
    if not brand.flights.exists():
        flight_create(
            brand_id=brand.pk,
            name="Holiday push",
            starts_on=today - timedelta(days=5),
            ends_on=today + timedelta(days=20),
            budget="4000.00",
            campaign_ids=[campaigns["Display - Retargeting"], campaigns["Video - Launch"]],
            at=at,
            actor=SEED_ACTOR,
        )
    if not brand.shared_budgets.exists():
        shared_budget_create(
            brand_id=brand.pk,
            name="Search pot",
            daily_budget="400.00",
            monthly_budget="9000.00",
            campaign_ids=[campaigns["Search - Brand"], campaigns["Search - Generic"]],
            at=at,
            actor=SEED_ACTOR,
        )
    if not brand.budget_changes.exists():
        following = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
        budget_change_create(
            brand_id=brand.pk,
            target=BudgetTarget.BRAND,
            target_id=None,
            effective_on=following,
            daily_budget="600.00",
            monthly_budget="15000.00",
            at=at,
            actor=SEED_ACTOR,
        )


def seed_synthetic(
    *,
    brands: int,
    campaigns_per_brand: int,
    at: datetime,
    prefix: str = SYNTHETIC_PREFIX,
    batch_size: int = 5000,
) -> SeedReport:
    """``brands`` x ``campaigns_per_brand`` campaigns by bulk insert: zones cycle through
    SYNTHETIC_ZONES, every third campaign has a schedule, every fifth a daily cap; then the
    new brands are reconciled. Brand and schedule names start with ``prefix``. Safe to run
    twice: names are fixed, and existing rows are skipped."""
    report = SeedReport()
    synthetic_brands = Brand.objects.filter(name__startswith=prefix)
    synthetic_campaigns = Campaign.objects.filter(brand__name__startswith=prefix)
    with transaction.atomic():
        schedules = list(_ensure_schedules(report, prefix).values())
        brands_before, campaigns_before = synthetic_brands.count(), synthetic_campaigns.count()
        Brand.objects.bulk_create(
            (
                Brand(
                    name=f"{prefix}{number:06d}",
                    timezone=SYNTHETIC_ZONES[number % len(SYNTHETIC_ZONES)],
                    daily_budget=Decimal(100 + (number % 50) * 10),
                    monthly_budget=Decimal(3000 + (number % 50) * 300),
                )
                for number in range(1, brands + 1)
            ),
            batch_size=batch_size,
            ignore_conflicts=True,
        )
        brand_ids = list(synthetic_brands.order_by("name").values_list("id", flat=True)[:brands])
        # A batch of brands at a time: bulk_create makes a list of whatever it is given,
        # which at a million campaigns is a gigabyte of model instances.
        per_batch = max(1, batch_size // max(1, campaigns_per_brand))
        for start in range(0, len(brand_ids), per_batch):
            Campaign.objects.bulk_create(
                (
                    Campaign(
                        brand_id=brand_id,
                        name=f"Campaign {number:03d}",
                        external_id=f"syn-{brand_id}-{number}",
                        schedule=(
                            schedules[(index + number) % len(schedules)]
                            if (index + number) % 3 == 0
                            else None
                        ),
                        daily_budget=Decimal(40) if (index + number) % 5 == 0 else None,
                    )
                    for index, brand_id in enumerate(
                        brand_ids[start : start + per_batch], start=start
                    )
                    for number in range(1, campaigns_per_brand + 1)
                ),
                batch_size=batch_size,
                ignore_conflicts=True,
            )
        report.brands_created = synthetic_brands.count() - brands_before
        report.campaigns_created = synthetic_campaigns.count() - campaigns_before
        report.brand_ids = tuple(brand_ids)
    report.reconcile = reconcile(
        at=at, trigger=Trigger.SETUP, actor=SEED_ACTOR, scope=Scope(brand_ids=tuple(brand_ids))
    )
    return report


def demo_superuser_ensure() -> bool:
    """Create the demo superuser if no superuser exists. Returns whether it was created."""
    user_model = get_user_model()
    if user_model.objects.filter(is_superuser=True).exists():
        return False
    user_model.objects.create_superuser(DEMO_USERNAME, "admin@example.com", DEMO_PASSWORD)
    return True
