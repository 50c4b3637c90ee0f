"""A brand's shared budget reports read in a fixed number of queries, whatever their
number, with each one's spend, budgets in force and campaigns."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ads.services.budget_calendar import budget_change_create
from ads.services.selectors.plans import shared_budget_reports
from ads.services.shared_budgets import shared_budget_create
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def test_reports_cost_three_queries_and_carry_each_pots_figures() -> None:
    brand = make_brand(timezone="Asia/Tokyo", daily="10000", monthly="100000")
    pots = []
    for number in range(4):
        campaign = make_campaign(brand)
        pot, _ = shared_budget_create(
            brand_id=brand.pk,
            name=f"Pot {number}",
            daily_budget=str(100 + number),
            monthly_budget=None,
            campaign_ids=[campaign.pk],
            at=NOON,
            actor="t",
        )
        spend(campaign, str(10 * (number + 1)), at=NOON)
        pots.append(pot)
    budget_change_create(
        brand_id=brand.pk,
        target="shared_budget",
        target_id=pots[1].pk,
        effective_on=date(2026, 6, 11),  # tomorrow in Tokyo at NOON UTC (21:00 there)
        daily_budget="250",
        monthly_budget=None,
        at=NOON,
        actor="t",
    )

    with CaptureQueriesContext(connection) as few:
        today = shared_budget_reports(brand_id=brand.pk, at=NOON)
    tomorrow = shared_budget_reports(brand_id=brand.pk, at=datetime(2026, 6, 10, 16, tzinfo=UTC))

    assert len(few) == 4  # the shared budgets, their totals, their calendar, their campaigns
    by_name = {r.shared_budget.name: r for r in today}
    assert [by_name[f"Pot {n}"].day_spend for n in range(4)] == [
        Decimal("10"),
        Decimal("20"),
        Decimal("30"),
        Decimal("40"),
    ]
    assert by_name["Pot 1"].daily_budget == Decimal("101")
    assert {r.shared_budget.name: r.daily_budget for r in tomorrow}["Pot 1"] == Decimal("250")
    assert all(len(r.campaign_ids) == 1 for r in today)
    # A new day in Tokyo: that day's spend starts again from nothing.
    assert {r.shared_budget.name: r.day_spend for r in tomorrow}["Pot 3"] == Decimal("0")
