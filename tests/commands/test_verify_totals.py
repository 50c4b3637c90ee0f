"""manage.py verify_totals as an operator runs it: the report, the exit code, --fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from ads.models import BrandPeriodSpend, Campaign, PauseReason
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def run(*args: Any) -> str:
    out = StringIO()
    call_command("verify_totals", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def over_budget(frozen: time_machine.Traveller) -> list[Campaign]:
    """Ten campaigns whose brand spent 13,582.64 today against a 6,000 budget: paused."""
    brand = make_brand(daily="6000", monthly="100000")
    campaigns = [make_campaign(brand) for _ in range(10)]
    for campaign in campaigns:
        spend(campaign, "1358.264", at=NOON)
    return campaigns


def zero_the_brand_day(brand_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ads_brandperiodspend SET amount = 0 WHERE brand_id = %s AND period = 'day'",
            [brand_id],
        )


def test_no_drift_prints_the_summary_and_exits_zero(over_budget: list[Campaign]) -> None:
    out = run()

    assert (
        "20 campaign totals, 2 brand totals, 0 shared budget totals, 0 flight totals "
        "checked, 0 differ from the ledger." in out
    )
    assert "differs:" not in out


@pytest.mark.drift
def test_drift_is_listed_with_its_figures_and_exits_one(over_budget: list[Campaign]) -> None:
    brand_id = over_budget[0].brand_id
    zero_the_brand_day(brand_id)
    out = StringIO()

    with pytest.raises(CommandError, match="1 totals differ from the ledger") as failure:
        call_command("verify_totals", stdout=out)

    assert failure.value.returncode == 1
    assert (
        f"  differs: brand {brand_id} (brand {brand_id}) day 2026-06-10: stored 0.00, "
        "ledger 13582.64, difference +13582.64"
    ) in out.getvalue()
    assert "1 differ from the ledger." in out.getvalue()


def test_fix_repairs_pauses_again_and_a_budget_check_keeps_them_paused(
    over_budget: list[Campaign],
) -> None:
    brand_id = over_budget[0].brand_id
    zero_the_brand_day(brand_id)
    call_command("check_budget", stdout=StringIO())
    assert {state(c) for c in over_budget} == {("running", None)}

    out = run("--fix")
    call_command("check_budget", stdout=StringIO())

    assert "  repaired: brand" in out
    assert "repaired 1 totals rows in 1 brands, reconciled them (10 campaigns moved)." in out
    assert {state(c) for c in over_budget} == {("paused", PauseReason.BRAND_DAILY_BUDGET)}
    day = BrandPeriodSpend.objects.get(brand_id=brand_id, period="day")
    assert day.amount == Decimal("13582.64")
    # A second run finds nothing: exit 0, nothing repaired.
    assert "0 differ from the ledger; nothing to repair." in run("--fix")
    assert "0 differ from the ledger." in run()


@pytest.mark.drift
def test_brand_and_since_narrow_the_check(
    over_budget: list[Campaign], frozen: time_machine.Traveller
) -> None:
    other = make_campaign(make_brand(daily="100", monthly="1000"))
    spend(other, "5", at=NOON, occurred_at=NOON - timedelta(days=20))
    zero_the_brand_day(other.brand_id)

    with pytest.raises(CommandError):
        run()
    clean = run("--brand", str(over_budget[0].brand_id))
    since = run("--since", "2026-06-01")  # other's drift is on 21 May

    brand_id = over_budget[0].brand_id
    assert (
        f"(brand {brand_id}): 20 campaign totals, 2 brand totals, 0 shared budget totals, "
        "0 flight totals checked, 0 differ" in clean
    )
    assert "(all brands; periods from 2026-06-01)" in since and "0 differ" in since


def test_bad_arguments_are_refused(frozen: time_machine.Traveller) -> None:
    with pytest.raises(CommandError, match="--since '1 June' is not a date"):
        run("--since", "1 June")
    with pytest.raises(CommandError, match="brand 424242 does not exist"):
        run("--brand", "424242")
