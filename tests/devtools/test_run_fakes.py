"""`manage.py run_fakes`: the demo's fakes listen where the demo credentials point, know the
demo campaigns, and the demo accounts of seed_data push to them and sync from them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from ads.models import (
    AccountHealth,
    AdAccount,
    Campaign,
    DeliveryState,
    Platform,
    PlatformDelivery,
)
from ads.platforms.outbox import deliveries_push
from ads.platforms.sync import platforms_sync
from ads.services.seeding import DEMO_AD_ACCOUNTS, seed_demo
from devtools.fakes.demo import DemoFakes, DemoFakesError, demo_fakes, fakes_serve

ROOT = Path(__file__).resolve().parents[2]
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
TOKEN = "demo-meta-token"
BINDINGS = {"DEMO_GOOGLE_ADS": frozenset({"Acme Coffee"}), "DEMO_META": frozenset({"Brolly & Co"})}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_environ(google_port: int, meta_port: int) -> dict[str, str]:
    """The demo credentials as the Makefile's DEV_ENV sets them, on the given ports."""
    return {
        "DEMO_GOOGLE_ADS": json.dumps(
            {"developer_token": "demo", "insecure_endpoint": f"127.0.0.1:{google_port}"}
        ),
        "DEMO_META": json.dumps(
            {"access_token": TOKEN, "graph_url": f"http://127.0.0.1:{meta_port}"}
        ),
    }


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = demo_environ(free_port(), free_port())
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def serving(environ: dict[str, str]) -> Iterator[DemoFakes]:
    # The real clock: gRPC's deadlines are taken from Python's clock but kept by its core's.
    fakes = demo_fakes(environ=environ, at=timezone.now())
    stop = threading.Event()
    said: list[str] = []
    thread = threading.Thread(
        target=fakes_serve, args=(fakes,), kwargs={"stop": stop, "say": said.append}
    )
    thread.start()
    try:
        while len(said) < 2 and thread.is_alive():
            thread.join(0.05)
        assert len(said) == 2, "the fakes did not start"
        yield fakes
    finally:
        stop.set()
        thread.join(10)


def test_the_fakes_listen_where_the_credentials_point_and_know_the_demo_campaigns() -> None:
    fakes = demo_fakes(environ=demo_environ(50161, 8161), at=NOON)

    assert (fakes.google_port, fakes.meta_port) == (50161, 8161)
    assert fakes.google.customer_id == "1234567890"
    assert (fakes.meta.account_id, fakes.meta.access_token) == ("act_1001", TOKEN)
    ids = {demo.platform: {cid for _, cid in demo.campaigns} for demo in DEMO_AD_ACCOUNTS}
    assert fakes.google.statuses == dict.fromkeys(ids[Platform.GOOGLE_ADS], "ENABLED")
    assert fakes.meta.statuses == dict.fromkeys(ids[Platform.META], "ACTIVE")
    # Spend today and yesterday, brand-local: noon UTC is 08:00 in New York, 13:00 in London.
    days = {day for _, day in fakes.google.spend} | {day for _, day in fakes.meta.spend}
    assert days == {NOON.date(), NOON.date() - timedelta(days=1)}
    assert len(fakes.google.spend) == len(fakes.meta.spend) == 4


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DEMO_META": "{}"}, "DEMO_GOOGLE_ADS is not set"),
        ({**demo_environ(1, 2), "DEMO_META": "[]"}, "DEMO_META is not a JSON object"),
        (
            {**demo_environ(1, 2), "DEMO_GOOGLE_ADS": '{"insecure_endpoint": "10.0.0.5:50061"}'},
            "insecure_endpoint must name 127.0.0.1 and a port",
        ),
        (
            {**demo_environ(1, 2), "DEMO_META": '{"graph_url": "http://127.0.0.1"}'},
            "graph_url must name 127.0.0.1 and a port",
        ),
    ],
    ids=["missing", "not-an-object", "not-loopback", "no-port"],
)
def test_credentials_the_fakes_cannot_serve_are_refused_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(DemoFakesError, match=message):
        demo_fakes(environ=environ, at=NOON)


def test_a_busy_port_stops_the_command_with_one_line_naming_it_and_the_fix(
    environ: dict[str, str],
) -> None:
    port = demo_fakes(environ=environ, at=NOON).meta_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(CommandError) as raised:
            call_command("run_fakes")

    message = str(raised.value)
    assert "\n" not in message
    assert f"cannot listen on 127.0.0.1:{port}" in message
    assert "make run FAKE_META_PORT=<port>" in message


@pytest.mark.django_db
def test_the_demo_accounts_push_to_the_fakes_and_sync_from_them(serving: DemoFakes) -> None:
    at = timezone.now()
    with override_settings(PLATFORM_CREDENTIALS=BINDINGS):
        report = seed_demo(at=at, ad_accounts=True)
        pushed = deliveries_push(at=at)
        synced = platforms_sync(at=at + timedelta(seconds=1))

    assert (report.ad_accounts_created, report.campaigns_linked) == (2, 4)
    assert pushed.delivered == 4 and pushed.failed == 0
    # A link's "running" that a pause overtook before delivery was superseded, not sent.
    finished = (DeliveryState.DELIVERED, DeliveryState.SUPERSEDED)
    assert not PlatformDelivery.objects.exclude(state__in=finished).exists()
    assert set(AdAccount.objects.values_list("health", flat=True)) == {AccountHealth.OK}
    # What the platforms now hold is what the engine decided, paused campaigns included.
    linked = Campaign.objects.filter(ad_account__isnull=False)
    wanted = {c.platform_campaign_id: c.status for c in linked}
    google = {cid: s == "ENABLED" for cid, s in serving.google.statuses.items()}
    meta = {cid: s == "ACTIVE" for cid, s in serving.meta.statuses.items()}
    assert {cid: status == "running" for cid, status in wanted.items()} == google | meta
    assert "paused" in wanted.values()
    # The sync brought the fakes' spend back: 2 days x 4 campaigns, nothing failed.
    assert not synced.errors and synced.accounts == 2 and synced.totals == 8
    assert synced.applied == 8


@pytest.mark.django_db
def test_seeding_the_demo_accounts_twice_links_nothing_the_second_time() -> None:
    with time_machine.travel(NOON, tick=False), override_settings(PLATFORM_CREDENTIALS=BINDINGS):
        seed_demo(at=NOON, ad_accounts=True)
        links = list(Campaign.objects.values_list("id", "ad_account", "platform_campaign_id"))
        again = seed_demo(at=NOON, ad_accounts=True)

    assert (again.ad_accounts_created, again.campaigns_linked) == (0, 0)
    assert list(Campaign.objects.values_list("id", "ad_account", "platform_campaign_id")) == links


def test_run_fakes_serves_until_sigterm_and_stops_cleanly() -> None:
    google_port, meta_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_fakes"],
        cwd=ROOT,
        env={**os.environ, **demo_environ(google_port, meta_port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    guard = threading.Timer(60, process.kill)  # a hung start fails the test, not the suite
    guard.start()
    try:
        started = []
        for line in process.stdout:
            if line.startswith("fake "):
                started.append(line)
            if len(started) == 2:
                break
        with socket.create_connection(("127.0.0.1", meta_port), timeout=5):
            pass
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    finally:
        guard.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, rest
    assert started[0].startswith(f"fake Google Ads (gRPC) on 127.0.0.1:{google_port}")
    assert started[1].startswith(f"fake Meta (Graph API) on http://127.0.0.1:{meta_port}")
    assert "fakes stopped" in rest
