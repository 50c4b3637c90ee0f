"""The spend sources page in Chromium: what was learned of each source's reporting lag, a
clock off shown in words, and the operator's lag set from the change page.

With CONSOLE_SCREENSHOTS=<folder> (``docs`` for the README's) it also saves the list."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from ads.models import SpendSource
from ads.services.lags import lags_learn
from tests.browser.conftest import PASSWORD
from tests.browser.test_console import log_in
from tests.browser.test_plan_console import shot
from tests.factories import make_brand, make_campaign, spend

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_user(clock: None) -> User:
    return User.objects.create_superuser("boss", "boss@example.com", PASSWORD)


def test_the_sources_page_shows_the_lags_and_sets_one(
    page: Page, live_server: LiveServer, admin_user: User
) -> None:
    now = timezone.now()
    brand = make_brand("Acme Coffee", daily="100000", monthly="1000000")
    search, social = make_campaign(brand, "Brand search"), make_campaign(brand, "Social")
    for n in range(40):
        # Google: most within the hour, some up to three hours late.
        minutes = 20 + (n % 10) * 18
        spend(
            search,
            "12.50",
            at=now,
            occurred_at=now - timedelta(minutes=minutes),
            source="google-ads",
        )
        # Meta: daily figures that settle overnight, here 10 to 14 hours late.
        spend(
            social,
            "30",
            at=now,
            occurred_at=now - timedelta(hours=10, minutes=6 * n),
            source="meta",
        )
        # An in-house tracker whose clock runs two minutes ahead.
        spend(search, "1", at=now, occurred_at=now + timedelta(minutes=2), source="tracker")
    lags_learn(at=now)
    SpendSource.objects.create(brand=brand, source="tiktok", lag_minutes=120)
    # A healthy installation: the budget check ran (else every page shows beat's banner).
    call_command("check_budget", stdout=StringIO())

    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/ads/spendsource/")
    rows = page.locator("#result_list")
    expect(rows.locator("tr", has_text="google-ads")).to_contain_text("(learned p95)")
    expect(rows.locator("tr", has_text="meta")).to_contain_text("reports in batches")
    expect(rows.locator("tr", has_text="tracker")).to_contain_text("2 min ahead of ours")
    expect(rows.locator("tr", has_text="tiktok")).to_contain_text("2 h 00 min (set)")
    expect(rows).to_contain_text(" UTC")
    shot(page, "admin-spend-sources")

    page.get_by_role("link", name="meta").click()
    expect(page.locator(".field-learned")).to_contain_text("11 h 54 min / 13 h 42 min")
    page.fill("#id_lag_minutes", "900")
    shot(page, "admin-spend-source")
    page.click("input[name=_save]")
    expect(page.locator("#result_list tr", has_text="meta")).to_contain_text("15 h 00 min (set)")
    assert SpendSource.objects.get(brand=brand, source="meta").lag_minutes == 900

    page.goto(f"{live_server.url}/admin/ads/brand/{brand.pk}/change/")
    table = page.locator("table.brand-sources")
    expect(table.locator("tr", has_text="meta")).to_contain_text("15 h 00 min (set)")
    expect(table.locator("tr", has_text="tracker")).to_contain_text("2 min ahead of ours")
    table.scroll_into_view_if_needed()
    shot(page, "admin-brand-sources")
