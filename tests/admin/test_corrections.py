"""The campaign page's spend correction form."""

from __future__ import annotations

import pytest
from django.test import Client

from ads.models import SpendCorrection
from tests.admin.conftest import NOON
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db


def test_a_correction_entered_on_the_campaign_page_resumes_it_and_shows_in_history(
    staff: Client,
) -> None:
    campaign = make_campaign(make_brand(daily="100"), "Summer")
    spend(campaign, "100", at=NOON)
    url = f"/admin/ads/campaign/{campaign.pk}/correct-spend/"
    assert url in staff.get(f"/admin/ads/campaign/{campaign.pk}/change/").content.decode()

    response = staff.post(
        url, {"day": "2026-06-10", "amount": "-40", "note": "bot clicks refunded"}, follow=True
    )

    assert state(campaign) == ("running", None)
    page = response.content.decode()
    assert "Correction of -40.00 USD for 2026-06-10 recorded" in page
    assert "Spend correction: -40.00 USD for 2026-06-10" in page
    assert "bot clicks refunded" in page
    assert SpendCorrection.objects.get().actor == "admin"


def test_a_correction_without_a_note_shows_the_error_at_the_field(staff: Client) -> None:
    campaign = make_campaign(make_brand())

    response = staff.post(
        f"/admin/ads/campaign/{campaign.pk}/correct-spend/",
        {"day": "2026-06-10", "amount": "5", "note": ""},
    )

    assert response.status_code == 200
    assert "note" in response.context["form"].errors
    assert not SpendCorrection.objects.exists()


def test_a_negative_correction_below_zero_is_refused_in_words(staff: Client) -> None:
    campaign = make_campaign(make_brand())

    response = staff.post(
        f"/admin/ads/campaign/{campaign.pk}/correct-spend/",
        {"day": "2026-06-10", "amount": "-5", "note": "oops"},
    )

    assert "cannot take it below zero" in response.context["form"].errors["amount"][0]
