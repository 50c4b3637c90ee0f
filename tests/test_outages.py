"""A broker outage on production settings, with real processes: gunicorn and a Celery worker
on a Redis the test starts, stops and starts again on a port of its own."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.utils import timezone

from ads.models import AlertDelivery, AlertDeliveryState, BrandAlertSettings, Campaign
from ads.services.tokens import token_create
from tests.factories import make_brand, make_campaign
from tests.processes import Redis, environment, wait_for, web, worker
from tests.services.test_alert_delivery import Receiver

pytestmark = [
    pytest.mark.postgres("a web server and a worker of its own share the test database"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def redis() -> Iterator[Redis]:
    server = Redis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver([])
    yield receiver
    receiver.close()


def post_spend(base: str, token: str, campaign: Campaign, event_id: str) -> tuple[int, Any, float]:
    body = json.dumps(
        {
            "events": [
                {
                    "campaign": campaign.pk,
                    "amount": "85.00",
                    "occurred_at": timezone.now().isoformat(),
                    "source": "outage-test",
                    "event_id": event_id,
                }
            ]
        }
    ).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/spend/events",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    began = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, answer = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        status, answer = error.code, error.read().decode()
    return status, answer, time.monotonic() - began


def test_a_spend_crossing_an_alert_with_the_broker_down_answers_at_once_and_is_alerted_later(
    redis: Redis, hook: Receiver, tmp_path: Path
) -> None:
    brands = [make_brand(f"Outage {n}", daily="100", monthly="100000") for n in range(3)]
    campaigns = [make_campaign(brand) for brand in brands]
    for brand in brands:
        BrandAlertSettings.objects.create(brand=brand, webhook_url=hook.url, email_enabled=False)
    _, token = token_create(name="outage", brand_ids=[], by_superuser=True, at=timezone.now())
    env = environment(redis)

    def alerted() -> set[str]:
        return alerted_brands(hook)

    with web(env, tmp_path / "web.log") as base, worker(env, tmp_path / "worker.log"):
        # Broker up: the nudge after commit makes the worker send the alert within seconds.
        status, answer, up = post_spend(base, token, campaigns[0], "up")
        assert (status, answer["accepted"]) == (200, 1)
        wait_for(lambda: alerted() == {"Outage 0"}, timeout=30, what="the alerts of brand 0")

        redis.stop()
        status, answer, down = post_spend(base, token, campaigns[1], "down")
        again, second, later = post_spend(base, token, campaigns[2], "down-again")

        # Stored, answered 200 as fast as with the broker up, nothing lost or left behind.
        assert (status, answer["accepted"]) == (200, 1), answer
        assert (again, second["accepted"]) == (200, 1), second
        assert down < 2.0 and later < 2.0, (up, down, later)
        waiting = AlertDelivery.objects.filter(alert__brand__in=brands[1:])
        assert waiting.count() >= 2
        assert set(waiting.values_list("state", "attempts")) == {(AlertDeliveryState.PENDING, 0)}

        # Broker back: the beat job delivers what waited (sent here as beat sends it).
        redis.start()
        send_as_beat(redis, "ads.deliver_alerts")
        wait_for(lambda: len(alerted()) == 3, timeout=60, what="the alerts that waited")
        # The worker records the batch's outcomes after sending it: wait for that before
        # the worker is stopped, or its rows would stay claimed until their lease ends.
        wait_for(
            lambda: not AlertDelivery.objects.exclude(state=AlertDeliveryState.SENT).exists(),
            timeout=30,
            what="every delivery recorded as sent",
        )

    assert set(waiting.values_list("state", flat=True)) == {AlertDeliveryState.SENT}
    assert len(hook.requests) == AlertDelivery.objects.count()  # each sent once


def send_as_beat(redis: Redis, task: str) -> None:
    # To this Redis explicitly: Celery lets CELERY_BROKER_URL in the environment (the test
    # run's own broker) win over the URL an app is given.
    app = Celery(set_as_current=False)
    with app.connection_for_write(redis.url) as connection:
        app.send_task(task, connection=connection)


def alerted_brands(hook: Receiver) -> set[str]:
    return {json.loads(body)["text"].split(":")[0] for _, body in hook.requests}
