"""How far behind each outbox is: the figures /status, /metrics and doctor all read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import override_settings

from ads.models import AlertDeliveryState, DeliveryState
from ads.services.outbox_backlog import alert_deliveries_backlog, platform_pushes_backlog
from tests.factories import make_alert_delivery, make_platform_push

pytestmark = pytest.mark.django_db

AT = datetime(2030, 6, 10, 12, 0, tzinfo=UTC)
S = DeliveryState


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def test_empty_outboxes_are_ok_with_nothing_due() -> None:
    for figures in (platform_pushes_backlog(at=AT), alert_deliveries_backlog(at=AT)):
        assert figures.ok
        assert figures.as_dict() == {
            "ok": True,
            "backlog": 0,
            "oldest_due": None,
            "oldest_due_age_seconds": None,
            "failed": 0,
        }


@override_settings(PLATFORM_PUSH_INTERVAL_MINUTES=1)
def test_platform_pushes_count_what_waits_and_date_the_longest_waiting_due_row(
    django_assert_num_queries: Any,
) -> None:
    make_platform_push(S.PENDING, created_at=AT - minutes(3), next_attempt_at=AT - minutes(2))
    # Backing off until later: waiting, but not due yet.
    make_platform_push(S.PENDING, created_at=AT - minutes(30), next_attempt_at=AT + minutes(10))
    # Its worker died: due again since its lease ran out.
    make_platform_push(S.SENDING, created_at=AT - minutes(9), lease_until=AT - minutes(4))
    # In flight under a live lease: waiting, not due.
    make_platform_push(S.SENDING, created_at=AT - minutes(20), lease_until=AT + minutes(1))
    for done in (S.DELIVERED, S.SUPERSEDED, S.SKIPPED):
        make_platform_push(done, created_at=AT - minutes(60))

    with django_assert_num_queries(1):
        figures = platform_pushes_backlog(at=AT)

    assert figures.as_dict() == {
        "ok": True,
        "backlog": 4,
        "oldest_due": "2030-06-10T11:56:00+00:00",
        "oldest_due_age_seconds": 240,
        "failed": 0,
    }
    assert figures.wait_limit == minutes(6)  # a lease, plus a push interval to the next pass


@override_settings(PLATFORM_PUSH_INTERVAL_MINUTES=1)
def test_a_platform_push_due_for_longer_than_a_lease_and_a_pass_is_not_ok() -> None:
    make_platform_push(S.PENDING, created_at=AT - minutes(6), next_attempt_at=AT - minutes(6))

    assert platform_pushes_backlog(at=AT).ok
    late = platform_pushes_backlog(at=AT + timedelta(seconds=1))
    assert not late.ok
    assert late.describe() == "1 waiting, oldest due 361s ago (limit 360s); 0 failed for good"


def test_a_platform_push_that_failed_for_good_makes_its_outbox_not_ok() -> None:
    make_platform_push(S.FAILED, created_at=AT - minutes(1))

    figures = platform_pushes_backlog(at=AT)

    assert not figures.ok
    assert (figures.backlog, figures.failed, figures.oldest_due) == (0, 1, None)
    assert figures.describe() == "0 waiting, none due; 1 failed for good"


def test_alert_deliveries_count_pending_rows_and_date_the_oldest(
    django_assert_num_queries: Any,
) -> None:
    make_alert_delivery(AlertDeliveryState.PENDING, created_at=AT - minutes(9))
    make_alert_delivery(AlertDeliveryState.PENDING, created_at=AT - minutes(1))
    make_alert_delivery(AlertDeliveryState.SENT, created_at=AT - minutes(60))

    with django_assert_num_queries(1):
        figures = alert_deliveries_backlog(at=AT)
    # Its retries (about 8 minutes of backoff) are over by STUCK_DELIVERY: no worker sends.
    stuck = alert_deliveries_backlog(at=AT + minutes(1) + timedelta(seconds=1))

    assert figures.as_dict() == {
        "ok": True,
        "backlog": 2,
        "oldest_due": "2030-06-10T11:51:00+00:00",
        "oldest_due_age_seconds": 540,
        "failed": 0,
    }
    assert not stuck.ok and stuck.oldest_due_age_seconds == 601


def test_an_alert_delivery_that_failed_for_good_makes_its_outbox_not_ok() -> None:
    make_alert_delivery(AlertDeliveryState.FAILED, created_at=AT - minutes(1))

    figures = alert_deliveries_backlog(at=AT)

    assert not figures.ok and figures.failed == 1 and figures.backlog == 0
