"""The outbox, driven through the webhook adapter against a local receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from ads.models import (
    AccountHealth,
    AdAccount,
    CampaignPlatformState,
    PlatformDelivery,
)
from ads.platforms import outbox
from ads.platforms.outbox import deliveries_push
from ads.services import platform_queue
from ads.services.campaigns import campaigns_set_enabled
from ads.services.outbox_backlog import platform_pushes_backlog
from tests.factories import make_campaign
from tests.platforms.conftest import linked_campaigns, platform_id
from tests.platforms.webhook_receiver import Answer, WebhookReceiver

AT = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def pause(campaign_ids: list[int], at: datetime = AT) -> None:
    campaigns_set_enabled(campaign_ids=campaign_ids, enabled=False, at=at, actor="staff")


def resume(campaign_ids: list[int], at: datetime = AT) -> None:
    campaigns_set_enabled(campaign_ids=campaign_ids, enabled=True, at=at, actor="staff")


def states() -> list[str]:
    return list(PlatformDelivery.objects.order_by("id").values_list("state", flat=True))


def push(at: datetime = AT) -> outbox.PushReport:
    # No time travel: gRPC deadlines are computed from the process clock and checked
    # against the real one. The service takes the time as a parameter anyway.
    return deliveries_push(at=at, seed=1)


def test_a_transition_queues_a_delivery_only_for_campaigns_with_an_account(
    webhook_account: AdAccount,
) -> None:
    linked = linked_campaigns(webhook_account, 1)[0]
    unlinked = make_campaign(webhook_account.brand)
    pause([linked.pk, unlinked.pk])
    rows = list(PlatformDelivery.objects.values_list("campaign_id", "desired_status", "state"))
    assert rows == [(linked.pk, "paused", "pending")]


def test_a_batch_of_pauses_is_delivered_in_one_signed_call(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    campaigns = linked_campaigns(webhook_account, 5)
    pause([c.pk for c in campaigns])
    report = push()
    assert (report.delivered, report.calls) == (5, 1)
    assert receiver.rejected_signatures == 0
    assert len(receiver.requests) == 1
    assert receiver.statuses == {platform_id(c): "paused" for c in campaigns}
    assert states() == ["delivered"] * 5
    state = CampaignPlatformState.objects.get(campaign=campaigns[0])
    assert (state.pushed_status, state.platform_status, state.pushed_at) == ("paused", "paused", AT)


def test_a_resume_before_delivery_supersedes_the_pause(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    campaign = linked_campaigns(webhook_account, 1)[0]
    pause([campaign.pk])
    resume([campaign.pk], AT + timedelta(seconds=1))
    push(AT + timedelta(seconds=2))
    assert states() == ["superseded", "delivered"]
    assert [r["campaigns"] for r in receiver.requests] == [
        [{"id": platform_id(campaign), "status": "running"}]
    ]


def test_a_429_is_retried_after_the_platforms_hint_then_succeeds(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    campaign = linked_campaigns(webhook_account, 1)[0]
    pause([campaign.pk])
    receiver.script = [Answer(429, {"error": "slow down"}, {"Retry-After": "120"})]
    report = push()
    assert (report.retrying, report.delivered) == (1, 0)
    row = PlatformDelivery.objects.get()
    assert row.state == "pending" and row.next_attempt_at >= AT + timedelta(seconds=120)
    assert "429" in row.last_error
    assert push(AT + timedelta(seconds=60)).delivered == 0  # not due yet
    assert push(row.next_attempt_at).delivered == 1
    assert states() == ["delivered"]
    assert receiver.statuses == {platform_id(campaign): "paused"}


def test_5xx_answers_are_retried_with_backoff_until_the_attempts_run_out(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    campaign = linked_campaigns(webhook_account, 1)[0]
    pause([campaign.pk])
    receiver.script = [Answer(503, {"error": "down"})] * outbox.MAX_ATTEMPTS
    at, waits = AT, []
    for _ in range(outbox.MAX_ATTEMPTS):
        push(at)
        row = PlatformDelivery.objects.get()
        waits.append(row.next_attempt_at - at)
        at = row.next_attempt_at
    assert row.state == "failed"
    assert row.last_error.startswith(f"gave up after {outbox.MAX_ATTEMPTS} attempts")
    assert waits[1] > waits[0]  # exponential
    assert receiver.requests == []
    state = CampaignPlatformState.objects.get(campaign=campaign)
    assert "503" in state.last_error


def test_an_auth_error_fails_the_rows_and_marks_the_account_failing(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    campaign = linked_campaigns(webhook_account, 1)[0]
    receiver.secret = "rotated-on-the-receiver"
    pause([campaign.pk])
    report = push()
    assert report.failed == 1 and receiver.rejected_signatures == 1
    webhook_account.refresh_from_db()
    assert webhook_account.health == AccountHealth.FAILING
    assert "401" in webhook_account.last_error
    row = PlatformDelivery.objects.get()
    # The status and a fixed message; the receiver's body ("bad signature") stays with it.
    assert row.state == "failed" and "HTTP 401: credentials or signature refused" in row.last_error
    assert "bad signature" not in row.last_error
    # Fixed: staff retries the row, the account is healthy again.
    receiver.secret = "test-signing-secret"
    assert platform_queue.deliveries_retry(delivery_ids=[row.pk], at=AT) == 1
    assert push(AT + timedelta(minutes=1)).delivered == 1
    webhook_account.refresh_from_db()
    assert webhook_account.health == AccountHealth.OK


def test_a_partial_failure_fails_only_the_refused_campaigns(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    good, bad = linked_campaigns(webhook_account, 2)
    pause([good.pk, bad.pk])
    receiver.script = [Answer(200, {"failed": [{"id": platform_id(bad), "message": "unknown"}]})]
    report = push()
    assert (report.delivered, report.failed, report.calls) == (1, 1, 1)
    rows = dict(PlatformDelivery.objects.values_list("campaign_id", "state"))
    assert rows == {good.pk: "delivered", bad.pk: "failed"}
    assert PlatformDelivery.objects.get(campaign=bad).last_error == "unknown"


def test_missing_credentials_leave_the_rows_waiting(
    webhook_account: AdAccount, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_WEBHOOK")
    campaign = linked_campaigns(webhook_account, 1)[0]
    pause([campaign.pk])
    report = push()
    assert report.delivered == 0 and "TEST_WEBHOOK" in report.errors[0]
    assert states() == ["pending"]
    assert AdAccount.objects.get().health == AccountHealth.FAILING


def test_a_worker_killed_after_the_call_delivers_again_harmlessly(
    webhook_account: AdAccount, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = linked_campaigns(webhook_account, 1)[0]
    pause([campaign.pk])

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process dies between the call and the bookkeeping

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_finish", killed)
        with pytest.raises(KeyboardInterrupt):
            push()
    assert states() == ["sending"] and len(receiver.requests) == 1
    assert push(AT + timedelta(minutes=1)).delivered == 0  # its lease still holds
    assert push(AT + platform_queue.LEASE + timedelta(seconds=2)).delivered == 1
    assert states() == ["delivered"]
    assert len(receiver.requests) == 2  # the same status twice: no harm
    assert receiver.statuses == {platform_id(campaign): "paused"}


def test_a_resume_is_not_sent_for_a_campaign_paused_on_the_platform_by_someone_else(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    campaign = linked_campaigns(webhook_account, 1)[0]
    pause([campaign.pk])
    push()
    CampaignPlatformState.objects.filter(campaign=campaign).update(paused_elsewhere=True)
    resume([campaign.pk], AT + timedelta(minutes=1))
    report = push(AT + timedelta(minutes=2))
    assert report.skipped == 1 and len(receiver.requests) == 1
    assert states() == ["delivered", "skipped"]


def test_the_command_dry_run_counts_without_sending(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    campaigns = linked_campaigns(webhook_account, 3)
    pause([c.pk for c in campaigns])
    out = StringIO()
    call_command("push_platform_status", "--dry-run", f"--account={webhook_account.pk}", stdout=out)
    assert "3 due in 1 account(s)" in out.getvalue()
    assert states() == ["pending"] * 3 and receiver.requests == []
    call_command("push_platform_status", stdout=out)
    assert states() == ["delivered"] * 3
    backlog = platform_pushes_backlog(at=AT)
    assert (backlog.backlog, backlog.failed, backlog.oldest_due) == (0, 0, None)


def test_a_commit_that_queues_a_delivery_starts_the_push_task(
    webhook_account: AdAccount,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from ads.core import nudge

    started: list[str] = []
    monkeypatch.setattr(nudge, "request", started.append)
    campaign = linked_campaigns(webhook_account, 1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        make_campaign(webhook_account.brand)  # no account: nothing to push
    assert started == []
    with django_capture_on_commit_callbacks(execute=True):
        pause([campaign.pk])
    assert started == ["ads.push_platform_status"]


def test_the_task_delivers_like_the_command(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    from ads.tasks import push_platform_status

    campaign = linked_campaigns(webhook_account, 1)[0]
    pause([campaign.pk])
    result = push_platform_status.apply().get()
    assert result["delivered"] == 1 and receiver.statuses == {platform_id(campaign): "paused"}


def test_unlinking_a_campaign_drops_its_waiting_pushes(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    from ads.services.platform_links import campaign_platform_link

    campaign = linked_campaigns(webhook_account, 1)[0]
    pause([campaign.pk])
    assert campaign_platform_link(
        campaign_id=campaign.pk, account=None, platform_campaign_id=None, at=AT
    )
    assert push().due == 0
    assert states() == ["superseded"] and receiver.requests == []


def test_a_row_whose_campaign_left_the_account_is_never_sent(
    webhook_account: AdAccount, receiver: WebhookReceiver
) -> None:
    from ads.models import Campaign

    campaign = linked_campaigns(webhook_account, 1)[0]
    pause([campaign.pk])
    # Unlinked behind the service's back (say, a data fix in SQL).
    Campaign.objects.filter(pk=campaign.pk).update(ad_account=None, platform_campaign_id=None)
    report = push()
    assert report.superseded == 1 and report.calls == 0 and receiver.requests == []
