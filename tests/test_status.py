"""/readyz (can this process serve?) and /status (are the helpers around it healthy?)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client, override_settings

from ads.models import AlertDeliveryState, DeliveryState
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
    assert "FAIL outbox alert_deliveries: 0 waiting, none due; 1 failed for good" in lines
    assert "outbox alert_deliveries" in str(failure.value)
