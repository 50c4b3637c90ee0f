"""The ad platforms' pages of the staff console."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ads.models import (
    AdAccount,
    Campaign,
    CampaignPlatformState,
    PlatformCampaign,
    PlatformDelivery,
)
from ads.platforms.outbox import deliveries_push
from ads.services.campaigns import campaigns_set_enabled
from tests.factories import make_brand, make_campaign
from tests.platforms.conftest import linked_campaigns

pytestmark = pytest.mark.django_db
AT = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def account() -> AdAccount:
    return AdAccount.objects.create(
        brand=make_brand("Acme"),
        name="Hooks",
        platform="webhook",
        account_id="http://127.0.0.1:9/unused",
        credentials_env="ADMIN_TEST_WEBHOOK",  # unset: pushes fail, which the pages show
    )


def add_rows(account: AdAccount, count: int) -> None:
    campaigns = linked_campaigns(account, count)
    campaigns_set_enabled(
        campaign_ids=[c.pk for c in campaigns], enabled=False, at=AT, actor="staff"
    )
    deliveries_push(at=AT)  # fails on the missing credentials: the account shows it
    PlatformDelivery.objects.filter(campaign=campaigns[0]).update(
        state="failed", last_error="Campaign not found."
    )
    CampaignPlatformState.objects.create(
        campaign=campaigns[0], platform_status="paused", pushed_status="paused", pushed_at=AT
    )


def queries_for(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/ads/adaccount/",
        "/admin/ads/platformdelivery/",
        "/admin/ads/platformdelivery/?attention=failed",
        "/admin/ads/platformdelivery/?attention=stuck",
        "/admin/ads/platformcampaign/",
    ],
)
def test_list_pages_render_with_a_query_count_independent_of_rows(
    admin_client: Client, account: AdAccount, url: str
) -> None:
    add_rows(account, 2)
    few, _ = queries_for(admin_client, url)
    add_rows(account, 6)
    many, page = queries_for(admin_client, url)
    assert many == few
    assert "Acme" in page or "Hooks" in page


def test_failed_pushes_and_a_failing_account_are_visible(
    admin_client: Client, account: AdAccount
) -> None:
    add_rows(account, 2)
    _, accounts = queries_for(admin_client, "/admin/ads/adaccount/")
    assert "Failing" in accounts and "ADMIN_TEST_WEBHOOK" in accounts
    _, failed = queries_for(admin_client, "/admin/ads/platformdelivery/?attention=failed")
    assert "Campaign not found." in failed
    _, campaigns = queries_for(admin_client, "/admin/ads/platformcampaign/")
    assert "Campaign not found." not in campaigns  # per-campaign errors come from pushes
    assert "Paused at 2026-06-10 12:00 (UTC)" in campaigns


def test_linking_a_campaign_queues_its_current_status_and_keeps_the_engines_fields(
    admin_client: Client, account: AdAccount
) -> None:
    campaign = make_campaign(account.brand, "Summer")
    campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=False, at=AT, actor="staff")
    response = admin_client.post(
        f"/admin/ads/platformcampaign/{campaign.pk}/change/",
        {"ad_account": account.pk, "platform_campaign_id": "777"},
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert (campaign.ad_account_id, campaign.platform_campaign_id) == (account.pk, "777")
    assert campaign.status == "paused" and campaign.pause_reason == "manual"
    delivery = PlatformDelivery.objects.get()
    assert (delivery.campaign_id, delivery.desired_status) == (campaign.pk, "paused")


def test_a_campaign_cannot_link_to_another_brands_account(
    admin_client: Client, account: AdAccount
) -> None:
    other = make_campaign(make_brand("Other"))
    response = admin_client.post(
        f"/admin/ads/platformcampaign/{other.pk}/change/",
        {"ad_account": account.pk, "platform_campaign_id": "1"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert PlatformCampaign.objects.get(pk=other.pk).ad_account_id is None


def test_retrying_failed_pushes_from_the_list(admin_client: Client, account: AdAccount) -> None:
    add_rows(account, 1)
    failed = PlatformDelivery.objects.get(state="failed")
    response = admin_client.post(
        "/admin/ads/platformdelivery/",
        {"action": "retry", "_selected_action": [failed.pk]},
    )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.state == "pending" and failed.attempts == 0


def test_moving_a_linked_campaign_to_another_brand_is_refused_on_the_campaign_form(
    admin_client: Client, account: AdAccount
) -> None:
    campaign = linked_campaigns(account, 1)[0]
    other = make_brand("Other")
    response = admin_client.post(
        f"/admin/ads/campaign/{campaign.pk}/change/",
        {"brand": other.pk, "name": campaign.name, "enabled": "on"},
    )
    assert response.status_code == 200
    assert "belongs to another brand" in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).brand_id == account.brand_id
