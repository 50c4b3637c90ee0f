"""Entry points own their transactions: a task or command refuses to start inside someone
else's, where its commits would become savepoints."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from ads.core.transactions import entry_point, outermost, require_no_transaction
from ads.tasks import check_budget, deliver_alerts, push_platform_status
from tests.factories import make_brand

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("task", [check_budget, deliver_alerts, push_platform_status])
def test_a_task_called_inside_a_transaction_is_refused_and_changes_nothing(task: object) -> None:
    from ads.models import JobRun

    with pytest.raises(RuntimeError, match="must not run inside a transaction"):
        with transaction.atomic():
            task.apply(throw=True).get()  # type: ignore[attr-defined]
    assert not JobRun.objects.exists()


@pytest.mark.parametrize(
    "command", [("check_budget",), ("deliver_alerts",), ("reset_spend", "--type", "daily")]
)
def test_a_command_called_inside_a_transaction_is_refused(command: tuple[str, ...]) -> None:
    with pytest.raises(RuntimeError, match="must not run inside a transaction"):
        with transaction.atomic():
            call_command(*command)


def test_outside_any_transaction_the_entry_points_run() -> None:
    assert check_budget.apply().get()["checked"] == 0
    require_no_transaction("this test")  # the test case's own transactions do not count


def test_outermost_is_durable_inside_a_transaction_it_is_refused() -> None:
    make_brand()
    with pytest.raises(RuntimeError, match="durable"):
        with transaction.atomic(), outermost():
            pass
    with outermost():  # at the entry point, it opens
        make_brand()


def test_entry_point_keeps_the_function_and_its_name() -> None:
    @entry_point
    def job(value: int) -> int:
        return value + 1

    assert job(1) == 2 and job.__name__ == "job"
