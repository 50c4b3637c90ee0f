"""The configuration audit: who set what and when, field by field, read only and scoped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.test import Client

from ads.models import Brand, BudgetTarget, ConfigAction, ConfigChange, Flight
from ads.services.budget_calendar import budget_change_create
from ads.services.config_audit import config_change_record
from tests.admin.conftest import NOON, text
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db


def planned_flight(brand: Brand, actor: str = "planner") -> ConfigChange:
    search, social = make_campaign(brand, "Search"), make_campaign(brand, "Social")
    flight = Flight.objects.create(
        brand=brand,
        name="Black Friday",
        starts_on=date(2026, 11, 20),
        ends_on=date(2026, 12, 1),
        budget=Decimal("40000"),
    )
    found = config_change_record(
        brand_id=brand.pk,
        obj=flight,
        object_type="flight",
        action=ConfigAction.CREATED,
        before=None,
        after={
            "name": "Black Friday",
            "starts_on": flight.starts_on,
            "budget": Decimal("40000"),
            "campaign_ids": [search.pk, social.pk],
        },
        actor=actor,
        at=NOON,
    )
    assert found is not None
    return found


def test_the_audit_shows_who_planned_what_and_when_in_words(staff: Client) -> None:
    planned_flight(make_brand("Acme", timezone="Europe/Berlin"), actor="api:planning-tool")

    page = staff.get("/admin/ads/configchange/").content.decode()
    seen = text(page)

    assert "2026-06-10 14:00 CEST (Europe/Berlin)" in seen
    assert "api:planning-tool" in seen
    assert "Flight: Black Friday" in seen
    assert "Budget — 40,000.00 USD" in seen
    assert "Campaigns — Search, Social" in seen
    assert "Starts on — 2026-11-20" in seen
    assert '"budget"' not in page and "[" not in seen  # no raw JSON


def test_ids_are_shown_by_name_and_values_in_words(staff: Client) -> None:
    brand = make_brand("Acme")
    search = make_campaign(brand, "Search")
    budget_change_create(
        brand_id=brand.pk,
        target=BudgetTarget.CAMPAIGN,
        target_id=search.pk,
        effective_on=date(2026, 7, 1),
        daily_budget="20",
        monthly_budget=None,
        at=NOON,
        actor="planner",
    )

    html = staff.get("/admin/ads/configchange/").content.decode()
    start = html.index('<table class="config-changes"')
    table = text(html[start : html.index("</table>", start)])

    assert "Budget change: campaign Acme / Search from 2026-07-01" in text(html)
    assert "Campaign — Search" in table and "Target — Campaign" in table
    assert "Shared budget" not in table  # a campaign's change names none


def test_the_audit_is_read_only(staff: Client) -> None:
    change = planned_flight(make_brand("Acme"))

    assert staff.get("/admin/ads/configchange/add/").status_code == 403
    response = staff.post(f"/admin/ads/configchange/{change.pk}/change/", {"actor": "x"})
    assert response.status_code == 403
    page = staff.get(f"/admin/ads/configchange/{change.pk}/change/").content.decode()
    assert "40,000.00 USD" in page and 'name="_save"' not in page
    assert ConfigChange.objects.get().actor == "planner"


def test_a_staff_member_sees_only_their_brands_changes() -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    planned_flight(acme)
    theirs = planned_flight(globex, actor="someone-else")
    user = User.objects.create_user("alice", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="ads"))
    user.brand_access.create(brand=acme)
    client = Client()
    with time_machine.travel(NOON, tick=False):
        client.force_login(user)
        page = client.get("/admin/ads/configchange/").content.decode()
        other = client.get(f"/admin/ads/configchange/{theirs.pk}/change/")

    assert "planner" in page and "someone-else" not in page and "Globex" not in page
    assert other.status_code == 404


def test_the_audit_list_query_count_does_not_grow_with_its_rows(
    count_queries: Callable[[str], int],
) -> None:
    planned_flight(make_brand())
    one = count_queries("/admin/ads/configchange/")
    for _ in range(20):
        planned_flight(make_brand())

    assert count_queries("/admin/ads/configchange/") == one
