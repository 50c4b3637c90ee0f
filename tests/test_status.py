"""/readyz (can this process serve?) and /status (are the helpers around it healthy?)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client, override_settings

from ads.models import AlertDeliveryState, DeliveryState, JobName, JobOutcome, JobRun, JobTrigger
from ads.services import health
from ads.services.health import Check
from tests.factories import make_alert_delivery, make_platform_push

pytestmark = pytest.mark.django_db

NOON = datetime(2030, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _migrations_not_yet_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    # Readiness keeps a positive migration check for the process's life; each test here
    # starts from a process that has not checked yet.
    monkeypatch.setattr(health, "_migrations_applied", set())


def counted(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Check]:
    """Each result of ``health.<name>`` while the test runs."""
    results: list[Check] = []
    real: Callable[[], Check] = getattr(health, name)

    def spy() -> Check:
        results.append(real())
        return results[-1]

    monkeypatch.setattr(health, name, spy)
    return results


# --- /readyz ---------------------------------------------------------------------------------


def test_readyz_is_503_naming_migrations_while_one_is_not_applied_and_ready_after_migrate(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = counted(monkeypatch, "check_migrations")
    latest = MigrationRecorder.Migration.objects.filter(app="ads").latest("id")
    latest.delete()  # as if this code's newest migration had not been applied yet

    behind = [client.get("/readyz"), client.get("/readyz")]
    MigrationRecorder.Migration.objects.create(app="ads", name=latest.name, applied=NOON)
    migrated = client.get("/readyz")

    assert [r.status_code for r in behind] == [503, 503]
    assert behind[0].json()["status"] == "fail"
    assert behind[0].json()["failed"] == ["migrations"]
    detail = behind[0].json()["checks"]["migrations"]["detail"]
    assert f"1 not applied (ads.{latest.name}); run migrate" == detail
    # A negative answer is asked again on every probe: ready on the first one after migrate.
    assert migrated.status_code == 200 and migrated.json()["failed"] == []
    assert len(plans) == 3


def test_readyz_trusts_a_positive_migration_check_for_the_rest_of_the_process(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = counted(monkeypatch, "check_migrations")

    responses = [client.get("/readyz") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all(r.json()["checks"]["migrations"]["ok"] for r in responses)
    assert len(plans) == 1  # a load balancer's probe every few seconds builds no plan


def test_readyz_is_503_naming_the_database_when_it_does_not_answer(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = Check("database", False, "OperationalError: connection refused")
    monkeypatch.setattr(health, "check_database", lambda: down)
    plans = counted(monkeypatch, "check_migrations")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "fail",
        "failed": ["database"],
        "checks": {"database": {"ok": False, "detail": "OperationalError: connection refused"}},
    }
    assert plans == []  # nothing else is asked of a database that does not answer


# --- /status ---------------------------------------------------------------------------------


@pytest.fixture
def beat_fresh() -> Iterator[time_machine.Traveller]:
    """Every job succeeded at NOON, long after installation; the clock stands at NOON."""
    MigrationRecorder.Migration.objects.filter(app="ads", name__endswith="_job_runs").update(
        applied=NOON - timedelta(days=60)
    )
    for job in JobName:
        JobRun.objects.create(
            job=job,
            trigger=JobTrigger.BEAT,
            actor="celery",
            outcome=JobOutcome.SUCCEEDED,
            started_at=NOON - timedelta(seconds=1),
            finished_at=NOON,
        )
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def status_of(client: Client) -> tuple[int, dict[str, Any]]:
    response = client.get("/status")
    body: dict[str, Any] = response.json()
    return response.status_code, body


def test_status_is_200_and_reports_every_helper_when_all_is_fine(
    client: Client, beat_fresh: time_machine.Traveller
) -> None:
    code, body = status_of(client)

    assert code == 200 and body["ok"] is True, body
    checks = body["checks"]
    assert set(checks) == {"database", "broker", "beat", "outboxes"}
    assert checks["database"]["ok"] and checks["broker"]["ok"]
    assert checks["broker"]["detail"].startswith("reachable at ")
    assert checks["beat"]["ok"] is True
    assert set(checks["beat"]["jobs"]) == set(JobName.values)
    assert checks["beat"]["jobs"]["check_budget"] == {
        "ok": True,
        "last_success": "2030-06-10T12:00:00+00:00",
        "age_seconds": 0,
        "stale_after_seconds": 3 * 15 * 60,
    }
    nothing = {
        "ok": True,
        "backlog": 0,
        "oldest_due": None,
        "oldest_due_age_seconds": None,
        "failed": 0,
    }
    assert checks["outboxes"] == {"platform_pushes": nothing, "alert_deliveries": nothing}


def test_status_is_503_naming_the_broker_while_it_is_unreachable(
    client: Client, beat_fresh: time_machine.Traveller, settings: Any, closed_port: int
) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"

    code, body = status_of(client)

    assert code == 503 and body["ok"] is False
    broker = body["checks"]["broker"]
    assert broker["ok"] is False and str(closed_port) in broker["detail"], broker
    others = [body["checks"]["database"], body["checks"]["beat"]]
    assert all(check["ok"] for check in others + list(body["checks"]["outboxes"].values()))


@override_settings(BUDGET_CHECK_INTERVAL_MINUTES=1, DAYPARTING_CHECK_INTERVAL_MINUTES=1)
def test_status_is_503_while_a_watched_job_is_stale_and_reports_the_others(
    client: Client, beat_fresh: time_machine.Traveller
) -> None:
    beat_fresh.shift(timedelta(minutes=3, seconds=1))
    stale_code, stale = status_of(client)
    # The budget check succeeds again; the dayparting job (not watched) stays behind alone.
    JobRun.objects.filter(job=JobName.CHECK_BUDGET).update(
        finished_at=NOON + timedelta(minutes=3, seconds=1)
    )
    other_code, other = status_of(client)

    assert stale_code == 503 and stale["ok"] is False
    assert stale["checks"]["beat"]["ok"] is False
    assert stale["checks"]["beat"]["jobs"]["check_budget"] == {
        "ok": False,
        "last_success": "2030-06-10T12:00:00+00:00",
        "age_seconds": 181,
        "stale_after_seconds": 180,
    }
    assert other_code == 200 and other["checks"]["beat"]["ok"] is True
    assert other["checks"]["beat"]["jobs"]["enforce_dayparting"]["ok"] is False
    assert other["checks"]["beat"]["jobs"]["check_budget"]["ok"] is True


@pytest.mark.parametrize("outbox", ["platform_pushes", "alert_deliveries"])
def test_status_is_503_when_an_outbox_has_a_row_that_failed_for_good(
    client: Client, beat_fresh: time_machine.Traveller, outbox: str
) -> None:
    if outbox == "platform_pushes":
        make_platform_push(DeliveryState.FAILED, created_at=NOON - timedelta(minutes=1))
    else:
        make_alert_delivery(AlertDeliveryState.FAILED, created_at=NOON - timedelta(minutes=1))

    code, body = status_of(client)

    assert code == 503 and body["ok"] is False
    outboxes = body["checks"]["outboxes"]
    assert outboxes[outbox]["ok"] is False and outboxes[outbox]["failed"] == 1
    assert [name for name, figures in outboxes.items() if figures["ok"]] == [
        name for name in ("platform_pushes", "alert_deliveries") if name != outbox
    ]


def test_status_is_503_when_an_outboxs_oldest_due_row_waited_too_long(
    client: Client, beat_fresh: time_machine.Traveller
) -> None:
    make_alert_delivery(AlertDeliveryState.PENDING, created_at=NOON - timedelta(minutes=11))

    code, body = status_of(client)

    assert code == 503
    assert body["checks"]["outboxes"]["alert_deliveries"] == {
        "ok": False,
        "backlog": 1,
        "oldest_due": "2030-06-10T11:49:00+00:00",
        "oldest_due_age_seconds": 660,
        "failed": 0,
    }


def test_status_names_a_database_that_does_not_answer_and_asks_nothing_of_it(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = Check("database", False, "OperationalError: connection refused")
    monkeypatch.setattr(health, "check_database", lambda: down)

    code, body = status_of(client)

    assert code == 503 and body["checks"]["database"] == {"ok": False, "detail": down.detail}
    assert body["checks"]["beat"]["ok"] is False and body["checks"]["beat"]["jobs"] == {}
    assert all(not figures["ok"] for figures in body["checks"]["outboxes"].values())
    assert "not checked" in body["checks"]["outboxes"]["platform_pushes"]["detail"]


def test_status_is_refused_to_other_addresses_by_default(
    client: Client, beat_fresh: time_machine.Traveller
) -> None:
    refused = client.get("/status", REMOTE_ADDR="10.1.2.3")

    assert refused.status_code == 403 and refused.content == b"forbidden\n"
    assert client.get("/status", REMOTE_ADDR="127.0.0.1").status_code == 200


@override_settings(METRICS_TOKEN="s3cret-scraper-token")
def test_status_opens_with_the_metrics_bearer_token_from_anywhere(
    client: Client, beat_fresh: time_machine.Traveller
) -> None:
    far = "10.1.2.3"
    wrong = client.get("/status", REMOTE_ADDR=far, headers={"authorization": "Bearer wrong"})
    right = client.get(
        "/status", REMOTE_ADDR=far, headers={"authorization": "Bearer s3cret-scraper-token"}
    )

    assert wrong.status_code == 403
    assert right.status_code == 200 and right.json()["ok"] is True


@override_settings(SECURE_SSL_REDIRECT=True)
def test_status_is_get_only_never_cached_and_answers_over_plain_http(
    client: Client, beat_fresh: time_machine.Traveller
) -> None:
    response = client.get("/status")

    assert response.status_code == 200  # not redirected to HTTPS, like the probes
    assert "no-cache" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]
    assert client.post("/status").status_code == 405
    assert client.get("/admin/").status_code == 301


# --- doctor ------------------------------------------------------------------------------


@override_settings(PLATFORM_PUSH_INTERVAL_MINUTES=1)
def test_doctor_reports_each_outboxs_backlog_as_status_does() -> None:
    at = datetime.now(UTC)  # doctor reads the real clock; the rows are placed around it
    make_platform_push(DeliveryState.PENDING, created_at=at - timedelta(minutes=1))
    make_alert_delivery(AlertDeliveryState.FAILED, created_at=at - timedelta(minutes=30))
    out = StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("doctor", stdout=out)

    lines = out.getvalue().splitlines()
    pushes = next(line for line in lines if line.startswith("ok   outbox platform_pushes: "))
    assert pushes.endswith("limit 360s); 0 failed for good")
    assert pushes.startswith("ok   outbox platform_pushes: 1 waiting, oldest due 6")
    assert (
        "FAIL outbox alert_deliveries: 0 waiting, none due; 1 failed for good; see Alert "
        "deliveries in the admin" in lines
    )
    assert "outbox alert_deliveries" in str(failure.value)
