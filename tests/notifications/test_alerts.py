"""Alert deliveries: an outbox sent by the deliver_alerts job, after commit and on beat; retried
with backoff, never holding a row lock across the network, never showing staff what a
receiver answered, and only to destinations the egress policy allows."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings

from ads.core import nudge
from ads.models import AlertChannel, AlertDelivery, AlertDeliveryState, BrandAlertSettings
from ads.notifications import alerts as alert_delivery
from ads.notifications.alerts import LEASE, MAX_ATTEMPTS, alerts_deliver
from ads.services.outbox import claim_due
from ads.tasks import deliver_alerts
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db

LATE = datetime(2026, 6, 10, 23, 0, tzinfo=UTC)  # too late in the day for pacing to fire
S = AlertDeliveryState


class Receiver:
    """A local HTTP server standing in for Slack: answers with the queued (status, body,
    headers) replies, then 200."""

    def __init__(self, replies: list[tuple[int, bytes, dict[str, str]]]) -> None:
        self.replies = replies
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.during: Callable[[], None] | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                if receiver.during is not None:
                    receiver.during()
                status, answer, headers = (
                    receiver.replies.pop(0) if receiver.replies else (200, b"ok", {})
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST  # noqa: N815 (a redirect-follower would GET)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(
        *statuses: int, replies: list[tuple[int, bytes, dict[str, str]]] | None = None
    ) -> Receiver:
        made.append(Receiver([(status, b"", {}) for status in statuses] + (replies or [])))
        return made[-1]

    yield make
    for item in made:
        item.close()


@pytest.fixture
def nudges(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The jobs nudged after commit (instead of a broker)."""
    asked: list[str] = []
    monkeypatch.setattr(nudge, "request", asked.append)
    return asked


