"""Per-brand access: a staff member sees and changes only their brands; superusers all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.test import Client

from ads.models import ApiToken, Brand, BrandAccess, Campaign, CampaignStatusChange
from ads.services.tokens import token_create
from tests.admin.conftest import NOON
from tests.factories import make_brand, make_campaign, make_schedule, spend, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def brands() -> tuple[Brand, Brand]:
    return make_brand("Acme", daily="100"), make_brand("Globex", daily="100")


@pytest.fixture
def alice(brands: tuple[Brand, Brand]) -> Iterator[Client]:
    """A staff member (not a superuser) with every ads permission, granted Acme only."""
    user = User.objects.create_user("alice", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="ads"))
    BrandAccess.objects.create(user=user, brand=brands[0])
    client = Client()
    with time_machine.travel(NOON, tick=False):
        client.force_login(user)
        yield client


def names(client: Client, url: str, **params: str) -> set[str]:
    response = client.get(url, params)
    assert response.status_code == 200
    return {str(obj) for obj in response.context["cl"].result_list}


def test_lists_show_only_the_staff_members_brands(
    alice: Client, brands: tuple[Brand, Brand]
) -> None:
    acme, globex = brands
    spend(make_campaign(acme, "A1"), "5", at=NOON)
    spend(make_campaign(globex, "G1"), "100", at=NOON)

    assert names(alice, "/admin/ads/brand/") == {"Acme"}
    assert names(alice, "/admin/ads/campaign/") == {"Acme / A1"}
    assert len(names(alice, "/admin/ads/spendevent/")) == 1
    assert names(alice, "/admin/ads/campaignstatuschange/") == set()  # Globex's pause
    assert CampaignStatusChange.objects.count() == 1


def test_another_brands_pages_answer_404(alice: Client, brands: tuple[Brand, Brand]) -> None:
    acme, globex = brands
    theirs = make_campaign(globex)

    assert alice.get(f"/admin/ads/brand/{globex.pk}/change/").status_code == 404
    assert alice.get(f"/admin/ads/campaign/{theirs.pk}/change/").status_code == 404
    assert alice.get(f"/admin/ads/campaign/{theirs.pk}/history/").status_code == 404
    assert alice.get(f"/admin/ads/campaign/{theirs.pk}/delete/").status_code == 404
    assert alice.get(f"/admin/ads/brand/{acme.pk}/change/").status_code == 200


def test_the_brand_autocomplete_offers_only_their_brands(
    alice: Client, brands: tuple[Brand, Brand]
) -> None:
    response = alice.get(
        "/admin/autocomplete/",
        {"app_label": "ads", "model_name": "campaign", "field_name": "brand", "term": ""},
    )

    assert [r["text"] for r in response.json()["results"]] == ["Acme"]


def test_a_campaign_cannot_be_added_to_another_brand(
    alice: Client, brands: tuple[Brand, Brand]
) -> None:
    response = alice.post(
        "/admin/ads/campaign/add/",
        {"brand": brands[1].pk, "name": "Sneaky", "enabled": "on", "_save": "Save"},
    )

    assert response.status_code == 200
    assert "brand" in response.context["adminform"].form.errors
    assert not Campaign.objects.filter(name="Sneaky").exists()


def test_a_bulk_action_never_reaches_another_brands_campaigns(
    alice: Client, brands: tuple[Brand, Brand]
) -> None:
    ours, theirs = make_campaign(brands[0]), make_campaign(brands[1])

    alice.post(
        "/admin/ads/campaign/",
        {"action": "pause_campaigns", "_selected_action": [ours.pk, theirs.pk], "post": "yes"},
    )

    assert state(ours) == ("paused", "manual")
    assert state(theirs) == ("running", None)


def test_the_dashboard_counts_only_their_brands(alice: Client, brands: tuple[Brand, Brand]) -> None:
    spend(make_campaign(brands[1]), "100", at=NOON)

    page = alice.get("/admin/").content.decode()

    assert "Globex" not in page
    assert "Brands at or above 80 % of a budget (0)" in page


def test_a_staff_members_token_cannot_reach_another_brand(
    alice: Client, brands: tuple[Brand, Brand]
) -> None:
    response = alice.post(
        "/admin/ads/apitoken/add/",
        {"name": "feed", "brands": [brands[1].pk], "_save": "Save"},
    )

    assert response.status_code == 200
    assert "brands" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_a_staff_member_cannot_tick_every_brand(alice: Client) -> None:
    response = alice.post(
        "/admin/ads/apitoken/add/", {"name": "feed", "all_brands": "on", "_save": "Save"}
    )

    assert "Only superusers can create a token for every brand." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_tokens_reaching_other_brands_are_not_listed(
    alice: Client, brands: tuple[Brand, Brand]
) -> None:
    acme, globex = brands
    token_create(name="ours", brand_ids=[acme.pk], by_superuser=False, at=NOON)
    token_create(name="both", brand_ids=[acme.pk, globex.pk], by_superuser=False, at=NOON)
    token_create(name="every", brand_ids=[], by_superuser=True, at=NOON)

    assert {n.split(" (")[0] for n in names(alice, "/admin/ads/apitoken/")} == {"ours"}


def test_a_schedule_used_by_another_brand_is_read_only(
    alice: Client, brands: tuple[Brand, Brand]
) -> None:
    shared = make_schedule((2, "09:00", "17:00"))
    make_campaign(brands[0], schedule=shared), make_campaign(brands[1], schedule=shared)
    own = make_schedule((2, "09:00", "17:00"))
    make_campaign(brands[0], schedule=own)

    shared_page = alice.get(f"/admin/ads/daypartschedule/{shared.pk}/change/").content.decode()
    own_page = alice.get(f"/admin/ads/daypartschedule/{own.pk}/change/").content.decode()

    assert 'name="_save"' not in shared_page
    assert 'name="_save"' in own_page


def test_a_superuser_sees_every_brand(staff: Client, brands: tuple[Brand, Brand]) -> None:
    assert names(staff, "/admin/ads/brand/") == {"Acme", "Globex"}


def test_the_user_page_edits_brand_access_inline(
    staff: Client, brands: tuple[Brand, Brand]
) -> None:
    user = User.objects.create_user("bob", is_staff=True)

    page = staff.get(f"/admin/auth/user/{user.pk}/change/").content.decode()

    assert "Brands this user may see and change" in page
    assert 'name="brand_access-TOTAL_FORMS"' in page


def test_a_staff_member_who_may_edit_users_cannot_grant_brand_access(
    brands: tuple[Brand, Brand],
) -> None:
    user = User.objects.create_user("carol", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="auth"))
    client = Client()
    client.force_login(user)

    page = client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()

    assert 'name="brand_access-0-brand"' not in page
