"""The planning pages of the console in Chromium: the brand's plan, flights, shared
budgets, the budget calendar, the audit, and a media plan uploaded, previewed and applied.

With CONSOLE_SCREENSHOTS=<folder> (``docs`` for the README's) each test also saves the
page it ends on there, at the 1366 px the other screenshots use.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from ads.models import Brand, BudgetChange, BudgetTarget, Flight, SharedBudget
from ads.services.budget_calendar import budget_change_create
from ads.services.flights import flight_create
from ads.services.seeding import seed_demo
from ads.services.shared_budgets import shared_budget_create
from tests.browser.conftest import PASSWORD
from tests.browser.test_console import log_in
from tests.factories import make_brand, make_campaign, spend

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The browser's clock is 2030-06-12 (tests/browser/conftest.py, START).
JUNE = date(2030, 6, 1)


@pytest.fixture
def admin_user(clock: None) -> User:
    return User.objects.create_superuser("boss", "boss@example.com", PASSWORD)


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def planned(admin_user: User) -> Brand:
    """A brand with a plan: two flights (one behind, one ahead of pace), a shared budget
    nearly spent today, and budget changes ahead."""
    now = timezone.now()
    brand = make_brand("Acme Coffee", daily="2000", monthly="40000", timezone="America/New_York")
    search, social, display, video = (
        make_campaign(brand, name) for name in ("Brand search", "Social", "Display", "Video")
    )
    flight_create(
        brand_id=brand.pk,
        name="Summer blend launch",
        starts_on=JUNE,
        ends_on=date(2030, 6, 30),
        budget="12000",
        campaign_ids=[search.pk, social.pk],
        at=now,
        actor="maria",
    )
    flight_create(
        brand_id=brand.pk,
        name="Cold brew week",
        starts_on=date(2030, 6, 8),
        ends_on=date(2030, 6, 14),
        budget="3000",
        campaign_ids=[video.pk],
        at=now,
        actor="maria",
    )
    flight_create(
        brand_id=brand.pk,
        name="Back to school",
        starts_on=date(2030, 8, 20),
        ends_on=date(2030, 9, 10),
        budget="20000",
        campaign_ids=[display.pk],
        at=now,
        actor="api:planning-tool",
    )
    shared_budget_create(
        brand_id=brand.pk,
        name="Search and social pot",
        daily_budget="500",
        monthly_budget="9000",
        campaign_ids=[search.pk, social.pk],
        at=now,
        actor="maria",
    )
    for day, amount in ((1, "310"), (3, "420"), (6, "380"), (9, "290")):
        spend(search, amount, at=now, occurred_at=now.replace(day=day))
    spend(social, "410", at=now)
    for day, amount in ((8, "700"), (10, "820"), (11, "640")):
        spend(video, amount, at=now, occurred_at=now.replace(day=day))
    for target, owner, on, daily, monthly, who in (
        (BudgetTarget.BRAND, None, date(2030, 7, 1), None, "45000", "maria"),
        (BudgetTarget.CAMPAIGN, search.pk, date(2030, 6, 20), "150", None, "api:planning-tool"),
        (BudgetTarget.BRAND, None, date(2030, 9, 1), "2500", "50000", "maria"),
    ):
        budget_change_create(
            brand_id=brand.pk,
            target=target,
            target_id=owner,
            effective_on=on,
            daily_budget=daily,
            monthly_budget=monthly,
            at=now - timedelta(hours=3),
            actor=who,
        )
    # A healthy installation: the budget check ran (else every page shows beat's banner).
    call_command("check_budget", stdout=StringIO())
    return brand


def test_the_brand_page_shows_its_flights_shared_budgets_and_upcoming_changes(
    page: Page, live_server: LiveServer, planned: Brand
) -> None:
    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/ads/brand/{planned.pk}/change/")

    flights = page.locator("table.brand-flights")
    expect(flights).to_contain_text("Summer blend launch")
    expect(flights.locator("tr", has_text="Cold brew week")).to_contain_text("Ahead")
    expect(page.locator("table.brand-shared")).to_contain_text("/ 500.00 USD")
    expect(page.locator("table.brand-upcoming")).to_contain_text("api:planning-tool")
    expect(page.locator("table.brand-upcoming")).to_contain_text("(America/New_York)")
    page.locator("fieldset", has_text="Its plan").scroll_into_view_if_needed()
    shot(page, "admin-brand-plan")


def test_the_flight_list_and_page(page: Page, live_server: LiveServer, planned: Brand) -> None:
    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/ads/flight/")
    expect(page.locator("#result_list")).to_contain_text("2030-06-08 to 2030-06-14 (7 days)")
    shot(page, "admin-flights")

    flight = Flight.objects.get(name="Summer blend launch")
    page.goto(f"{live_server.url}/admin/ads/flight/{flight.pk}/change/")
    expect(page.locator(".field-figures")).to_contain_text("days left")
    expect(page.locator(".field-members")).to_contain_text("Brand search")
    shot(page, "admin-flight")


def test_the_budget_calendar_and_the_audit(
    page: Page, live_server: LiveServer, planned: Brand
) -> None:
    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/ads/budgetchange/?when=upcoming")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    expect(page.locator("#result_list")).to_contain_text("Upcoming (in 8 days)")
    shot(page, "admin-budget-calendar")

    page.goto(f"{live_server.url}/admin/ads/configchange/")
    expect(page.locator("#result_list")).to_contain_text("Flight: Summer blend launch")
    expect(page.locator("#result_list")).not_to_contain_text('"budget"')
    shot(page, "admin-config-audit")


def test_a_media_plan_is_previewed_then_applied(
    page: Page, live_server: LiveServer, planned: Brand, tmp_path: Path
) -> None:
    sheet = tmp_path / "plan.csv"
    sheet.write_text(
        "brand,campaign,flight,starts_on,ends_on,budget,month,monthly_budget\n"
        "Acme Coffee,Brand search,Summer blend launch,2030-06-01,2030-07-15,18000,,\n"
        "Acme Coffee,Social,Summer blend launch,2030-06-01,2030-07-15,18000,,\n"
        "Acme Coffee,Display,Back to school,2030-08-20,2030-09-10,20000,,\n"
        "Acme Coffee,Video,Holiday gifting,2030-11-20,2030-12-24,30000,,\n"
        "Acme Coffee,,,,,,2030-07,46000\n"
        "Acme Coffee,,,,,,2030-10,42000\n",
        encoding="utf-8",
    )
    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/ads/flight/")
    page.get_by_role("link", name="Import a media plan").click()
    page.set_input_files("input[type=file]", str(sheet))
    page.get_by_role("button", name="Preview the changes").click()

    changes = page.locator("#plan-changes")
    expect(changes).to_contain_text("dates 2030-06-01 to 2030-06-30 → 2030-06-01 to 2030-07-15")
    expect(changes).to_contain_text("new flight 'Holiday gifting'")
    expect(changes).to_contain_text("45,000.00 USD → 46,000.00 USD")
    assert not Flight.objects.filter(name="Holiday gifting").exists()  # nothing yet
    shot(page, "admin-plan-preview")

    page.get_by_role("button", name="Apply these changes").click()
    expect(page.locator(".messagelist")).to_contain_text("Media plan applied")
    assert Flight.objects.get(name="Summer blend launch").ends_on == date(2030, 7, 15)


def test_a_shared_budget_and_a_budget_change_in_force(
    page: Page, live_server: LiveServer, planned: Brand
) -> None:
    log_in(page, live_server, "boss")
    pot = SharedBudget.objects.get()
    page.goto(f"{live_server.url}/admin/ads/sharedbudget/{pot.pk}/change/")
    expect(page.locator(".field-figures")).to_contain_text("410.00 / 500.00 USD")
    shot(page, "admin-shared-budget")

    in_force = BudgetChange.objects.create(
        brand=planned,
        target=BudgetTarget.BRAND,
        effective_on=JUNE,
        daily_budget="2000",
        created_by="maria",
        created_at=timezone.now() - timedelta(days=20),
        updated_at=timezone.now() - timedelta(days=20),
    )
    page.goto(f"{live_server.url}/admin/ads/budgetchange/{in_force.pk}/change/")
    expect(page.locator(".messagelist")).to_contain_text("it is history and cannot be changed")
    expect(page.locator("input[name=_save]")).to_have_count(0)
    shot(page, "admin-budget-change-history")


def test_the_brand_list_shows_the_share_of_the_daily_budget_once(
    page: Page, live_server: LiveServer, admin_user: User
) -> None:
    seed_demo(at=timezone.now())
    call_command("check_budget", stdout=StringIO())

    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/ads/brand/")
    expect(page.locator("#result_list thead")).not_to_contain_text("% of daily budget")
    page.locator("#result_list thead").get_by_role("link", name="Today").click()
    expect(page).to_have_url(re.compile(r"o=3"))
    page.goto(f"{live_server.url}/admin/ads/brand/")
    shot(page, "admin-brands")
    page.goto(f"{live_server.url}/admin/ads/campaign/")
    expect(page.locator("#changelist-filter")).to_contain_text("By flight")
    shot(page, "admin-campaigns")


def test_the_brand_page_draws_the_month_and_running_flights_pacing(
    page: Page, live_server: LiveServer, planned: Brand
) -> None:
    log_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/admin/ads/brand/{planned.pk}/change/")

    charts = page.locator("svg.pacing-chart")
    # June 2030 and the two flights running on June 12 (Back to school has not started).
    expect(charts).to_have_count(3)
    expect(page.locator(".field-pacing")).to_contain_text("Flight: Cold brew week")
    expect(charts.first).to_contain_text("budget 40,000.00 USD")
    expect(charts.first).to_contain_text("projected")
    page.locator("fieldset", has_text="Pacing").scroll_into_view_if_needed()
    shot(page, "admin-brand-pacing")
