"""/metrics: the named series after some spend, and who may read them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings

from ads.services.tokens import token_create
from ads.tasks import check_budget
from tests.api.helpers import ApiClient, event
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def value(text: str, series: str) -> float:
    """The value of one exact series line (name and labels) in the exposition."""
    match = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match is not None, f"{series} not in /metrics"
    return float(match.group(1))


def scrape(client: Client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_metrics_expose_the_named_series_after_some_spend(client: Client) -> None:
    campaign = make_campaign(make_brand(daily="15", monthly="100"))
    with time_machine.travel(NOON, tick=False):
        _, secret = token_create(name="m", brand_ids=[], by_superuser=True, at=NOON)
        before = scrape(client)
        api = ApiClient(secret)
        api.post(
            "/spend/events",
            {"events": [event(campaign.pk, "10.00"), event(campaign.pk, "-1")]},
        )
        api.post("/spend/events", {"events": [event(campaign.pk, "5.00")]})
        check_budget.apply().get()
        after = scrape(client)

    accepted = 'ads_spend_events_total{source="google-ads",status="accepted"}'
    rejected = 'ads_spend_events_total{source="google-ads",status="rejected"}'
    paused = (
        'ads_campaign_transitions_total{kind="paused",reason="brand_daily_budget",'
        'trigger="spend"}'
    )
    assert value(after, accepted) - (value(before, accepted) if accepted in before else 0) == 2
    assert value(after, rejected) >= 1
    assert value(after, paused) >= 1
    assert value(after, 'ads_campaigns_paused{reason="brand_daily_budget"}') == 1
    assert value(after, 'ads_job_duration_seconds_count{job="check_budget",outcome="succeeded"}')
    assert 'ads_job_last_success_age_seconds{job="check_budget"}' in after
    assert 'ads_job_stale{job="check_budget"} 0.0' in after
    assert 'ads_http_request_duration_seconds_count{method="POST",route="api/v1/spend/events"' in (
        after
    )
    assert "# TYPE ads_alert_deliveries_total counter" in after


def test_metrics_are_refused_to_other_addresses_by_default(client: Client) -> None:
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


@override_settings(METRICS_TOKEN="s3cret-scraper-token")
def test_a_bearer_token_opens_metrics_from_anywhere(client: Client) -> None:
    far = "10.1.2.3"
    assert client.get("/metrics", REMOTE_ADDR=far).status_code == 403
    assert (
        client.get(
            "/metrics", REMOTE_ADDR=far, headers={"authorization": "Bearer wrong"}
        ).status_code
        == 403
    )
    response = client.get(
        "/metrics", REMOTE_ADDR=far, headers={"authorization": "Bearer s3cret-scraper-token"}
    )
    assert response.status_code == 200
    # With a token set and no allow-list, loopback needs the token too.
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_an_allow_list_admits_its_networks(client: Client) -> None:
    import ipaddress

    with override_settings(METRICS_ALLOWED_IPS=(ipaddress.ip_network("10.0.0.0/8"),)):
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="192.168.1.1").status_code == 403


def test_every_response_carries_a_request_id_and_keeps_a_sane_given_one(client: Client) -> None:
    fresh = client.get("/healthz")
    given = client.get("/healthz", headers={"x-request-id": "lb-0123456789"})
    hostile = client.get("/healthz", headers={"x-request-id": "bad id\nwith newline"})

    assert re.fullmatch(r"[0-9a-f]{32}", fresh["X-Request-ID"])
    assert given["X-Request-ID"] == "lb-0123456789"
    assert hostile["X-Request-ID"] != "bad id\nwith newline"


def test_metrics_report_each_outboxs_backlog_and_that_the_broker_answers(client: Client) -> None:
    from datetime import timedelta

    from ads.models import AlertDeliveryState, DeliveryState
    from tests.factories import make_alert_delivery, make_platform_push

    make_platform_push(DeliveryState.PENDING, created_at=NOON - timedelta(minutes=2))
    make_platform_push(DeliveryState.FAILED, created_at=NOON - timedelta(minutes=9))
    make_alert_delivery(AlertDeliveryState.SENT, created_at=NOON - timedelta(minutes=5))
    with time_machine.travel(NOON, tick=False):
        text = scrape(client)

    assert value(text, 'ads_outbox_backlog{outbox="platform_pushes"}') == 1
    assert value(text, 'ads_outbox_oldest_due_age_seconds{outbox="platform_pushes"}') == 120
    assert value(text, 'ads_outbox_failed{outbox="platform_pushes"}') == 1
    # Nothing waiting: an age of 0, so an alert on the age needs no "absent" rule.
    assert value(text, 'ads_outbox_backlog{outbox="alert_deliveries"}') == 0
    assert value(text, 'ads_outbox_oldest_due_age_seconds{outbox="alert_deliveries"}') == 0
    assert value(text, 'ads_outbox_failed{outbox="alert_deliveries"}') == 0
    assert value(text, "ads_broker_up") == 1


def test_metrics_say_the_broker_is_down_at_scrape_time(
    client: Client, settings: Any, closed_port: int
) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"

    assert value(scrape(client), "ads_broker_up") == 0


def scrape_status(client: Client, remote: str, forwarded_for: str | None = None) -> int:
    headers = {} if forwarded_for is None else {"x-forwarded-for": forwarded_for}
    return client.get("/metrics", REMOTE_ADDR=remote, headers=headers).status_code


def test_behind_a_trusted_proxy_the_allow_list_judges_the_client_not_the_proxy(
    client: Client,
) -> None:
    import ipaddress

    # nginx on the same host: every request arrives from loopback, which alone may scrape by
    # default; the client it forwards for must not inherit that.
    with override_settings(TRUSTED_PROXIES=(ipaddress.ip_network("127.0.0.1/32"),)):
        assert scrape_status(client, "127.0.0.1", "203.0.113.5") == 403
        assert scrape_status(client, "127.0.0.1", "127.0.0.1") == 200
        assert scrape_status(client, "127.0.0.1") == 200  # the proxy's host itself


def test_without_trusted_proxies_a_forwarded_address_opens_nothing(client: Client) -> None:
    import ipaddress

    with override_settings(METRICS_ALLOWED_IPS=(ipaddress.ip_network("10.0.0.0/8"),)):
        assert scrape_status(client, "203.0.113.5", "10.1.2.3") == 403
        assert scrape_status(client, "10.1.2.3", "203.0.113.5") == 200
