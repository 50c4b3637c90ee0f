"""The spend sources page: learned lags and the quickest row (a clock off shows as such),
the operator's lag saved through the service (audited, bounded), another brand's a 404."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.test import Client

from ads.admin.spend_sources import minutes_text
from ads.models import Brand, ConfigChange, SpendSource
from ads.services.lags import lags_learn
from tests.admin.conftest import NOON, text
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db

URL = "/admin/ads/spendsource/"


@pytest.fixture
def acme() -> Brand:
    brand = make_brand("Acme", daily="100000", monthly="1000000")
    campaign = make_campaign(brand)
    for n in range(20):
        spend(campaign, "1", at=NOON, occurred_at=NOON - timedelta(minutes=180 + n), source="meta")
        spend(campaign, "1", at=NOON, occurred_at=NOON + timedelta(minutes=2), source="clicks")
    lags_learn(at=NOON)
    return brand


def test_the_list_shows_what_was_learned_with_zones_and_clock_notes(
    staff: Client, acme: Brand
) -> None:
    SpendSource.objects.create(brand=acme, source="tiktok", lag_minutes=45)

    page = text(staff.get(URL).content.decode())

    # 20 equal rows 180..199 minutes late: p50 the 10th, p95 the 19th.
    assert "meta Acme 3 h 18 min (learned p95) — (learned) 3 h 09 min / 3 h 18 min 3 h 00 min" in (
        page
    )
    assert "it reports in batches, or its clock is that far behind ours" in page
    assert "clicks Acme 0 min (learned p95)" in page
    assert "Its clock runs up to 2 min ahead of ours." in page
    assert "tiktok Acme 45 min (set) 45 min not yet (0 of 20 rows needed) — 0 never" in page
    assert "2026-06-10 12:00:00 UTC" in page


def test_setting_the_lag_goes_through_the_service_and_is_audited(
    staff: Client, acme: Brand
) -> None:
    meta = SpendSource.objects.get(brand=acme, source="meta")

    response = staff.post(f"{URL}{meta.pk}/change/", {"lag_minutes": "240"})

    assert response.status_code == 302
    meta.refresh_from_db()
    assert (meta.lag_minutes, meta.lag_in_use_minutes) == (240, 240)
    change = ConfigChange.objects.get(object_type="spend source")
    assert (change.actor, change.changes) == ("admin", {"lag_minutes": [None, 240]})
    staff.post(f"{URL}{meta.pk}/change/", {"lag_minutes": ""})
    meta.refresh_from_db()
    assert (meta.lag_minutes, meta.lag_in_use_minutes) == (None, 198)


def test_a_lag_over_48_hours_is_refused_and_changes_nothing(staff: Client, acme: Brand) -> None:
    meta = SpendSource.objects.get(brand=acme, source="meta")

    response = staff.post(f"{URL}{meta.pk}/change/", {"lag_minutes": "3000"})

    assert response.status_code == 200
    assert "from 0 to 2880 (48 hours)" in text(response.content.decode())
    meta.refresh_from_db()
    assert meta.lag_minutes is None and not ConfigChange.objects.exists()


def test_a_source_not_seen_yet_can_be_added(staff: Client, acme: Brand) -> None:
    response = staff.post(f"{URL}add/", {"brand": acme.pk, "source": "tiktok", "lag_minutes": "30"})

    assert response.status_code == 302
    assert SpendSource.objects.get(brand=acme, source="tiktok").lag_minutes == 30
    again = staff.post(f"{URL}add/", {"brand": acme.pk, "source": "tiktok", "lag_minutes": "5"})
    assert again.status_code == 200
    assert "already exists" in text(again.content.decode())


def test_sources_cannot_be_deleted(staff: Client, acme: Brand) -> None:
    meta = SpendSource.objects.get(brand=acme, source="meta")
    assert staff.get(f"{URL}{meta.pk}/delete/").status_code == 403


@pytest.fixture
def alice(acme: Brand) -> Iterator[Client]:
    """A staff member with every ads permission who may see Globex only."""
    globex = make_brand("Globex")
    user = User.objects.create_user("alice", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="ads"))
    user.brand_access.create(brand=globex)
    client = Client()
    with time_machine.travel(NOON, tick=False):
        client.force_login(user)
        yield client


def test_another_brands_sources_are_hidden_and_a_404(alice: Client, acme: Brand) -> None:
    meta = SpendSource.objects.get(brand=acme, source="meta")

    assert "meta" not in text(alice.get(URL).content.decode())
    assert alice.get(f"{URL}{meta.pk}/change/").status_code == 404
    assert alice.post(f"{URL}{meta.pk}/change/", {"lag_minutes": "5"}).status_code == 404
    meta.refresh_from_db()
    assert meta.lag_minutes is None


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [
        (None, "—"),
        (0, "0 min"),
        (59, "59 min"),
        (60, "1 h 00 min"),
        (185, "3 h 05 min"),
        (-3, "-3 min"),
    ],
)
def test_minutes_read_as_hours_and_minutes(minutes: int | None, shown: str) -> None:
    assert minutes_text(minutes) == shown


def test_the_brand_page_lists_its_sources_with_the_lag_in_use(staff: Client, acme: Brand) -> None:
    page = text(staff.get(f"/admin/ads/brand/{acme.pk}/change/").content.decode())

    assert "How late its spend arrives" in page
    assert "clicks 0 min (learned p95) 0 min / 0 min Its clock runs up to 2 min ahead of ours." in (
        page
    )
    assert "meta 3 h 18 min (learned p95) 3 h 09 min / 3 h 18 min Nothing arrived sooner" in page


def test_a_brand_without_sources_says_so(staff: Client) -> None:
    brand = make_brand("Quiet")

    page = text(staff.get(f"/admin/ads/brand/{brand.pk}/change/").content.decode())

    assert "None seen yet: sources appear once the hourly lag learning has seen their spend." in (
        page
    )
