"""Browser tests: Debian's Chromium (never a downloaded browser build) against the live
server, driven by pytest-playwright.

Where /usr/bin/chromium is missing they skip, saying so; with REQUIRE_BROWSER=1 (as CI
sets) a missing browser fails them instead, so a CI run can never pass without them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Wednesday 2030-06-12, 10:00 UTC, with the clock ticking (the live server runs in this
# process, so it shares it). In the future on purpose: the browser keeps only cookies whose
# expiry (server time + two weeks) is still ahead of its own, real, clock.
START = datetime(2030, 6, 12, 10, 0, tzinfo=UTC)
PASSWORD = "a-long-test-password-1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Last in the session: once Playwright has started, its event loop stays in this
    # process, and tests that fork worker processes (the bench) would inherit it.
    items.sort(key=lambda item: "browser" in item.keywords)


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A hook, not a fixture: it runs before the session's browser would be launched.
    if "browser" not in item.keywords or CHROMIUM.exists():
        return
    reason = f"browser tests SKIPPED: no Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(reason.replace("SKIPPED", "FAILED (REQUIRE_BROWSER=1)"), pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}}


@pytest.fixture(scope="session", autouse=True)
def _sync_orm_beside_playwright() -> Iterator[None]:
    # Playwright's synchronous API keeps an event loop marked as running in this thread
    # until the session ends, so Django would take the tests' ORM calls (synchronous, one
    # at a time) for calls from async code. Session-wide, as that loop is (these tests run
    # last), so it also covers pytest-django's teardown of each test.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(START, tick=True):
        yield
