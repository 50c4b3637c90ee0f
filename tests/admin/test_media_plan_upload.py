"""The media plan upload: a preview of what the sheet changes (nothing changed yet), then a
confirmation that applies all of it; errors by line and column; the brand's export."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ads.models import Brand, BudgetChange, ConfigChange, Flight
from ads.services.flights import flight_create
from tests.admin.conftest import NOON, text
from tests.factories import make_brand, make_campaign, state

pytestmark = pytest.mark.django_db

URL = "/admin/ads/flight/import-plan/"
HEADER = "brand,campaign,flight,starts_on,ends_on,budget,month,monthly_budget\n"
SHEET = (
    HEADER + "Acme,Search,Black Friday,2026-11-20,2026-12-01,40000,,\n" "Acme,,,,,,2026-07,12000\n"
)


@pytest.fixture
def acme() -> Brand:
    brand = make_brand("Acme", daily="100", monthly="10000")
    make_campaign(brand, "Search")
    return brand


def upload(client: Client, body: str) -> Any:
    return client.post(URL, {"sheet": SimpleUploadedFile("plan.csv", body.encode())})


def confirm_fields(page: str) -> dict[str, str]:
    found = dict(re.findall(r'name="(content|fingerprint)" value="([^"]*)"', page))
    assert set(found) == {"content", "fingerprint"}, "no confirmation form on the page"
    return {**found, "confirm": "Apply these changes"}


def test_the_upload_shows_a_preview_and_changes_nothing(staff: Client, acme: Brand) -> None:
    page = upload(staff, SHEET).content.decode()
    seen = text(page)

    assert "Flights: 1 new, 0 changed, 0 unchanged; monthly budgets: 1 new" in seen
    assert "line 2: Acme: new flight 'Black Friday', 2026-11-20 to 2026-12-01, budget" in seen
    assert "line 3: Acme's monthly budget from 2026-07-01: 12,000.00 USD" in seen
    assert "Apply these changes" in page
    assert not Flight.objects.exists() and not BudgetChange.objects.exists()


def test_confirming_the_preview_applies_it_audited_with_the_staff_member(
    staff: Client, acme: Brand
) -> None:
    fields = confirm_fields(upload(staff, SHEET).content.decode())

    response = staff.post(URL, fields, follow=True)

    assert response.redirect_chain[-1][0] == "/admin/ads/flight/"
    assert "Media plan applied (flights: 1 new" in response.content.decode()
    assert Flight.objects.get().name == "Black Friday"
    assert BudgetChange.objects.get().created_by == "admin"
    assert set(ConfigChange.objects.values_list("actor", flat=True)) == {"admin"}
    assert state(acme.campaigns.get()) == ("paused", "outside_flight")


def test_a_bad_sheet_is_listed_by_line_and_column_and_offers_no_confirmation(
    staff: Client, acme: Brand
) -> None:
    page = upload(staff, SHEET + "Acme,Search,Late,2026-11-30,2026-11-01,100,,\n").content.decode()

    assert "The sheet was refused and nothing was changed." in page
    assert "line 4, column ends_on: the flight ends (2026-11-01) before it starts" in text(page)
    assert "Apply these changes" not in page
    assert not Flight.objects.exists()


def test_a_confirmation_after_someone_changed_the_plan_shows_the_new_preview(
    staff: Client, acme: Brand
) -> None:
    fields = confirm_fields(upload(staff, SHEET).content.decode())
    flight_create(
        brand_id=acme.pk,
        name="Black Friday",
        starts_on=date(2026, 11, 21),
        ends_on=date(2026, 12, 1),
        budget="30000",
        campaign_ids=[],
        at=NOON,
        actor="someone",
    )

    page = staff.post(URL, fields).content.decode()

    assert "The stored plan changed since your preview: nothing was applied." in page
    assert "budget 30,000.00 USD → 40,000.00 USD" in text(page)
    assert Flight.objects.get().budget == 30000
    assert not BudgetChange.objects.exists()


def test_an_unchanged_sheet_says_there_is_nothing_to_change(staff: Client, acme: Brand) -> None:
    staff.post(URL, confirm_fields(upload(staff, SHEET).content.decode()))

    page = upload(staff, SHEET).content.decode()

    assert "Nothing to change: the stored plan is already the sheet's." in page
    assert "Apply these changes" not in page


def test_the_export_is_the_sheet_and_imports_back_to_no_change(staff: Client, acme: Brand) -> None:
    staff.post(URL, confirm_fields(upload(staff, SHEET).content.decode()))

    response = staff.get(f"/admin/ads/brand/{acme.pk}/export-plan/")
    exported = response.content.decode()
    page = upload(staff, exported).content.decode()

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="media-plan-acme-2026-06-10.csv"'
    )
    assert exported.splitlines() == [
        HEADER.strip(),
        "Acme,Search,Black Friday,2026-11-20,2026-12-01,40000.00,,",
        "Acme,,,,,,2026-07,12000.00",
    ]
    assert "Nothing to change" in page


@pytest.fixture
def alice(acme: Brand) -> Iterator[Client]:
    globex = make_brand("Globex")
    make_campaign(globex, "Theirs")
    user = User.objects.create_user("alice", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="ads"))
    user.brand_access.create(brand=acme)
    client = Client()
    with time_machine.travel(NOON, tick=False):
        client.force_login(user)
        yield client


def test_a_staff_member_plans_only_their_brands(alice: Client) -> None:
    globex = Brand.objects.get(name="Globex")

    page = upload(alice, HEADER + "Globex,Theirs,X,2026-07-01,2026-07-31,100,,\n").content.decode()

    assert "line 2, column brand: no brand named 'Globex'" in text(page)
    assert alice.get(f"/admin/ads/brand/{globex.pk}/export-plan/").status_code == 404
    assert not Flight.objects.exists()


def test_the_upload_needs_the_right_to_add_and_change_flights_and_budget_changes(
    acme: Brand,
) -> None:
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client = Client()
    client.force_login(viewer)

    assert client.get(URL).status_code == 403
    assert upload(client, SHEET).status_code == 403
    assert not Flight.objects.exists()


def test_a_confirmation_whose_sheet_came_back_broken_applies_nothing(
    staff: Client, acme: Brand
) -> None:
    fields = confirm_fields(upload(staff, SHEET).content.decode())

    page = staff.post(URL, {**fields, "content": "not base64!"}).content.decode()

    assert "The sheet did not come back intact: upload it again." in page
    assert not Flight.objects.exists()


def test_names_beyond_ascii_survive_the_preview_and_confirmation(staff: Client) -> None:
    brand = make_brand("Café Crème", daily="100", monthly="10000")
    make_campaign(brand, "Été")
    sheet = HEADER + "café crème,Été,Rentrée,2026-09-01,2026-09-30,500,,\n"

    staff.post(URL, confirm_fields(upload(staff, sheet).content.decode()))

    flight = Flight.objects.get()
    assert (flight.name, [c.name for c in flight.campaigns.all()]) == ("Rentrée", ["Été"])
