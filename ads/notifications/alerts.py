"""Delivering alerts (an integration: it talks to SMTP and webhooks): the alert outbox,
sent by the ``deliver_alerts`` job.

Each alert's deliveries (one per channel: email, webhook) are written with the alert
(``ads.services.alerts``). This job delivers what is due, in the three steps every outbox
here takes (``ads.services.outbox``): claim a batch with a lease (committed), send with no
transaction open (SMTP and HTTP can take seconds; no row lock is held while they do), record
each outcome. A failure is retried with backoff up to ``MAX_ATTEMPTS`` tries; one that no
retry mends (the egress policy refused the URL, the receiver refused the request) fails at
once. Beat runs the job every minute and a commit that adds deliveries nudges it, so an
alert goes out within seconds while the broker is up and within a minute of it coming back.

What a receiver answered reaches staff (``last_error``) as a status and a fixed message,
never its body.
"""

from __future__ import annotations

import json
import logging
import random
import smtplib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from ads.core import http, metrics
from ads.core.signing import signed_headers
from ads.core.sql import adapt
from ads.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertDeliveryState,
    AlertKind,
    AlertPeriod,
    BrandAlertSettings,
    SpendPeriod,
)
from ads.services.outbox import Finished, backoff_seconds, claim_due, due, finish_claimed

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
WEBHOOK_TIMEOUT_SECONDS = 10
# Rows claimed at once, and how long they stay this worker's: a batch sent one by one at
# the slowest (SMTP's 20 s timeout each) still ends inside its lease.
BATCH = 20
LEASE = timedelta(minutes=10)
# A pass stops claiming after this long, well inside the task's time limit; the rest waits
# for the next pass a minute later.
PASS_SECONDS = 60.0


@dataclass
class DeliveryReport:
    dry_run: bool
    due: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "due": self.due,
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "errors": self.errors,
        }


def alert_text(delivery: AlertDelivery) -> str:
    alert = delivery.alert
    what = "daily" if alert.period == SpendPeriod.DAY else "monthly"
    currency = alert.brand.currency
    if alert.kind == AlertKind.UNDERSPEND:
        return _underspend_text(alert)
    if alert.kind == AlertKind.PACING:
        return (
            f"{alert.brand.name}: {what} spend is projected to reach {alert.projected} "
            f"{currency}, more than {(alert.threshold - 100).normalize():f}% over its budget of "
            f"{alert.budget} (spent so far {alert.spend}; period starting {alert.period_start})."
        )
    return (
        f"{alert.brand.name}: {what} spend reached {alert.threshold.normalize():f}% of its "
        f"budget: {alert.spend} of {alert.budget} {currency} (period starting "
        f"{alert.period_start})."
    )


def _underspend_text(alert: Alert) -> str:
    if alert.period == AlertPeriod.FLIGHT:
        flight = alert.flight
        what = (
            f"flight {flight.name} ({flight.starts_on} to {flight.ends_on})"
            if flight is not None
            else f"a deleted flight (starting {alert.period_start})"
        )
        since = "so far"
    else:
        what, since = "monthly spend", f"so far; month starting {alert.period_start}"
    return (
        f"{alert.brand.name}: {what} is projected to reach {alert.projected} "
        f"{alert.brand.currency}, more than {(100 - alert.threshold).normalize():f}% under its "
        f"budget of {alert.budget} (spent {alert.spend} {since}; as of {alert.local_day})."
    )


class _Failed(Exception):
    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


def _send_webhook(client: http.EgressSession, url: str, text: str, secret: str | None) -> None:
    body = json.dumps({"text": text}).encode()  # Slack's incoming-webhook shape
    headers = signed_headers(secret=secret, timestamp=int(time.time()), body=body)
    try:
        http.post(
            client,
            url,
            body=body,
            headers=headers,
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            what="alert webhook",
        )
    except http.HttpFailure as exc:
        raise _Failed(
            f"webhook {exc.message}", permanent=not exc.retryable, retry_after=exc.retry_after
        ) from None


def _send_email(target: str, text: str) -> None:
    recipients = [a.strip() for a in target.split(",") if a.strip()]
    try:
        send_mail(
            subject=f"[Ad budgets] {text[:120]}",
            message=text,
            from_email=None,
            recipient_list=recipients,
            fail_silently=False,
        )
    except smtplib.SMTPResponseException as exc:
        # The SMTP server is the operator's own; its code is enough to act on.
        raise _Failed(f"email refused by the mail server (SMTP {exc.smtp_code})", permanent=False)
    except smtplib.SMTPRecipientsRefused:
        raise _Failed("email refused: the mail server refused every recipient", permanent=True)
    except (smtplib.SMTPException, OSError) as exc:
        raise _Failed(f"email not sent: {type(exc).__name__}", permanent=False) from None


