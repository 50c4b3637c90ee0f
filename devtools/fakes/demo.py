"""The fakes of `make run`'s demo (`manage.py run_fakes`): one fake Google Ads and one fake
Meta serving the demo ad accounts (``ads.services.seeding.DEMO_AD_ACCOUNTS``) at the
loopback addresses their credentials variables name, so the Makefile is the one place that
says where they listen.

They know the demo campaigns from the start (running) and report a little spend of their
own for each one today and yesterday (brand-local), so the first sync has figures to bring
back. Their state lives in memory: a restart starts them afresh, and the next sync repairs
what differs (a campaign paused here but running there is paused again).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from ads.core.money import MICROS_PER_UNIT
from ads.core.periods import local_date
from ads.models import Platform
from ads.services.seeding import DEMO_AD_ACCOUNTS, DEMO_BRANDS, DemoAdAccount
from devtools.fakes.google_ads import FakeGoogleAds, FakeGoogleAdsServer
from devtools.fakes.meta import FakeMeta, FakeMetaServer

HOST = "127.0.0.1"
# What each demo campaign spent on the platform, each of the two days (in turn per account).
DEMO_SPEND = (Decimal("31.40"), Decimal("12.75"))


class DemoFakesError(Exception):
    """The fakes cannot serve: one line saying why and what to do."""


@dataclass
class DemoFakes:
    google: FakeGoogleAds
    google_port: int
    meta: FakeMeta
    meta_port: int


def _credentials(demo: DemoAdAccount, environ: Mapping[str, str]) -> dict[str, object]:
    raw = environ.get(demo.credentials_env, "").strip()
    if not raw:
        raise DemoFakesError(
            f"{demo.credentials_env} is not set: the fakes listen where the demo accounts' "
            "credentials point; `make run` sets them (Makefile, DEV_ENV)"
        )
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise DemoFakesError(f"{demo.credentials_env} is not a JSON object")
    return value


def _loopback_port(variable: str, key: str, host: str | None, port: int | None) -> int:
    if host != HOST or not port:
        raise DemoFakesError(
            f"{variable}'s {key} must name {HOST} and a port: the fakes listen on loopback only"
        )
    return port


def demo_fakes(*, environ: Mapping[str, str], at: datetime) -> DemoFakes:
    """The two fakes, loaded with the demo campaigns and their spend, and their ports."""
    zones = {brand[0]: brand[1] for brand in DEMO_BRANDS}
    google = FakeGoogleAds()
    meta = FakeMeta()
    google_port = meta_port = 0
    for demo in DEMO_AD_ACCOUNTS:
        credentials = _credentials(demo, environ)
        days = [local_date(moment, zones[demo.brand]) for moment in (at - timedelta(days=1), at)]
        amounts = [DEMO_SPEND[n % len(DEMO_SPEND)] for n in range(len(demo.campaigns))]
        if demo.platform == Platform.GOOGLE_ADS:
            endpoint = str(credentials.get("insecure_endpoint") or "")
            host, _, port = endpoint.rpartition(":")
            google_port = _loopback_port(
                demo.credentials_env,
                "insecure_endpoint",
                host,
                int(port) if port.isdigit() else None,
            )
            google.customer_id = demo.account_id.replace("-", "")
            for (_, campaign_id), amount in zip(demo.campaigns, amounts, strict=True):
                google.statuses[campaign_id] = "ENABLED"
                for day in days:
                    google.spend[(campaign_id, day)] = int(amount * MICROS_PER_UNIT)
        elif demo.platform == Platform.META:
            url = urlsplit(str(credentials.get("graph_url") or ""))
            meta_port = _loopback_port(demo.credentials_env, "graph_url", url.hostname, url.port)
            meta.account_id = demo.account_id
            meta.access_token = str(credentials.get("access_token") or "")
            for (_, campaign_id), amount in zip(demo.campaigns, amounts, strict=True):
                meta.statuses[campaign_id] = "ACTIVE"
                for day in days:
                    meta.spend[(campaign_id, day)] = str(amount)
    return DemoFakes(google=google, google_port=google_port, meta=meta, meta_port=meta_port)


def port_problem(port: int) -> str | None:
    """Why ``port`` cannot be listened on at 127.0.0.1, or None. Asked before the servers
    start, since gRPC would otherwise also print its own error lines."""
    with socket.socket() as probe:
        # As the servers bind: a port left in TIME_WAIT is free, one being listened on is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def fakes_serve(fakes: DemoFakes, *, stop: threading.Event, say: Callable[[str], None]) -> None:
    """Serve both fakes until ``stop`` is set."""
    ports = (("FAKE_GOOGLE_ADS_PORT", fakes.google_port), ("FAKE_META_PORT", fakes.meta_port))
    for name, port in ports:
        problem = port_problem(port)
        if problem is not None:
            raise DemoFakesError(
                f"cannot listen on {HOST}:{port} ({problem}): is another `make run` running? "
                f"Stop it, or choose another port: make run {name}=<port>"
            )
    try:
        google = FakeGoogleAdsServer(fakes.google, port=fakes.google_port)
        meta = FakeMetaServer(fakes.meta, port=fakes.meta_port)
    except (OSError, RuntimeError) as exc:  # taken between the probe and the bind
        raise DemoFakesError(f"cannot start the fakes: {exc}") from None
    with google, meta:
        say(
            f"fake Google Ads (gRPC) on {google.endpoint}, customer {fakes.google.customer_id}, "
            f"campaigns {', '.join(sorted(fakes.google.statuses))}"
        )
        say(
            f"fake Meta (Graph API) on {meta.url}, account {fakes.meta.account_id}, "
            f"campaigns {', '.join(sorted(fakes.meta.statuses))}"
        )
        # In slices: a signal that reaches one of gRPC's threads wakes nothing, and Python
        # runs its handler (which sets ``stop``) only once the main thread wakes up.
        while not stop.wait(0.5):
            pass
