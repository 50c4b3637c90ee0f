"""The outbox through the real facebook-business SDK, against a local Graph API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ads.models import AccountHealth, AdAccount, Campaign, PlatformDelivery
from ads.platforms.outbox import PushReport, deliveries_push
from ads.services.campaigns import campaigns_set_enabled
from devtools.fakes.meta import FakeMetaServer, Scripted, graph_error
from tests.platforms.conftest import linked_campaigns, platform_id

AT = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
THROTTLED = Scripted(
    400,
    graph_error(17, "User request limit reached"),
    {"X-Business-Use-Case-Usage": '{"1001": [{"estimated_time_to_regain_access": 5}]}'},
)


def active_on(meta: FakeMetaServer, campaigns: list[Campaign]) -> None:
    meta.fake.statuses.update({platform_id(c): "ACTIVE" for c in campaigns})


def push(at: datetime = AT) -> PushReport:
    # No time travel: gRPC deadlines are computed from the process clock and checked
    # against the real one. The service takes the time as a parameter anyway.
    return deliveries_push(at=at, seed=1)


def pause(campaigns: list[Campaign], at: datetime = AT) -> None:
    campaigns_set_enabled(
        campaign_ids=[c.pk for c in campaigns], enabled=False, at=at, actor="staff"
    )


def test_pauses_go_out_as_batch_requests_of_50(
    meta_account: AdAccount, meta: FakeMetaServer
) -> None:
    campaigns = linked_campaigns(meta_account, 60)
    active_on(meta, campaigns)
    pause(campaigns)
    report = push()
    assert (report.delivered, report.calls, meta.fake.calls) == (60, 2, 2)
    assert set(meta.fake.statuses.values()) == {"PAUSED"}


def test_throttling_waits_for_the_estimated_time_to_regain_access(
    meta_account: AdAccount, meta: FakeMetaServer
) -> None:
    campaigns = linked_campaigns(meta_account, 1)
    active_on(meta, campaigns)
    pause(campaigns)
    meta.fake.script = [THROTTLED]
    assert push().retrying == 1
    row = PlatformDelivery.objects.get()
    assert row.next_attempt_at >= AT + timedelta(minutes=5)
    assert push(row.next_attempt_at).delivered == 1
    assert meta.fake.statuses[platform_id(campaigns[0])] == "PAUSED"


def test_an_expired_token_marks_the_account_failing(
    meta_account: AdAccount, meta: FakeMetaServer
) -> None:
    campaigns = linked_campaigns(meta_account, 1)
    active_on(meta, campaigns)
    pause(campaigns)
    meta.fake.access_token = "another-token"  # ours no longer validates
    assert push().failed == 1
    meta_account.refresh_from_db()
    assert meta_account.health == AccountHealth.FAILING
    assert "190" in meta_account.last_error


def test_an_unknown_campaign_fails_alone_inside_the_batch(
    meta_account: AdAccount, meta: FakeMetaServer
) -> None:
    good, gone = linked_campaigns(meta_account, 2)
    active_on(meta, [good])
    pause([good, gone])
    report = push()
    assert (report.delivered, report.failed) == (1, 1)
    assert "not found" in PlatformDelivery.objects.get(campaign=gone).last_error
