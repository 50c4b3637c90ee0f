"""Daily budgets written to each platform through its adapter, against the local servers
that speak its protocol: Google Ads' CampaignBudgetService (a shared budget written once,
with the sum), Meta's campaign daily_budget in minor units, the signed budget webhook.
Rounded down to the currency's unit; refusals kept per campaign; the same budget twice is
harmless."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ads.models import AdAccount
from ads.platforms.base import BudgetPush, PlatformError, minor_units_floor
from ads.platforms.meta import meta_budget_units
from ads.platforms.registry import adapter_for
from devtools.fakes.google_ads import Failure, FakeGoogleAdsServer
from devtools.fakes.meta import FakeMetaServer
from tests.platforms.webhook_receiver import Answer, WebhookReceiver


def budgets(*pairs: tuple[str, str], currency: str = "USD") -> list[BudgetPush]:
    return [BudgetPush(campaign, Decimal(amount), currency) for campaign, amount in pairs]


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.349", "USD", 1234),
        ("12.34", "USD", 1234),
        ("1500.9", "JPY", 1500),
        ("1.2345", "KWD", 1234),
    ],
)
def test_budgets_round_down_to_the_currencys_unit(amount: str, currency: str, minor: int) -> None:
    assert minor_units_floor(Decimal(amount), currency) == minor


def test_overdelivery_multiples_are_each_platforms_own(
    google_account: AdAccount, meta_account: AdAccount, webhook_account: AdAccount
) -> None:
    assert adapter_for(google_account).overdelivery == Decimal(2)
    assert adapter_for(meta_account).overdelivery == Decimal("1.75")
    assert adapter_for(webhook_account).overdelivery == Decimal(1)


def test_google_writes_each_budget_once_a_shared_one_with_the_sum(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    fake = google.fake
    fake.budget_for("901", "71", 50_000_000)
    fake.budget_for("902", "72", 50_000_000)
    fake.budget_for("903", "72", 50_000_000)  # 902 and 903 share budget 72
    adapter = adapter_for(google_account)

    failures = adapter.push_budgets(
        budgets(("901", "120.505"), ("902", "30.10"), ("903", "19.90"), ("999", "10"))
    )

    assert fake.budgets == {
        "customers/1234567890/campaignBudgets/71": 120_500_000,
        "customers/1234567890/campaignBudgets/72": 50_000_000,
    }
    assert [(f.platform_campaign_id, f.message) for f in failures] == [
        ("999", "Google Ads has no budget for this campaign")
    ]
    assert fake.budget_calls == 1
    assert adapter.push_budgets(budgets(("901", "120.50"))) == []  # the same again: harmless
    assert fake.budgets["customers/1234567890/campaignBudgets/71"] == 120_500_000


def test_google_refuses_a_shared_budget_pushed_without_all_its_campaigns(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    google.fake.budget_for("902", "72", 50_000_000)
    google.fake.budget_for("903", "72", 50_000_000)
    adapter = adapter_for(google_account)

    partial = adapter.push_budgets(budgets(("902", "31")))
    twice = adapter.push_budgets(budgets(("902", "30"), ("902", "25"), ("903", "20")))

    assert [(f.platform_campaign_id, f.message) for f in partial] == [
        ("902", "its budget is shared by 2 campaigns; push all of them together")
    ]
    assert twice == []  # 902 counts once, with its last budget: 25 + 20
    assert google.fake.budgets["customers/1234567890/campaignBudgets/72"] == 45_000_000


def test_google_keeps_a_refused_budget_for_each_of_its_campaigns(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    google.fake.budget_for("901", "71", 50_000_000)
    google.fake.budget_for("902", "72", 50_000_000)
    google.fake.budget_for("903", "72", 50_000_000)

    failures = adapter_for(google_account).push_budgets(
        budgets(("901", "80"), ("902", "0.30"), ("903", "0.20"))
    )

    assert sorted(f.platform_campaign_id for f in failures) == ["902", "903"]
    assert "too small" in failures[0].message
    assert google.fake.budgets["customers/1234567890/campaignBudgets/71"] == 80_000_000
    assert google.fake.budgets["customers/1234567890/campaignBudgets/72"] == 50_000_000


def test_google_failing_as_a_whole_raises_a_retryable_error(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    google.fake.budget_for("901", "71", 50_000_000)
    google.fake.script = [Failure("internal")]
    adapter = adapter_for(google_account)
    with pytest.raises(PlatformError) as failed:
        adapter.push_budgets(budgets(("901", "80")))
    assert failed.value.retryable
    assert google.fake.budgets["customers/1234567890/campaignBudgets/71"] == 50_000_000


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("45.678", "USD", 4567),
        ("1500.9", "JPY", 1500),
        ("1000.50", "HUF", 1000),  # offset 1 at Meta, though ISO 4217 gives HUF two decimals
        ("1.234", "BHD", 123),  # offset 100, though ISO 4217 gives BHD three decimals
        ("25000", "COP", 25000),
    ],
)
def test_meta_budgets_use_metas_currency_offsets(amount: str, currency: str, units: int) -> None:
    assert meta_budget_units(Decimal(amount), currency) == units


def test_meta_takes_the_daily_budget_in_minor_units(
    meta_account: AdAccount, meta: FakeMetaServer
) -> None:
    meta.fake.statuses.update({"601": "ACTIVE", "602": "ACTIVE"})
    adapter = adapter_for(meta_account)

    failures = adapter.push_budgets(budgets(("601", "45.678"), ("602", "0.50"), ("603", "9")))

    assert meta.fake.daily_budgets == {"601": 4567}
    assert {f.platform_campaign_id for f in failures} == {"602", "603"}
    below = next(f for f in failures if f.platform_campaign_id == "602")
    assert "below the minimum daily budget" in below.message
    assert adapter.push_budgets(budgets(("601", "45.67"))) == []
    assert meta.fake.daily_budgets == {"601": 4567}
    assert meta.fake.statuses == {"601": "ACTIVE", "602": "ACTIVE"}  # statuses untouched


def test_the_webhook_receives_signed_daily_budgets(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    adapter = adapter_for(webhook_account)

    assert adapter.push_budgets(budgets(("a-1", "12.349"), ("a-2", "1500.9"), currency="JPY")) == []
    assert adapter.push_budgets(budgets(("a-3", "99.999"))) == []

    assert receiver.budgets == {
        "a-1": ("12", "JPY"),
        "a-2": ("1500", "JPY"),
        "a-3": ("99.99", "USD"),
    }
    body = receiver.requests[-1]
    assert set(body) == {"sent_at", "campaigns"}
    assert body["campaigns"] == [{"id": "a-3", "daily_budget": "99.99", "currency": "USD"}]
    assert receiver.rejected_signatures == 0


def test_the_webhook_refusals_and_failures_follow_the_status_rules(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    adapter = adapter_for(webhook_account)
    receiver.script = [
        Answer(200, {"failed": [{"id": "a-2", "message": "over our own cap"}]}),
        Answer(503, {"error": "down"}, {"Retry-After": "30"}),
    ]

    failures = adapter.push_budgets(budgets(("a-1", "10"), ("a-2", "20")))
    with pytest.raises(PlatformError) as failed:
        adapter.push_budgets(budgets(("a-1", "11")))

    assert [(f.platform_campaign_id, f.message) for f in failures] == [("a-2", "over our own cap")]
    assert receiver.budgets == {"a-1": ("10.00", "USD")}
    assert failed.value.retryable and failed.value.retry_after == 30
