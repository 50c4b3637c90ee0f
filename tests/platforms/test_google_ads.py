"""The outbox through the real google-ads client, against a local gRPC Google Ads API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ads.models import AccountHealth, AdAccount, Campaign, PlatformDelivery
from ads.platforms.outbox import PushReport, deliveries_push
from ads.services.campaigns import campaigns_set_enabled
from devtools.fakes.google_ads import Failure, FakeGoogleAdsServer
from tests.platforms.conftest import linked_campaigns, platform_id

AT = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def running_on(google: FakeGoogleAdsServer, campaigns: list[Campaign]) -> None:
    google.fake.statuses.update({platform_id(c): "ENABLED" for c in campaigns})


def push(at: datetime = AT) -> PushReport:
    # No time travel: gRPC deadlines are computed from the process clock and checked
    # against the real one. The service takes the time as a parameter anyway.
    return deliveries_push(at=at, seed=1)


def pause(campaigns: list[Campaign], at: datetime = AT) -> None:
    campaigns_set_enabled(
        campaign_ids=[c.pk for c in campaigns], enabled=False, at=at, actor="staff"
    )


def test_a_batch_of_pauses_goes_out_in_mutate_calls_of_up_to_2000_campaigns(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    campaigns = linked_campaigns(google_account, 30)
    running_on(google, campaigns)
    pause(campaigns)
    report = push()
    assert (report.delivered, report.calls, google.fake.mutate_calls) == (30, 1, 1)
    assert set(google.fake.statuses.values()) == {"PAUSED"}
    assert google.fake.developer_tokens == {"dev-token"}


def test_a_quota_error_waits_for_the_apis_retry_delay_then_succeeds(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    campaigns = linked_campaigns(google_account, 2)
    running_on(google, campaigns)
    pause(campaigns)
    google.fake.script = [Failure("quota", retry_seconds=600)]
    assert push().retrying == 2
    row = PlatformDelivery.objects.order_by("id").first()
    assert row is not None and row.next_attempt_at >= AT + timedelta(seconds=600)
    assert "RESOURCE_EXHAUSTED" in row.last_error
    assert push(AT + timedelta(seconds=599)).calls == 0
    assert push(row.next_attempt_at).delivered == 2
    assert set(google.fake.statuses.values()) == {"PAUSED"}


def test_an_internal_error_is_retried(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    campaigns = linked_campaigns(google_account, 1)
    running_on(google, campaigns)
    pause(campaigns)
    google.fake.script = [Failure("internal")]
    assert push().retrying == 1
    row = PlatformDelivery.objects.get()
    assert push(row.next_attempt_at).delivered == 1


def test_a_revoked_token_fails_the_rows_and_the_account(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    campaigns = linked_campaigns(google_account, 2)
    running_on(google, campaigns)
    pause(campaigns)
    google.fake.script = [Failure("auth")]
    assert push().failed == 2
    google_account.refresh_from_db()
    assert google_account.health == AccountHealth.FAILING
    # The gRPC status and the error kind, never the server's own words.
    assert "UNAUTHENTICATED (authentication_error)" in google_account.last_error
    assert "revoked" not in google_account.last_error
    assert set(PlatformDelivery.objects.values_list("state", flat=True)) == {"failed"}


def test_an_unknown_campaign_fails_alone_inside_the_batch(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    good, gone = linked_campaigns(google_account, 2)
    running_on(google, [good])
    google.fake.unknown.add(platform_id(gone))
    pause([good, gone])
    report = push()
    assert (report.delivered, report.failed, report.calls) == (1, 1, 1)
    failed = PlatformDelivery.objects.get(state="failed")
    assert failed.campaign_id == gone.pk and "not found" in failed.last_error
    assert google.fake.statuses[platform_id(good)] == "PAUSED"
