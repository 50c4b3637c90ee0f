from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.db import connection

from ads.core import egress


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Decided at collection from the configured engine (no connection needed).
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("postgresql"):
        return
    for item in items:
        marker = item.get_closest_marker("postgres")
        if marker is not None:
            # A test may say what of PostgreSQL it needs: @pytest.mark.postgres("why").
            why = marker.args[0] if marker.args else "row locks and concurrent writers"
            item.add_marker(
                pytest.mark.skip(reason=f"needs PostgreSQL ({why}); runs in the PostgreSQL pass")
            )


@pytest.fixture
def vendor(db: None) -> str:
    return connection.vendor


# --- verify_totals (issue 8): every test's scenario must leave the totals equal to the ledger.
@pytest.fixture(autouse=True)
def _totals_follow_the_ledger(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each database test, ``verify_totals`` finds no drift; a test that makes drift
    on purpose says so with ``@pytest.mark.drift``."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or request.node.get_closest_marker("drift") is not None:
        yield
        return
    # Depend on the database fixture, so this runs before its rollback or flush.
    request.getfixturevalue("_django_db_helper")
    yield
    from django.utils import timezone

    from ads.services.verify import totals_verify

    differences = totals_verify(at=timezone.now()).differences
    assert not differences, "totals drifted from the ledger: " + "; ".join(
        d.describe() for d in differences[:5]
    )


# --- The egress policy: no test asks a real name server.
@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The names the egress policy can resolve in this test: ``localhost`` only, unless the
    test adds some (``dns["hooks.example"] = ["203.0.113.7"]``). Nothing asks a name server,
    so no test reaches beyond this machine through a name."""
    names: dict[str, list[str]] = {"localhost": ["127.0.0.1", "::1"]}

    def resolve(host: str, port: int) -> list[str]:
        if host in names:
            return list(names[host])
        raise socket.gaierror(socket.EAI_NONAME, f"{host} is not a name this test knows")

    monkeypatch.setattr(egress, "resolver", resolve)
    return names


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: bound to learn a free one, then closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
