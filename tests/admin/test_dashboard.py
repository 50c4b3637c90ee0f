"""The admin index as a dashboard: figures that need attention, each linking to its list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from ads.models import Campaign
from tests.admin.conftest import NOON
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</div>", start)]


def test_dashboard_lists_brands_at_or_above_80_percent_most_spent_first(staff: Client) -> None:
    for name, amount in (("Calm", "10"), ("Close", "85"), ("Done", "100")):
        spend(make_campaign(make_brand(name, daily="100")), amount, at=NOON)

    part = section(staff.get("/admin/").content.decode(), "dashboard-near-budget")

    assert "(2)" in part
    assert part.index("Done") < part.index("Close") and "Calm" not in part
    assert "/admin/ads/brand/?budget_used=warn" in part


def spent_earlier(campaign: Campaign, amount: str, *, ago: timedelta) -> None:
    """Spend recorded ``ago``, by the clock too: a pause is recorded when it is applied."""
    with time_machine.travel(NOON - ago, tick=False):
        spend(campaign, amount, at=NOON - ago)


def test_dashboard_counts_campaigns_paused_in_the_last_hour_by_reason(staff: Client) -> None:
    brand = make_brand(daily="100")
    spent_earlier(make_campaign(brand), "100", ago=timedelta(minutes=30))
    old = make_campaign(make_brand(daily="100"))
    spent_earlier(old, "100", ago=timedelta(hours=2))

    part = section(staff.get("/admin/").content.decode(), "dashboard-paused")

    assert "Brand daily budget reached</a></td><td>1<" in part
    assert "pause_reason__exact=brand_daily_budget" in part and "changed=hour" in part


def test_the_paused_link_lists_campaigns_paused_in_the_last_hour(staff: Client) -> None:
    recent = make_campaign(make_brand(daily="100"), "Recent")
    spent_earlier(recent, "100", ago=timedelta(minutes=30))
    older = make_campaign(make_brand(daily="100"), "Older")
    spent_earlier(older, "100", ago=timedelta(hours=2))

    response = staff.get(
        "/admin/ads/campaign/",
        {"status__exact": "paused", "pause_reason__exact": "brand_daily_budget", "changed": "hour"},
    )

    assert [c.name for c in response.context["cl"].result_list] == ["Recent"]


def test_dashboard_sums_spend_today_per_currency(staff: Client) -> None:
    spend(make_campaign(make_brand(daily="100")), "10", at=NOON)
    spend(make_campaign(make_brand(daily="100")), "5.5", at=NOON)
    spend(make_campaign(make_brand(daily="9000", monthly="90000", currency="JPY")), "300", at=NOON)

    part = section(staff.get("/admin/").content.decode(), "dashboard-spend")

    assert "300 JPY</a></td><td>1 brand<" in part
    assert "15.50 USD</a></td><td>2 brands<" in part
    assert "/admin/ads/brand/?currency__exact=USD" in part


def test_dashboard_shows_when_each_periodic_job_last_succeeded(staff: Client) -> None:
    make_campaign(make_brand(daily="100"))
    with time_machine.travel(NOON - timedelta(hours=11), tick=False):
        # A run that moves nothing counts too: it comes from the job-run history.
        call_command("check_budget", stdout=StringIO())

    part = section(staff.get("/admin/").content.decode(), "dashboard-jobs")

    assert "Budget check</a></td><td>2026-06-10 01:00 UTC (UTC)" in part
    assert "/admin/ads/jobrun/?job__exact=check_budget" in part
    assert "Dayparting</a></td><td>no successful run yet" in part


def test_dashboard_query_count_does_not_grow_with_brands(
    count_queries: Callable[[str], int],
) -> None:
    spend(make_campaign(make_brand(daily="100")), "90", at=NOON)
    one = count_queries("/admin/")
    for _ in range(20):
        spend(make_campaign(make_brand(daily="100")), "90", at=NOON)

    assert count_queries("/admin/") == one