def with_commit(work: Callable[[], object]) -> None:
    """Run ``work`` and then its on-commit callbacks, as a real commit would."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        work()


def alert_to(url: str, *, amount: str = "85") -> AlertDelivery:
    """A brand whose 80 % alert goes to ``url`` (saved without validation, as a row written
    around the form would be); the webhook delivery."""
    brand = make_brand(daily="100", monthly="1000")
    BrandAlertSettings.objects.create(brand=brand, webhook_url=url, email_enabled=False)
    with_commit(lambda: spend(make_campaign(brand), amount, at=LATE))
    return AlertDelivery.objects.get(alert__brand=brand, alert__threshold=80)


def test_deliveries_are_recorded_with_the_alert_and_sent_only_after_commit(
    django_capture_on_commit_callbacks: Any,
    nudges: list[str],
    receiver: Callable[..., Receiver],
) -> None:
    hook = receiver()
    brand = make_brand("Acme", daily="100", monthly="1000")
    BrandAlertSettings.objects.create(
        brand=brand, emails="ops@acme.test, cfo@acme.test", webhook_url=hook.url
    )
    campaign = make_campaign(brand)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        spend(campaign, "85", at=LATE)
    deliveries = list(AlertDelivery.objects.order_by("channel"))
    assert [(d.channel, d.state) for d in deliveries] == [
        (AlertChannel.EMAIL, S.PENDING),
        (AlertChannel.WEBHOOK, S.PENDING),
    ]
    assert nudges == [] and mail.outbox == [] and hook.requests == []

    for callback in callbacks:
        callback()  # the commit
    assert nudges == ["ads.deliver_alerts"]
    first = alerts_deliver(at=LATE)
    again = alerts_deliver(at=LATE)  # a second pass (or a redelivered task) sends nothing

    assert (first.due, first.sent, again.due, again.sent) == (2, 2, 0, 0)
    assert set(AlertDelivery.objects.values_list("state", flat=True)) == {S.SENT}
    (email,) = mail.outbox
    assert email.to == ["ops@acme.test", "cfo@acme.test"]
    assert "Acme: daily spend reached 80% of its budget: 85.00 of 100.00 USD" in email.body
    ((headers, body),) = hook.requests
    assert json.loads(body) == {"text": email.body}


@override_settings(ALERT_WEBHOOK_SECRET="shh")
def test_a_failing_webhook_is_retried_with_backoff_until_it_answers_and_is_signed(
    nudges: list[str], receiver: Callable[..., Receiver]
) -> None:
    hook = receiver(500, 503)
    delivery = alert_to(hook.url)

    assert alerts_deliver(at=LATE, seed=1).retrying == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (S.PENDING, 1)
    assert delivery.last_error == "webhook answered HTTP 500: server error"
    assert delivery.next_attempt_at > LATE
    assert alerts_deliver(at=LATE).due == 0  # backing off: not due again yet

    assert alerts_deliver(at=LATE + timedelta(hours=1), seed=1).retrying == 1
    assert alerts_deliver(at=LATE + timedelta(hours=2), seed=1).sent == 1

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (S.SENT, 3)
    assert delivery.sent_at is not None and delivery.last_error == ""
    headers, body = hook.requests[-1]
    expected = hmac.new(
        b"shh", headers["X-Ads-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Ads-Signature"] == f"v1={expected}"


def test_a_channel_that_keeps_failing_is_marked_failed_after_the_last_attempt(
    nudges: list[str], receiver: Callable[..., Receiver]
) -> None:
    hook = receiver(*[500] * 20)
    delivery = alert_to(hook.url)

    for hour in range(MAX_ATTEMPTS + 2):
        alerts_deliver(at=LATE + timedelta(hours=2 * hour))

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (S.FAILED, MAX_ATTEMPTS)
    assert len(hook.requests) == MAX_ATTEMPTS
    assert delivery.last_error == (
        f"gave up after {MAX_ATTEMPTS} attempts: webhook answered HTTP 500: server error"
    )


def test_what_a_receiver_answered_never_reaches_staff(
    nudges: list[str], receiver: Callable[..., Receiver]
) -> None:
    leak = b'{"AccessKeyId": "ASIA-INTERNAL", "Token": "instance-role-secret"}'
    hook = receiver(replies=[(500, leak, {}), (400, leak, {})])
    delivery = alert_to(hook.url)

    alerts_deliver(at=LATE)
    delivery.refresh_from_db()
    first = delivery.last_error
    alerts_deliver(at=LATE + timedelta(hours=1))
    delivery.refresh_from_db()

    assert first == "webhook answered HTTP 500: server error"
    assert delivery.last_error == "webhook answered HTTP 400: request refused"
    assert delivery.state == S.FAILED  # a refused request is not retried
    assert "secret" not in first + delivery.last_error


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed(
    status: int, nudges: list[str], receiver: Callable[..., Receiver]
) -> None:
    inside = receiver()
    hook = receiver(replies=[(status, b"", {"Location": inside.url})])
    delivery = alert_to(hook.url)

    alerts_deliver(at=LATE)

    delivery.refresh_from_db()
    assert inside.requests == [] and len(hook.requests) == 1
    assert delivery.state == S.FAILED
    assert delivery.last_error == (
        f"webhook answered HTTP {status}, a redirect, which is never followed"
    )


@override_settings(OUTBOUND_ALLOWED_NETWORKS=())
@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local"),
        ("https://10.0.0.8/hook", "10.0.0.8 is a private address"),
        ("https://[::ffff:10.0.0.8]/hook", "::ffff:a00:8 is a private address"),
        ("https://internal.example/hook", "resolves to 192.168.1.20, which is a private"),
        ("http://203.0.113.9/hook", "203.0.113.9 is a private address"),
    ],
)
def test_a_url_saved_around_validation_is_refused_at_send_time_without_connecting(
    url: str,
    reason: str,
    nudges: list[str],
    dns: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dns["internal.example"] = ["192.168.1.20"]
    connected: list[object] = []
    monkeypatch.setattr("socket.create_connection", lambda *a, **k: connected.append(a))
    monkeypatch.setattr("urllib3.util.connection.create_connection", connected.append)
    delivery = alert_to(url)

    alerts_deliver(at=LATE)

    delivery.refresh_from_db()
    assert connected == []
    assert delivery.state == S.FAILED and delivery.attempts == 1
    assert delivery.last_error.startswith("webhook refused by the egress policy: ")
    assert reason in delivery.last_error


def test_a_worker_that_died_mid_send_leaves_its_rows_to_the_pass_after_its_lease(
    nudges: list[str], receiver: Callable[..., Receiver]
) -> None:
    hook = receiver()
    delivery = alert_to(hook.url)
    # A worker claims the row, then dies before sending or recording anything.
    claim_due(
        table="ads_alertdelivery",
        returning="id",
        at=LATE,
        lease_until=LATE + LEASE,
        limit=10,
    )

    assert alerts_deliver(at=LATE + timedelta(minutes=1)).due == 0
    assert alerts_deliver(at=LATE + LEASE + timedelta(seconds=1)).sent == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, len(hook.requests)) == (S.SENT, 2, 1)


def test_an_email_the_mail_server_refuses_shows_its_code_not_its_words(
    nudges: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: Any) -> None:
        raise smtplib.SMTPResponseException(451, b"4.3.0 internal relay mx7.corp.example down")

    monkeypatch.setattr(alert_delivery, "send_mail", refuse)
    brand = make_brand(daily="100", monthly="1000")
    BrandAlertSettings.objects.create(brand=brand, emails="ops@acme.test", webhook_enabled=False)
    with_commit(lambda: spend(make_campaign(brand), "85", at=LATE))

    alerts_deliver(at=LATE)

    delivery = AlertDelivery.objects.get()
    assert delivery.state == S.PENDING
    assert delivery.last_error == "email refused by the mail server (SMTP 451)"


def test_the_command_and_the_task_deliver_what_is_due(
    nudges: list[str], receiver: Callable[..., Receiver]
) -> None:
    hook = receiver()
    alert_to(hook.url)
    out = StringIO()

    call_command("deliver_alerts", "--dry-run", stdout=out)
    assert "deliver_alerts (dry run, nothing sent): 1 due; 0 sent" in out.getvalue()
    assert hook.requests == []
    assert deliver_alerts.apply().get()["sent"] == 1
    call_command("deliver_alerts", stdout=out)
    assert "deliver_alerts (sent): 0 due; 0 sent" in out.getvalue()
    assert len(hook.requests) == 1


def test_the_alert_webhook_url_is_checked_by_the_egress_policy_when_saved(
    dns: dict[str, list[str]],
) -> None:
    from django.core.exceptions import ValidationError

    dns["hooks.slack.example"] = ["34.117.59.81"]
    row = BrandAlertSettings(brand=make_brand(), webhook_url="https://hooks.slack.example/T1")
    row.full_clean()  # public and https: fine (resolved only, nothing connected)

    with override_settings(OUTBOUND_ALLOWED_NETWORKS=()):
        for url, why in [
            ("http://127.0.0.1:9000/hook", "127.0.0.1 is a loopback address"),
            ("http://[::1]/hook", "::1 is a loopback address"),
            ("http://hooks.slack.example/T1", "only https:// is allowed"),
            ("https://user:pw@hooks.slack.example/T1", "may not carry a user name"),
        ]:
            row.webhook_url = url
            with pytest.raises(ValidationError, match="This URL is refused") as caught:
                row.full_clean()
            assert why in str(caught.value.message_dict["webhook_url"])


@pytest.mark.postgres("a second connection checks the row is not locked during the send")
@pytest.mark.django_db(transaction=True)
def test_no_row_lock_is_held_while_a_webhook_is_waited_on(
    nudges: list[str], receiver: Callable[..., Receiver]
) -> None:
    hook = receiver()
    delivery = alert_to(hook.url)
    seen: list[str] = []

    def probe() -> None:
        # From another connection, while the receiver holds the request open.
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT state FROM ads_alertdelivery WHERE id = %s FOR UPDATE NOWAIT",
                    [delivery.pk],
                )
                seen.append(cursor.fetchone()[0])
        finally:
            other.close()

    hook.during = probe
    alerts_deliver(at=LATE)
    connection.close()

    assert seen == ["sending"]  # claimed and committed; not locked
    delivery.refresh_from_db()
    assert delivery.state == S.SENT


def test_staff_send_failed_deliveries_again_from_the_admin(
    admin_client: Any, nudges: list[str], receiver: Callable[..., Receiver]
) -> None:
    hook = receiver(404)  # refused once; fixed on the receiver's side since
    delivery = alert_to(hook.url)
    alerts_deliver(at=LATE)
    delivery.refresh_from_db()
    assert delivery.state == S.FAILED

    page = admin_client.get("/admin/ads/alertdelivery/")
    with time_machine.travel(LATE + timedelta(seconds=30), tick=False):
        response = admin_client.post(
            "/admin/ads/alertdelivery/", {"action": "retry", "_selected_action": [delivery.pk]}
        )

    assert page.status_code == 200 and "Sent, or next attempt" in page.content.decode()
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (S.PENDING, 0)
    assert alerts_deliver(at=LATE + timedelta(minutes=1)).sent == 1
    assert len(hook.requests) == 2
