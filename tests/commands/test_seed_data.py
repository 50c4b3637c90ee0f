from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.test import override_settings

from ads.models import (
    AdAccount,
    Brand,
    BrandPeriodSpend,
    Campaign,
    CampaignStatusChange,
    DaypartSchedule,
    DaypartWindow,
    PlatformDelivery,
    SpendEvent,
)

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def counts() -> dict[str, object]:
    return {
        "brands": Brand.objects.count(),
        "campaigns": list(
            Campaign.objects.order_by("id").values_list("id", "status", "pause_reason")
        ),
        "schedules": DaypartSchedule.objects.count(),
        "windows": DaypartWindow.objects.count(),
        "events": SpendEvent.objects.count(),
        "totals": list(BrandPeriodSpend.objects.order_by("id").values_list("amount", flat=True)),
        "changes": CampaignStatusChange.objects.count(),
        "users": get_user_model().objects.count(),
    }


@override_settings(DEBUG=True)
def test_seed_data_twice_changes_nothing_the_second_time() -> None:
    out = StringIO()
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", stdout=out)
        first = counts()
        call_command("seed_data", stdout=out)

    assert counts() == first
    assert first["brands"] == 3 and first["schedules"] == 3
    assert len(first["campaigns"]) == 12  # type: ignore[arg-type]
    assert {b.timezone for b in Brand.objects.all()} == {
        "America/New_York",
        "Europe/London",
        "Asia/Tokyo",
    }
    text = out.getvalue()
    assert "3 brands, 12 campaigns, 3 schedules created; 13 spend events recorded." in text
    assert "0 brands, 0 campaigns, 0 schedules created; 0 spend events recorded." in text
    assert text.count("nothing new: all of it was already there.") == 1
    assert "demo superuser created: username 'admin', password 'admin'" in text
    assert get_user_model().objects.get().is_superuser


@override_settings(DEBUG=False)
def test_no_demo_superuser_without_debug() -> None:
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", stdout=StringIO())
    assert not get_user_model().objects.exists()


DEMO_BINDINGS = {
    "DEMO_GOOGLE_ADS": frozenset({"Acme Coffee"}),
    "DEMO_META": frozenset({"Brolly & Co"}),
}


@override_settings(DEBUG=True, PLATFORM_CREDENTIALS=DEMO_BINDINGS)
def test_in_development_a_few_demo_campaigns_are_linked_to_ad_accounts_on_the_fakes() -> None:
    out = StringIO()
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", stdout=out)
        call_command("seed_data", stdout=out)

    accounts = dict(AdAccount.objects.values_list("credentials_env", "brand__name"))
    assert accounts == {"DEMO_GOOGLE_ADS": "Acme Coffee", "DEMO_META": "Brolly & Co"}
    linked = Campaign.objects.filter(ad_account__isnull=False)
    assert linked.count() == 4
    # Linking queued each campaign's status, so the first pushes go as soon as a worker runs.
    assert set(PlatformDelivery.objects.values_list("campaign", flat=True)) == {
        c.pk for c in linked
    }
    text = out.getvalue()
    assert text.count("demo ad accounts: 2 created, 4 campaigns linked") == 1
    assert text.count("nothing new: all of it was already there.") == 1


@override_settings(DEBUG=True, PLATFORM_CREDENTIALS={})
def test_no_demo_ad_accounts_where_their_credentials_are_not_bound_as_make_run_binds_them() -> None:
    # Run by hand (README's manual path) without the demo's bindings, an account could only
    # ever fail; the demo data is the rest, as before.
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", stdout=StringIO())
    assert not AdAccount.objects.exists() and Campaign.objects.exists()


@override_settings(DEBUG=False, PLATFORM_CREDENTIALS=DEMO_BINDINGS)
def test_no_demo_ad_accounts_without_debug() -> None:
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", stdout=StringIO())
    assert not AdAccount.objects.exists()
    assert not Campaign.objects.filter(ad_account__isnull=False).exists()


def test_synthetic_data_in_bulk_and_idempotent() -> None:
    out = StringIO()
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", "--brands", "30", "--campaigns-per-brand", "7", stdout=out)
        call_command("seed_data", "--brands", "30", "--campaigns-per-brand", "7", stdout=out)

    assert Brand.objects.count() == 30
    assert Campaign.objects.count() == 210
    assert Campaign.objects.filter(schedule__isnull=False).count() == 70
    assert len({b.timezone for b in Brand.objects.all()}) > 5
    text = out.getvalue()
    assert "30 brands, 210 campaigns, 3 schedules created" in text
    assert "0 brands, 0 campaigns, 0 schedules created" in text


def test_synthetic_sizes_must_be_positive() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_data", "--brands", "0")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_data", "--brands", "2", "--campaigns-per-brand", "0")


@override_settings(DEBUG=True)
def test_the_summary_counts_every_paused_campaign_whichever_step_paused_it() -> None:
    # Spend recorded by the seed pauses some campaigns, the check after it others; the
    # summary once counted only the check's.
    out = StringIO()
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", stdout=out)

    by_step = dict(
        CampaignStatusChange.objects.filter(to_status="paused")
        .values_list("trigger")
        .annotate(n=Count("id"))
        .values_list("trigger", "n")
    )
    assert by_step == {"spend": 3, "setup": 2}
    reasons = dict(
        Campaign.objects.filter(status="paused")
        .values_list("pause_reason")
        .annotate(n=Count("id"))
        .values_list("pause_reason", "n")
    )
    assert reasons == {"campaign_daily_budget": 1, "outside_schedule": 4}
    expected = (
        "  state now: 12 campaigns, 7 running, 5 paused "
        "(1 campaign_daily_budget, 4 outside_schedule)"
    )
    assert expected in out.getvalue().splitlines()


def test_brands_alone_uses_the_stated_default_of_ten_campaigns_each() -> None:
    out = StringIO()
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", "--brands", "4", stdout=out)

    assert Brand.objects.count() == 4 and Campaign.objects.count() == 40
    assert "seed_data (synthetic data, 4 brands x 10 campaigns): 4 brands, 40 campaigns" in (
        out.getvalue()
    )
    assert "  state now: 40 campaigns, " in out.getvalue()


def test_campaigns_per_brand_alone_is_refused_and_creates_nothing() -> None:
    with pytest.raises(CommandError, match="--campaigns-per-brand needs --brands"):
        call_command("seed_data", "--campaigns-per-brand", "3")

    assert not Brand.objects.exists() and not Campaign.objects.exists()


def test_the_demo_has_a_flight_a_shared_budget_and_a_planned_change_once() -> None:
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", stdout=StringIO())
        call_command("seed_data", stdout=StringIO())
    from ads.models import BudgetChange, Flight, SharedBudget

    flight = Flight.objects.get()
    assert (flight.name, sorted(flight.campaigns.values_list("name", flat=True))) == (
        "Holiday push",
        ["Display - Retargeting", "Video - Launch"],
    )
    assert SharedBudget.objects.get().campaigns.count() == 2
    change = BudgetChange.objects.get()
    assert change.effective_on.day == 1 and change.created_by == "seed_data"
