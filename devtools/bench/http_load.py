"""The API served by gunicorn, as in production: batches of 500 and single events sent by
concurrent keep-alive clients (each in a process of its own), with p50/p99 latencies."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ads.services.spend_events import SpendEventInput
from ads.services.tokens import token_create
from devtools.bench.state import HTTP_BATCH, Bench, BenchError


def http_step(bench: Bench) -> None:
    if bench.in_memory_database():
        raise BenchError("the HTTP step needs a database other processes can open")
    options = bench.options
    bench.say(
        f"3. serving the API with gunicorn ({options.http_workers} workers x "
        f"{options.http_threads} threads, {options.http_clients} clients) ..."
    )
    token, secret = token_create(
        name=f"bench {bench.run_id}", brand_ids=[], by_superuser=True, at=timezone.now()
    )
    port = _free_port()
    server = _start_gunicorn(port, options.http_workers, options.http_threads, bench.run_id)
    try:
        _wait_until_up(port, server)
        now = timezone.now()
        batches = [
            bench.events(HTTP_BATCH, now) for _ in range(max(1, options.http_events // HTTP_BATCH))
        ]
        bench.say(f"   {len(batches)} requests of {HTTP_BATCH} events ...")
        result = _load(port, secret, batches, options.http_clients)
        _check_http(result, "batched")
        bench.record_sent([event for batch in batches for event in batch])
        rate = result.accepted / result.seconds
        bench.figure(
            "http", "batched: events/s", round(rate), "events/s", ">= 5,000", rate >= 5_000
        )
        bench.figure("http", "batched: p50 latency", result.percentile(50), "ms")
        bench.figure("http", "batched: p99 latency", result.percentile(99), "ms")
        singles = [bench.events(1, now) for _ in range(options.http_single)]
        bench.say(f"   {len(singles)} single-event requests ...")
        clients = options.http_single_clients
        result = _load(port, secret, singles, clients)
        _check_http(result, "single")
        bench.record_sent([batch[0] for batch in singles])
        rate = len(singles) / result.seconds
        bench.figure(
            "http",
            f"single events, {clients} clients: requests/s",
            round(rate),
            "req/s",
            ">= 1,000",
            rate >= 1_000,
        )
        bench.figure("http", "single events: p50 latency", result.percentile(50), "ms")
        bench.figure("http", "single events: p99 latency", result.percentile(99), "ms")
    finally:
        _stop(server)
        token.delete()


def _check_http(result: _LoadResult, name: str) -> None:
    if result.failures:
        raise BenchError(
            f"HTTP {name}: {len(result.failures)} failed requests, e.g. " f"{result.failures[0]}"
        )


@dataclass
class _LoadResult:
    seconds: float
    latencies_ms: list[float]
    accepted: int
    failures: list[str]

    def percentile(self, p: int) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return round(ordered[index], 1)


def _body(events: Sequence[SpendEventInput]) -> bytes:
    return json.dumps(
        {
            "events": [
                {
                    "campaign": e.campaign_id,
                    "amount": e.amount,
                    "occurred_at": e.occurred_at.isoformat() if e.occurred_at else None,
                    "source": e.source,
                    "event_id": e.external_id,
                }
                for e in events
            ]
        }
    ).encode()


def _client(
    port: int,
    secret: str,
    bodies: list[bytes],
    results: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    """One connection, kept alive, sending its share of the requests in turn."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    latencies, accepted, failures = [], 0, []
    for body in bodies:
        started = time.perf_counter()
        conn.request("POST", "/api/v1/spend/events", body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            failures.append(f"{response.status} {payload[:200]!r}")
            continue
        answer = json.loads(payload)
        accepted += answer["accepted"]
        if answer["rejected"] or answer["duplicates"]:
            failures.append(f"200 with {answer['rejected']} rejected, {answer['duplicates']} dup")
    conn.close()
    results.put((latencies, accepted, failures))


def _load(
    port: int, secret: str, batches: Sequence[Sequence[SpendEventInput]], clients: int
) -> _LoadResult:
    """Send every batch once, over ``clients`` concurrent keep-alive connections (each in
    its own process, so the load generator is not held back by one interpreter's lock)."""
    bodies = [_body(batch) for batch in batches]
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_client, args=(port, secret, bodies[n::clients], results))
        for n in range(clients)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    collected = [results.get(timeout=600) for _ in workers]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return _LoadResult(
        seconds=seconds,
        latencies_ms=[ms for latencies, _, _ in collected for ms in latencies],
        accepted=sum(accepted for _, accepted, _ in collected),
        failures=[f for _, _, failures in collected for f in failures],
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _start_gunicorn(port: int, workers: int, threads: int, run_id: str) -> subprocess.Popen[bytes]:
    log_path = Path(settings.BASE_DIR) / "var" / f"bench-{run_id}-gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",  # the bench speaks plain HTTP to 127.0.0.1
    }
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "ad_budget_system.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
                "--keep-alive",
                "30",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=log,
        )


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.returncode}; see var/bench-*.log")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise BenchError("gunicorn did not answer within 60 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
