"""Celery: the tasks are wrappers over the services, and really run through the broker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker

from ad_budget_system.celery import app
from ads.models import CampaignStatusChange, PauseReason, Trigger
from ads.tasks import (
    check_budget,
    enforce_dayparting,
    record_spend,
    reset_spend_daily,
    reset_spend_monthly,
    verify_totals,
)
from tests.factories import make_brand, make_campaign, make_schedule, spend, state

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def test_every_beat_entry_names_a_registered_task() -> None:
    import ads.tasks  # noqa: F401  (registers the tasks)

    schedule = app.conf.beat_schedule
    # record_spend is for producers, not beat; + prune, 2 platforms, verify, ledger partitions,
    # alert deliveries, underspend alerts, lag learning
    assert len(schedule) == 12
    assert schedule["deliver_alerts"]["task"] == "ads.deliver_alerts"
    assert schedule["alert_underspend"]["task"] == "ads.alert_underspend"
    assert schedule["learn_lags"]["task"] == "ads.learn_lags"
    for entry in schedule.values():
        assert entry["task"] in app.tasks


def test_worker_settings_favour_redelivery_over_loss() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit


@pytest.mark.django_db
def test_tasks_call_the_same_services_as_the_commands() -> None:
    closed = make_schedule((0, "01:00", "02:00"))
    brand = make_brand(daily="100", monthly="1000")
    shut = make_campaign(brand, schedule=closed)
    spender = make_campaign(brand)
    with time_machine.travel(NOON, tick=False):
        dayparting = enforce_dayparting.apply().get()
        spend(spender, "100", at=NOON)
    with time_machine.travel(NOON.replace(day=11), tick=False):
        reset = reset_spend_daily.apply().get()
        budget = check_budget.apply().get()

    assert dayparting["trigger"] == Trigger.ENFORCE_DAYPARTING and dayparting["paused"] == 1
    # The new day resumes the spender, and moves the shut campaign from the budget reason
    # (set when the spend crossed the brand budget) back to its schedule.
    assert reset["trigger"] == Trigger.RESET_SPEND_DAILY
    assert (reset["resumed"], reset["reason_changed"]) == (1, 1)
    assert budget["paused"] == budget["resumed"] == 0 and budget["checked"] == 2
    assert state(shut) == ("paused", PauseReason.OUTSIDE_SCHEDULE)
    assert state(spender) == ("running", None)
    assert CampaignStatusChange.objects.filter(actor="celery").count() == 3


@pytest.mark.django_db
def test_each_reset_has_its_own_task_and_the_command_refuses_an_unknown_period() -> None:
    from django.core.management import CommandError, call_command

    with time_machine.travel(NOON, tick=False):
        daily, monthly = reset_spend_daily.apply().get(), reset_spend_monthly.apply().get()
    assert (daily["trigger"], monthly["trigger"]) == (
        Trigger.RESET_SPEND_DAILY,
        Trigger.RESET_SPEND_MONTHLY,
    )
    with pytest.raises(CommandError, match="weekly"):
        call_command("reset_spend", "--type", "weekly")


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_through_the_configured_broker_runs_in_a_worker() -> None:
    campaign = make_campaign(make_brand(), schedule=make_schedule())
    # A queue of its own, so a worker of `make run` on the same broker cannot take the message.
    queue = f"test-{uuid.uuid4().hex}"
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30
    ):
        summary = enforce_dayparting.apply_async(queue=queue).get(timeout=30)

    assert summary["checked"] == 1 and summary["paused"] == 1
    assert state(campaign) == ("paused", PauseReason.OUTSIDE_SCHEDULE)


@pytest.mark.django_db
def test_record_spend_task_takes_json_items_and_is_safe_to_redeliver() -> None:
    campaign = make_campaign(make_brand(daily="10", monthly="100"))
    items = [
        {
            "campaign": campaign.pk,
            "amount": "10.00",
            "occurred_at": NOON.isoformat(),
            "source": "queue",
            "event_id": "q-1",
        },
        {"campaign": campaign.pk, "amount": 10.0, "occurred_at": NOON.isoformat()},
    ]
    with time_machine.travel(NOON, tick=False):
        first = record_spend.apply(args=(items,)).get()
        redelivered = record_spend.apply(args=(items,)).get()

    assert (first["accepted"], first["rejected"]) == (1, 1)
    assert "amount: Input should be a valid string" in first["results"][1]["reason"]
    assert (redelivered["accepted"], redelivered["duplicates"]) == (0, 1)
    assert state(campaign) == ("paused", PauseReason.BRAND_DAILY_BUDGET)


# --- verify_totals (issue 8) ---------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.drift
def test_the_verify_task_checks_from_last_month_and_repairs_nothing() -> None:
    from django.db import connection

    from ads.models import CampaignPeriodSpend

    campaign = make_campaign(make_brand(daily="100", monthly="1000"))
    with time_machine.travel(NOON, tick=False):
        spend(campaign, "10", at=NOON)
        spend(campaign, "5", at=NOON, occurred_at=datetime(2026, 3, 31, tzinfo=UTC))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ads_campaignperiodspend SET amount = 0")
    with time_machine.travel(NOON, tick=False):
        nightly = verify_totals.apply().get()
        everything = verify_totals.apply(kwargs={"since": "2026-03-01"}).get()

    # From 1 May: June's day and month drifted (March's drift is outside the window).
    assert (nightly["since"], nightly["differences"], nightly["drift"]) == ("2026-05-01", 2, True)
    assert nightly["examples"][0]["ledger"] == "10.00" and nightly["fix"] is False
    assert everything["differences"] == 4
    assert set(CampaignPeriodSpend.objects.values_list("amount", flat=True)) == {0}
