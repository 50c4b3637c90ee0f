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

# Playwright's synchronous API runs an event loop in this thread; the test's own ORM calls
# are still synchronous, one at a time.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(START, tick=True):
        yield
