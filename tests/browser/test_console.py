"""The staff console as a person uses it, in Chromium."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from ads.models import BrandAccess, Campaign
from tests.browser.conftest import PASSWORD
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_user(clock: None) -> User:
    return User.objects.create_superuser("boss", "boss@example.com", PASSWORD)


def log_in(page: Page, live_server: LiveServer, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username)


def campaign_row(page: Page, campaign: Campaign) -> Locator:
    return page.locator(f"#result_list tr:has(a[href*='/campaign/{campaign.pk}/change/'])")


def test_a_brands_bar_shows_spend_recorded_a_moment_ago(
    page: Page, live_server: LiveServer, admin_user: User
) -> None:
    brand = make_brand("Acme", daily="100", monthly="1000", timezone="Europe/Berlin")
    spend(make_campaign(brand), "85", at=timezone.now())

    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/ads/brand/")

    row = page.locator("#result_list tbody tr", has_text="Acme")
    expect(row.locator(".budget-warn").first).to_contain_text("85 %")
    expect(row).to_contain_text("85.00 / 100.00 USD")
    expect(row).to_contain_text("(Europe/Berlin)")


def test_filtering_paused_campaigns_shows_when_each_resumes(
    page: Page, live_server: LiveServer, admin_user: User
) -> None:
    brand = make_brand("Acme", daily="100", timezone="Europe/Berlin")
    paused = make_campaign(brand, "Spent")
    make_campaign(make_brand(), "Fresh")  # running: filtered out
    spend(paused, "100", at=timezone.now())

    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/ads/campaign/")
    page.locator("#changelist-filter").get_by_role("link", name="Paused", exact=True).click()

    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    row = campaign_row(page, paused)
    expect(row).to_contain_text("Brand daily budget reached")
    # Noon in Berlin on 12 June: the brand's next day starts at its own midnight.
    expect(row).to_contain_text("2030-06-13 00:00 CEST (Europe/Berlin)")


def test_bulk_pause_goes_through_its_confirmation_page(
    page: Page, live_server: LiveServer, admin_user: User
) -> None:
    brand = make_brand("Acme")
    first, second, other = (make_campaign(brand) for _ in range(3))

    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/ads/campaign/")
    for campaign in (first, second):
        campaign_row(page, campaign).locator("input.action-select").check()
    page.select_option("select[name=action]", "pause_campaigns")
    page.click("button[name=index]")

    expect(page.locator("#bulk-summary")).to_contain_text("pause 2 campaigns")
    expect(page.locator("#bulk-brands")).to_contain_text("Acme")
    assert state(first) == ("running", None)  # nothing happened yet
    page.get_by_role("button", name="Yes, pause 2 campaigns").click()

    expect(page.locator(".messagelist")).to_contain_text("2 campaign(s) paused by staff.")
    assert state(first) == state(second) == ("paused", "manual")
    assert state(other) == ("running", None)


def test_a_correction_resumes_the_campaign(
    page: Page, live_server: LiveServer, admin_user: User
) -> None:
    campaign = make_campaign(make_brand("Acme", daily="100"), "Summer")
    spend(campaign, "100", at=timezone.now() - timedelta(minutes=1))
    assert state(campaign) == ("paused", "brand_daily_budget")

    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/ads/campaign/{campaign.pk}/change/")
    page.get_by_role("link", name=re.compile("Enter a spend correction")).click()
    page.fill("#id_amount", "-30")
    page.fill("#id_note", "bot clicks refunded by the platform")
    page.get_by_role("button", name="Record correction").click()

    expect(page.locator(".messagelist")).to_contain_text("Correction of -30.00 USD")
    expect(page.locator(".status-badge").first).to_have_text("Running")
    expect(page.locator("table.history")).to_contain_text("bot clicks refunded")
    assert state(campaign) == ("running", None)
    assert campaign.spend_corrections.get().spend_event.amount == Decimal("-30")


def test_a_staff_member_of_one_brand_cannot_open_another_brands_campaign(
    page: Page, live_server: LiveServer, clock: None
) -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    ours, theirs = make_campaign(acme, "Ours"), make_campaign(globex, "Theirs")
    alice = User.objects.create_user("alice", password=PASSWORD, is_staff=True)
    alice.user_permissions.set(Permission.objects.filter(content_type__app_label="ads"))
    BrandAccess.objects.create(user=alice, brand=acme)

    log_in(page, live_server, "alice")
    theirs_page = page.goto(f"{live_server.url}/admin/ads/campaign/{theirs.pk}/change/")
    assert theirs_page is not None and theirs_page.status == 404
    ours_page = page.goto(f"{live_server.url}/admin/ads/campaign/{ours.pk}/change/")
    assert ours_page is not None and ours_page.status == 200
    page.goto(f"{live_server.url}/admin/ads/campaign/")
    expect(page.locator("#result_list")).not_to_contain_text("Theirs")
