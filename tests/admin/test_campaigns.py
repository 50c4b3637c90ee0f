"""Campaign list and page: state, reason, resumes at, caps, windows and one history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client

from ads.models import Campaign
from ads.services.campaigns import campaigns_set_enabled
from ads.services.sweeps import dayparting_enforce
from tests.admin.conftest import NOON, text
from tests.factories import make_brand, make_campaign, make_schedule, spend, state

pytestmark = pytest.mark.django_db
WEDNESDAY, THURSDAY, SUNDAY = 2, 3, 6


def row_of(staff: Client, campaign: Campaign) -> str:
    page = staff.get("/admin/ads/campaign/", {"q": campaign.name}).content.decode()
    start = page.index(f"/admin/ads/campaign/{campaign.pk}/change/")
    return page[start : page.index("</tr>", start)]


def test_a_campaign_paused_for_the_daily_budget_resumes_at_the_next_local_midnight(
    staff: Client,
) -> None:
    campaign = make_campaign(make_brand(daily="100", timezone="America/New_York"), "Daily")
    spend(campaign, "100", at=NOON)

    row = row_of(staff, campaign)

    assert "Paused" in row and "Brand daily budget reached" in row
    assert "2026-06-11 00:00 EDT (America/New_York)" in row


def test_a_campaign_paused_for_a_monthly_cap_resumes_on_the_first_of_next_month(
    staff: Client,
) -> None:
    campaign = make_campaign(make_brand(timezone="Europe/Berlin"), "Monthly", monthly="50")
    spend(campaign, "50", at=NOON)

    row = row_of(staff, campaign)

    assert "Campaign monthly cap reached" in row
    assert "2026-07-01 00:00 CEST (Europe/Berlin)" in row


def test_a_campaign_outside_its_schedule_resumes_when_its_next_window_opens(
    staff: Client,
) -> None:
    schedule = make_schedule((THURSDAY, "09:00", "17:00"))
    campaign = make_campaign(make_brand(timezone="Asia/Tokyo"), "Windowed", schedule=schedule)
    campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=True, at=NOON, actor="t")

    row = row_of(staff, campaign)

    assert "Outside its schedule" in row
    assert "2026-06-11 09:00 JST (Asia/Tokyo)" in row


@pytest.mark.parametrize(
    ("timezone", "window", "at", "resumes"),
    [
        # 2026-03-08 in New York: 02:00-03:00 does not exist; the engine opens 02:30-03:30
        # when the clocks jump to 03:00, and never runs 02:05-02:45 that day.
        ("America/New_York", ("02:30", "03:30"), (3, 8, 6, 0), "2026-03-08 03:00 EDT"),
        ("America/New_York", ("02:05", "02:45"), (3, 8, 6, 0), "2026-03-15 02:05 EDT"),
        # 2026-11-01 in New York: 01:00-02:00 happens twice; at 01:50 EDT the window opens
        # again at 01:30 EST.
        ("America/New_York", ("01:30", "01:45"), (11, 1, 5, 50), "2026-11-01 01:30 EST"),
        # 2026-03-29 in Berlin: 02:00-03:00 does not exist.
        ("Europe/Berlin", ("02:30", "03:30"), (3, 29, 0, 30), "2026-03-29 03:00 CEST"),
        ("Europe/Berlin", ("02:05", "02:45"), (3, 29, 0, 30), "2026-04-05 02:05 CEST"),
    ],
)
def test_resumes_at_on_a_dst_night_is_when_the_engine_opens_the_window(
    staff: Client,
    admin_user: User,
    timezone: str,
    window: tuple[str, str],
    at: tuple[int, int, int, int],
    resumes: str,
) -> None:
    month, day, hour, minute = at
    moment = datetime(2026, month, day, hour, minute, tzinfo=UTC)
    schedule = make_schedule((SUNDAY, *window))
    campaign = make_campaign(make_brand(timezone=timezone), "Night", schedule=schedule)
    dayparting_enforce(at=moment)

    with time_machine.travel(moment, tick=False):
        staff.force_login(admin_user)  # a session from NOON has expired by November
        row = row_of(staff, campaign)

    assert "Outside its schedule" in row
    assert f"{resumes} ({timezone})" in row


def test_a_budget_that_resets_into_a_gap_window_resumes_when_the_engine_opens_it(
    staff: Client,
) -> None:
    # Saturday noon in New York: the brand's day is spent; the new day begins at midnight,
    # outside the Sunday window 02:30-03:30, whose 02:30 does not exist that night.
    saturday = datetime(2026, 3, 7, 17, 0, tzinfo=UTC)
    schedule = make_schedule((SUNDAY, "02:30", "03:30"))
    brand = make_brand(timezone="America/New_York", daily="10")
    campaign = make_campaign(brand, "Spent", schedule=schedule)
    spend(campaign, "10", at=saturday)

    with time_machine.travel(saturday, tick=False):
        row = row_of(staff, campaign)

    assert "Brand daily budget reached" in row
    assert "2026-03-08 03:00 EDT (America/New_York)" in row


def test_a_campaign_paused_by_staff_resumes_when_staff_resume_it(staff: Client) -> None:
    campaign = make_campaign(make_brand(), "Manual")
    campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=False, at=NOON, actor="t")

    assert "when staff resume it" in row_of(staff, campaign)


def test_campaign_page_shows_caps_brand_bars_windows_and_one_history(staff: Client) -> None:
    schedule = make_schedule((WEDNESDAY, "09:00", "17:00"))
    brand = make_brand("Acme", daily="100", timezone="Europe/Berlin")
    campaign = make_campaign(brand, "Summer", daily="40", schedule=schedule)
    spend(campaign, "40", at=NOON)
    url = f"/admin/ads/campaign/{campaign.pk}/change/"
    staff.post(
        url,
        {
            "brand": brand.pk,
            "name": "Summer",
            "external_id": "",
            "enabled": "on",
            "schedule": schedule.pk,
            "daily_budget": "50",
            "monthly_budget": "",
            "_save": "Save",
        },
    )

    page = staff.get(url).content.decode()

    assert "80 % 40.00 / 50.00 USD" in text(page)  # its own cap
    assert "40 % 40.00 / 100.00 USD" in text(page)  # its brand's
    assert "<td>Wednesday</td><td>09:00-17:00</td>" in page
    assert "Brand-local wall-clock times (Europe/Berlin)" in page
    assert "Spend recorded: running → Campaign daily cap reached" in page
    assert "Staff edit" in page and "Changed Daily budget." in page
    assert "14:00 CEST (Europe/Berlin)" in page
    assert '"brand_day_spend"' not in page  # no raw JSON


def test_campaign_list_query_count_does_not_grow_with_its_rows(
    count_queries: Callable[[str], int],
) -> None:
    schedule = make_schedule((WEDNESDAY, "09:00", "10:00"))
    make_campaign(make_brand(), schedule=schedule)
    one = count_queries("/admin/ads/campaign/")
    for index in range(30):
        brand = make_brand(timezone=["UTC", "Europe/Berlin", "Asia/Tokyo"][index % 3])
        spend(make_campaign(brand, daily="5", schedule=schedule), "5", at=NOON)

    many = count_queries("/admin/ads/campaign/")

    assert many == one
    # The page's own, and the flight and shared-budget filters' choices (one query each).
    assert many <= 12


def test_bulk_pause_first_shows_counts_per_brand_and_changes_nothing(staff: Client) -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    campaigns = [make_campaign(acme), make_campaign(acme), make_campaign(globex)]

    response = staff.post(
        "/admin/ads/campaign/",
        {"action": "pause_campaigns", "_selected_action": [c.pk for c in campaigns]},
    )

    page = response.content.decode()
    assert "pause 3 campaigns</strong> of 2 brands" in page
    assert "<td>Acme</td><td>2</td><td>2</td><td>0</td>" in page
    assert "<td>Globex</td><td>1</td><td>1</td><td>0</td>" in page
    assert all(state(c) == ("running", None) for c in campaigns)


def test_confirmed_bulk_resume_says_how_many_run_and_why_the_rest_stay_paused(
    staff: Client,
) -> None:
    brand = make_brand(daily="100")
    free, over = make_campaign(brand, daily="10"), make_campaign(brand, daily="10")
    campaigns_set_enabled(campaign_ids=[free.pk, over.pk], enabled=False, at=NOON, actor="t")
    spend(over, "10", at=NOON)

    response = staff.post(
        "/admin/ads/campaign/",
        {"action": "resume_campaigns", "_selected_action": [free.pk, over.pk], "post": "yes"},
        follow=True,
    )

    assert state(free) == ("running", None)
    assert state(over) == ("paused", "campaign_daily_budget")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Staff pause lifted on 2 campaign(s): 1 now run; 1 stay paused (1 campaign daily cap "
        "reached) and resume by themselves when that ends."
    ]
