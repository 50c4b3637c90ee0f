from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ads.models import AdAccount, Brand, Campaign, Platform
from devtools.fakes.google_ads import FakeGoogleAds, FakeGoogleAdsServer
from devtools.fakes.meta import FakeMeta, FakeMetaServer
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


def platform_id(campaign: Campaign) -> str:
    """Numeric, as Google Ads and Meta campaign ids are."""
    return str(900_000 + campaign.pk)


def linked_campaigns(account: AdAccount, count: int, **kwargs: str) -> list[Campaign]:
    campaigns = []
    for number in range(count):
        campaign = make_campaign(account.brand, **kwargs)  # type: ignore[arg-type]
        campaign.ad_account = account
        campaign.platform_campaign_id = platform_id(campaign)
        campaign.save(update_fields=["ad_account", "platform_campaign_id"])
        campaigns.append(campaign)
    return campaigns


@pytest.fixture
def google(db: None) -> Iterator[FakeGoogleAdsServer]:
    with FakeGoogleAdsServer(FakeGoogleAds()) as server:
        yield server


@pytest.fixture
def google_account(
    brand: Brand, google: FakeGoogleAdsServer, monkeypatch: pytest.MonkeyPatch
) -> AdAccount:
    credentials = {"developer_token": "dev-token", "insecure_endpoint": google.endpoint}
    monkeypatch.setenv("TEST_GOOGLE_ADS", json.dumps(credentials))
    return AdAccount.objects.create(
        brand=brand,
        name="Search",
        platform=Platform.GOOGLE_ADS,
        account_id="123-456-7890",
        credentials_env="TEST_GOOGLE_ADS",
    )


@pytest.fixture
def meta(db: None) -> Iterator[FakeMetaServer]:
    with FakeMetaServer(FakeMeta()) as server:
        yield server


@pytest.fixture
def meta_account(brand: Brand, meta: FakeMetaServer, monkeypatch: pytest.MonkeyPatch) -> AdAccount:
    credentials = {"access_token": meta.fake.access_token, "graph_url": meta.url}
    monkeypatch.setenv("TEST_META", json.dumps(credentials))
    return AdAccount.objects.create(
        brand=brand,
        name="Social",
        platform=Platform.META,
        account_id=meta.fake.account_id,
        credentials_env="TEST_META",
    )
