"""Ledger and audit pages: brand-local times with the zone named, figures as a table."""

from __future__ import annotations

import pytest
from django.test import Client

from ads.models import CampaignStatusChange
from tests.admin.conftest import NOON
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db


def test_the_audit_page_shows_the_engines_figures_as_a_table_not_json(staff: Client) -> None:
    spend(make_campaign(make_brand(daily="100", timezone="Asia/Tokyo")), "100", at=NOON)
    change = CampaignStatusChange.objects.get()

    page = staff.get(f"/admin/ads/campaignstatuschange/{change.pk}/change/").content.decode()

    assert '<table class="snapshot">' in page
    assert "brand_day_spend" not in page
    assert "2026-06-10 21:00 JST (Asia/Tokyo)" in page


def test_ledger_and_audit_lists_show_brand_local_times_with_the_zone(staff: Client) -> None:
    spend(make_campaign(make_brand(daily="100", timezone="Europe/Berlin")), "100", at=NOON)

    for url in ("/admin/ads/spendevent/", "/admin/ads/campaignstatuschange/"):
        assert "2026-06-10 14:00 CEST (Europe/Berlin)" in staff.get(url).content.decode()
