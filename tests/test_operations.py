"""Operator surfaces: /healthz, /readyz, the admin's beat banner, `manage.py doctor` (/status
and the outbox figures: test_status)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client, override_settings

from ad_budget_system.celery import app
from ad_budget_system.logfmt import QuietProbes
from ads.tasks import (
    alert_underspend,
    check_budget,
    enforce_dayparting,
    ledger_partitions,
    prune_job_runs,
    reset_spend_daily,
    reset_spend_monthly,
)

ROOT = Path(__file__).resolve().parent.parent
NOON = datetime(2030, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def installed_long_ago(db: None) -> None:
    MigrationRecorder.Migration.objects.filter(app="ads", name__endswith="_job_runs").update(
        applied=NOON - timedelta(days=60)
    )


def all_jobs_ran() -> None:
    for task in (
        check_budget,
        enforce_dayparting,
        prune_job_runs,
        ledger_partitions,
        alert_underspend,
    ):
        task.apply().get()
    for reset in (reset_spend_daily, reset_spend_monthly):
        reset.apply().get()


@pytest.fixture
def fresh(installed_long_ago: None) -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOON, tick=False) as traveller:
        all_jobs_ran()
        yield traveller


def test_healthz_answers_without_touching_the_database(client: Client) -> None:
    # No `db` fixture: any query here would fail the test.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@override_settings(BUDGET_CHECK_INTERVAL_MINUTES=1)
def test_readyz_stays_ready_while_beat_is_stale(
    client: Client, fresh: time_machine.Traveller
) -> None:
    # Beat's silence is every instance's alike: it belongs on /status, not in the load
    # balancer's choice of instance.
    ready = client.get("/readyz")
    fresh.shift(timedelta(minutes=3, seconds=1))
    stale = client.get("/readyz")

    assert ready.status_code == 200 and ready.json()["status"] == "ok"
    assert set(ready.json()["checks"]) == {"database", "migrations"}
    assert stale.status_code == 200 and stale.json()["failed"] == []


def test_readyz_stays_ready_while_the_broker_is_unreachable(
    client: Client, fresh: time_machine.Traveller, settings: Any, closed_port: int
) -> None:
    # Ingestion works without the broker; its side effects wait in outbox rows.
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"

    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok" and response.json()["failed"] == []
    assert "broker" not in response.json()["checks"]


@override_settings(BUDGET_CHECK_INTERVAL_MINUTES=1)
def test_the_admin_shows_a_red_banner_on_every_page_while_beat_is_stale(
    client: Client, admin_user: User, fresh: time_machine.Traveller
) -> None:
    client.force_login(admin_user)  # inside the travel, so the session is not expired
    admin_client = client
    pages = ("/admin/", "/admin/ads/campaign/", "/admin/ads/jobrun/")
    quiet = [admin_client.get(page) for page in pages]
    fresh.shift(timedelta(minutes=4))
    loud = [admin_client.get(page) for page in pages]

    assert all(r.status_code == 200 and b"beat-stale-banner" not in r.content for r in quiet)
    assert all(b"beat-stale-banner" in r.content for r in loud)
    assert b"check_budget: last success 240s ago" in loud[0].content


def test_the_job_history_is_listed_in_the_admin(
    client: Client, admin_user: User, fresh: time_machine.Traveller
) -> None:
    client.force_login(admin_user)
    response = client.get("/admin/ads/jobrun/?job=check_budget")

    assert response.status_code == 200
    assert b"Succeeded" in response.content and b"Budget check" in response.content


# A healthy development setup (pytest-django turns DEBUG off, which would add the deployment
# checks; those are tested on the production settings in test_config).
@override_settings(DEBUG=True)
@pytest.mark.django_db(transaction=True)
def test_doctor_on_a_healthy_setup_prints_one_line_per_check_and_succeeds() -> None:
    out = StringIO()
    # A worker of its own on a queue nobody sends to; it still answers the broadcast ping.
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[f"doctor-{uuid.uuid4().hex}"]
    ):
        all_jobs_ran()
        # The real clock: the clock check compares it with the database's.
        call_command("doctor", stdout=out)

    lines = out.getvalue().splitlines()
    names = [line[5:].split(":")[0] for line in lines[:-1]]
    assert names == [
        "configuration",
        "database",
        "broker",
        "migrations",
        "beat check_budget",
        "beat enforce_dayparting",
        "beat reset_spend_daily",
        "beat reset_spend_monthly",
        "beat prune_job_runs",
        "beat ledger_partitions",
        "beat alert_underspend",
        "beat learn_lags",
        "worker",
        "outbox platform_pushes",
        "outbox alert_deliveries",
        "ledger partitions",
        "clock",
    ]
    assert all(line.startswith("ok   ") for line in lines[:-1]), lines
    assert lines[-1] == "all 17 checks passed"


@override_settings(BUDGET_CHECK_INTERVAL_MINUTES=1)
def test_doctor_fails_on_a_stale_beat_and_a_missing_worker(
    fresh: time_machine.Traveller,
) -> None:
    fresh.shift(timedelta(minutes=10))
    out = StringIO()
    with pytest.raises(CommandError, match="check\\(s\\) failed") as failure:
        call_command("doctor", stdout=out)

    assert failure.value.returncode == 1
    assert "FAIL beat check_budget: last success 600s ago" in out.getvalue()
    assert "FAIL worker: no worker answered a ping" in out.getvalue()
    assert "ok   database" in out.getvalue()


def test_doctor_on_a_broken_setup_names_each_broken_part(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "True",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "CELERY_RESULT_BACKEND": "redis://127.0.0.1:1/0",
    }
    completed = subprocess.run(
        [sys.executable, "manage.py", "doctor"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 1
    lines = completed.stdout.splitlines()
    assert any(line.startswith("FAIL broker: ") for line in lines), lines
    assert any(line.startswith("FAIL migrations: ") and "run migrate" in line for line in lines)
    assert any(line.startswith("FAIL worker: ") for line in lines)
    assert any(line.startswith("ok   database: sqlite") for line in lines)
    assert "check(s) failed" in completed.stderr


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ('"GET /healthz HTTP/1.1" 200 15', False),
        ('"GET /readyz HTTP/1.1" 503 80', False),
        ('"GET /metrics?x=1 HTTP/1.1" 200 900', False),
        ('"GET /status HTTP/1.1" 503 700', False),
        ('"GET /api/v1/campaigns/7/status HTTP/1.1" 200 300', True),
        ('"POST /api/v1/spend-events HTTP/1.1" 200 80', True),
    ],
)
def test_probe_requests_are_not_logged_at_info(message: str, shown: bool) -> None:
    record = logging.LogRecord("django.server", logging.INFO, "x", 0, message, None, None)
    warning = logging.LogRecord("django.server", logging.WARNING, "x", 0, message, None, None)

    assert QuietProbes().filter(record) is shown
    assert QuietProbes().filter(warning) is True


def test_the_admin_lists_alerts_with_their_delivery_state_and_each_brands_recipients(
    admin_client: Client, django_assert_max_num_queries: Any
) -> None:
    from decimal import Decimal

    from django.utils import timezone

    from ads.models import Alert, AlertDelivery, AlertDeliveryState, BrandAlertSettings
    from tests.factories import make_brand

    now = timezone.now()
    for index in range(3):
        brand = make_brand(f"Brand {index}")
        BrandAlertSettings.objects.create(brand=brand, emails=f"ops{index}@example.test")
        alert = Alert.objects.create(
            brand=brand,
            kind="threshold",
            period="day",
            period_start=now.date(),
            threshold=Decimal(80),
            spend=Decimal(80),
            budget=Decimal(100),
            created_at=now,
        )
        AlertDelivery.objects.create(
            alert=alert,
            channel="email",
            target="x",
            state=AlertDeliveryState.SENT,
            created_at=now,
            next_attempt_at=now,
        )
        AlertDelivery.objects.create(
            alert=alert,
            channel="webhook",
            target="http://hook",
            state=AlertDeliveryState.FAILED,
            last_error="HTTP Error 500",
            created_at=now,
            next_attempt_at=now,
        )

    with django_assert_max_num_queries(9):  # delivery states in the page query, not per row
        alerts = admin_client.get("/admin/ads/alert/")
    recipients = admin_client.get("/admin/ads/brandalertsettings/")
    deliveries = admin_client.get("/admin/ads/alertdelivery/?state=failed")

    assert alerts.status_code == 200
    assert alerts.content.count(b"1 Failed (gave up)") == 3
    assert alerts.content.count(b"1 Sent") == 3
    assert b"ops2@example.test" in recipients.content
    assert deliveries.content.count(b"HTTP Error 500") == 3


@pytest.mark.postgres
def test_doctor_reports_a_clock_that_disagrees_with_the_database(db: None) -> None:
    from django.utils import timezone

    from ads.services.health import check_clock

    in_step = check_clock(at=timezone.now())
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=True):
        ahead = check_clock(at=timezone.now())

    assert in_step.ok, in_step.detail
    assert not ahead.ok
    assert "database clock differs by -1" in ahead.detail and "fix NTP" in ahead.detail


@pytest.mark.django_db
def test_doctor_counts_failed_platform_pushes_in_their_outbox() -> None:
    from ads.models import AdAccount, DeliveryState, Platform, PlatformDelivery
    from ads.services.health import check_outboxes
    from tests.factories import make_brand, make_campaign

    brand = make_brand()
    account = AdAccount.objects.create(
        brand=brand,
        name="Search",
        platform=Platform.GOOGLE_ADS,
        account_id="123-456-7890",
        credentials_env="NOT_SET_ANYWHERE",
    )
    at = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    PlatformDelivery.objects.create(
        account=account,
        campaign=make_campaign(brand),
        desired_status="paused",
        state=DeliveryState.FAILED,
        created_at=at,
        next_attempt_at=at,
        last_error="AUTHENTICATION_ERROR",
    )

    pushes, alerts = check_outboxes(at=at)

    assert not pushes.ok and alerts.ok
    assert "outbox platform_pushes: 0 waiting, none due; 1 failed for good" in pushes.line()
    assert "see Platform deliveries in the admin" in pushes.line()


def test_a_job_run_page_shows_its_details_as_labelled_values_and_times_with_their_zone(
    admin_client: Client,
) -> None:
    from ads.models import JobName, JobOutcome, JobRun, JobTrigger

    run = JobRun.objects.create(
        job=JobName.CHECK_BUDGET,
        trigger=JobTrigger.BEAT,
        actor="celery",
        outcome=JobOutcome.FAILED,
        started_at=NOON,
        finished_at=NOON + timedelta(seconds=3),
        checked=10,
        detail={"split": True, "failed_ranges": [[0, 500]], "paused_by_reason": {"manual": 2}},
    )

    listing = admin_client.get("/admin/ads/jobrun/").content.decode()
    page = admin_client.get(f"/admin/ads/jobrun/{run.pk}/change/").content.decode()

    assert "2030-06-10 12:00:00 UTC" in listing
    assert "2030-06-10 12:00:03 UTC" in page
    assert "<th>Failed ranges</th><td>0, 500</td>" in page
    assert "<th>Paused by reason</th><td>Manual: 2</td>" in page
    assert '{"split"' not in page and "&quot;split&quot;" not in page


def test_alerts_are_listed_at_the_brands_local_time_with_its_zone(admin_client: Client) -> None:
    from decimal import Decimal

    from ads.models import Alert
    from tests.factories import make_brand

    brand = make_brand("Berlin brand", timezone="Europe/Berlin")
    Alert.objects.create(
        brand=brand,
        kind="threshold",
        period="day",
        period_start=NOON.date(),
        threshold=Decimal(80),
        spend=Decimal(80),
        budget=Decimal(100),
        created_at=NOON,
    )

    listing = admin_client.get("/admin/ads/alert/").content.decode()

    assert "2030-06-10 14:00 CEST (Europe/Berlin)" in listing
