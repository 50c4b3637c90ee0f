"""Real processes for fault tests: a Redis, a web server and a Celery worker of the test's
own, on free ports of 127.0.0.1, sharing the test's PostgreSQL database. Nothing shared is
restarted: the machine's Redis and PostgreSQL are never touched."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(check: object, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout:.0f}s")


class Redis:
    """``redis-server`` on a port of its own; ``stop`` and ``start`` pull and put back the plug."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what=f"redis on {self.port}")

    def _answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


def environment(redis: Redis, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG off) on the test's own database and this Redis."""
    database = connection.settings_dict
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "PYTEST"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ad_budget_system.settings",
            "DJANGO_DEBUG": "False",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "False",
            "DATABASE_URL": (
                f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}"
                f":{database['PORT'] or 5432}/{database['NAME']}"
            ),
            "CELERY_BROKER_URL": redis.url,
            "CELERY_RESULT_BACKEND": redis.url,
            "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
        }
    )
    env.update(extra)
    return env


@contextmanager
def running(
    command: list[str], env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A process in a group of its own, killed with its children at the end."""
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@contextmanager
def web(env: Mapping[str, str], log: Path) -> Iterator[str]:
    """gunicorn (one sync worker, as in production) serving the project; its base URL."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "ad_budget_system.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--config",
        "/dev/null",
    ]
    with running(command, env, log):
        url = f"http://127.0.0.1:{port}"
        wait_for(
            lambda: urllib.request.urlopen(f"{url}/healthz", timeout=1).status == 200,
            timeout=60,
            what="gunicorn answering /healthz",
        )
        yield url


@contextmanager
def worker(env: Mapping[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = [
        str(BIN / "celery"),
        "-A",
        "ad_budget_system",
        "worker",
        "--concurrency=1",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
    ]
    with running(command, env, log) as process:
        yield process
