from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ads.models import AdAccount, Brand, Campaign, Platform
from tests.factories import make_brand, make_campaign
from tests.platforms.webhook_receiver import WebhookReceiver

WEBHOOK_SECRET = "test-signing-secret"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(WEBHOOK_SECRET) as running:
        yield running


@pytest.fixture
def brand(db: None) -> Brand:
    return make_brand(daily="100", monthly="1000")


@pytest.fixture
def webhook_account(
    brand: Brand, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> AdAccount:
    monkeypatch.setenv("TEST_WEBHOOK", json.dumps({"secret": WEBHOOK_SECRET}))
    return AdAccount.objects.create(
        brand=brand,
        name="Agency system",
        platform=Platform.WEBHOOK,
        account_id=receiver.url,
        credentials_env="TEST_WEBHOOK",
    )


def linked_campaigns(account: AdAccount, count: int, **kwargs: str) -> list[Campaign]:
    campaigns = []
    for number in range(count):
        campaign = make_campaign(account.brand, **kwargs)  # type: ignore[arg-type]
        campaign.ad_account = account
        campaign.platform_campaign_id = f"pc-{campaign.pk}"
        campaign.save(update_fields=["ad_account", "platform_campaign_id"])
        campaigns.append(campaign)
    return campaigns
