"""Two workers pushing at once never send the same row twice (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from ads.core import nudge
from ads.models import AdAccount, PlatformDelivery
from ads.platforms.outbox import deliveries_push
from ads.services.campaigns import campaigns_set_enabled
from tests.platforms.conftest import linked_campaigns
from tests.platforms.webhook_receiver import WebhookReceiver

AT = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_share_the_rows_and_send_each_once(
    webhook_account: AdAccount, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaigns = linked_campaigns(webhook_account, 40)
    monkeypatch.setattr(nudge, "request", lambda name: None)  # no broker in this test
    campaigns_set_enabled(
        campaign_ids=[c.pk for c in campaigns], enabled=False, at=AT, actor="staff"
    )
    from ads.platforms.webhook import WebhookAdapter

    monkeypatch.setattr(WebhookAdapter, "max_batch", 5)  # many small claims, to interleave
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            deliveries_push(at=AT)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sent = [item["id"] for request in receiver.requests for item in request["campaigns"]]
    assert len(sent) == 40 and len(set(sent)) == 40
    assert set(PlatformDelivery.objects.values_list("state", flat=True)) == {"delivered"}