def _secrets(deliveries: Mapping[int, AlertDelivery]) -> dict[int, str | None]:
    brand_ids = {d.alert.brand_id for d in deliveries.values()}
    own = {
        row.brand_id: row.webhook_secret
        for row in BrandAlertSettings.objects.filter(brand_id__in=brand_ids)
    }
    fallback = settings.ALERT_WEBHOOK_SECRET or None
    return {brand_id: own.get(brand_id) or fallback for brand_id in brand_ids}


def _deliver(
    delivery: AlertDelivery,
    *,
    attempts: int,
    secret: str | None,
    client: http.EgressSession,
    at: datetime,
    rng: random.Random,
) -> Finished:
    """Send one claimed delivery (no transaction open); its outcome."""
    try:
        text = alert_text(delivery)
        if delivery.channel == AlertChannel.WEBHOOK:
            _send_webhook(client, delivery.target, text, secret)
        else:
            _send_email(delivery.target, text)
    except _Failed as exc:
        failure = exc
    except Exception as exc:  # a bug must not leave the row claimed until its lease ends
        logger.exception("alert delivery %s failed unexpectedly", delivery.pk)
        failure = _Failed(f"not sent: {type(exc).__name__}", permanent=False)
    else:
        metrics.alert_delivered(channel=delivery.channel, ok=True)
        return Finished(delivery.pk, AlertDeliveryState.SENT)
    metrics.alert_delivered(channel=delivery.channel, ok=False)
    logger.warning(
        "alert delivery %s failed: %s",
        delivery.pk,
        failure.message,
        extra={"delivery_id": delivery.pk, "channel": delivery.channel, "attempts": attempts},
    )
    if failure.permanent:
        return Finished(delivery.pk, AlertDeliveryState.FAILED, failure.message)
    if attempts >= MAX_ATTEMPTS:
        return Finished(
            delivery.pk, AlertDeliveryState.FAILED, f"gave up after {attempts} attempts: {failure}"
        )
    delay = backoff_seconds(attempts, failure.retry_after, rng)
    return Finished(
        delivery.pk, AlertDeliveryState.PENDING, failure.message, at + timedelta(seconds=delay)
    )


def alert_deliveries_due(*, at: datetime) -> int:
    """How many deliveries are due at ``at`` (waiting, or claimed by a worker that died)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM ads_alertdelivery d WHERE {due()}", [adapt(at), adapt(at)]
        )
        return int(cursor.fetchone()[0])


def alerts_deliver(
    *,
    at: datetime,
    dry_run: bool = False,
    seed: int | None = None,
    pass_seconds: float = PASS_SECONDS,
) -> DeliveryReport:
    """Send the alert deliveries due at ``at``, in batches, and record each outcome.

    Safe to run twice, and concurrently: rows are claimed before they are sent (a second
    pass finds nothing due), and a worker that dies mid-send only delays its rows until
    their lease runs out. ``dry_run`` only counts what is due."""
    report = DeliveryReport(dry_run=dry_run, due=alert_deliveries_due(at=at))
    if dry_run or not report.due:
        return report
    rng = random.Random(seed)
    client = http.session()
    deadline = time.monotonic() + pass_seconds
    while time.monotonic() < deadline:
        lease_until = at + LEASE + timedelta(microseconds=rng.randrange(1, 10**6))
        claimed = claim_due(
            table="ads_alertdelivery",
            returning="id, attempts",
            at=at,
            lease_until=lease_until,
            limit=BATCH,
        )
        if not claimed:
            break
        deliveries = AlertDelivery.objects.select_related("alert__brand", "alert__flight").in_bulk(
            [row[0] for row in claimed]
        )
        secrets = _secrets(deliveries)
        outcomes = [
            _deliver(
                deliveries[delivery_id],
                attempts=attempts,
                secret=secrets[deliveries[delivery_id].alert.brand_id],
                client=client,
                at=at,
                rng=rng,
            )
            for delivery_id, attempts in claimed
            if delivery_id in deliveries
        ]
        with transaction.atomic():
            finish_claimed(
                table="ads_alertdelivery",
                outcomes=outcomes,
                lease_until=lease_until,
                stamp_column="sent_at",
                stamp_states=(AlertDeliveryState.SENT,),
                at=timezone.now(),
            )
        for outcome in outcomes:
            if outcome.state == AlertDeliveryState.SENT:
                report.sent += 1
            elif outcome.state == AlertDeliveryState.FAILED:
                report.failed += 1
                report.errors.append(f"delivery {outcome.id}: {outcome.error}")
            else:
                report.retrying += 1
    return report
