from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from html import unescape

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

# Wednesday 2026-06-10, noon UTC: the clock of every admin test here.
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def staff(admin_client: Client, admin_user: User) -> Iterator[Client]:
    with time_machine.travel(NOON, tick=False):
        admin_client.force_login(admin_user)
        yield admin_client


@pytest.fixture
def count_queries(staff: Client) -> Callable[[str], int]:
    """The number of queries a GET of ``url`` makes (asserting it renders)."""

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = staff.get(url)
        assert response.status_code == 200
        return len(captured.captured_queries)

    return count


def text(html: str) -> str:
    """What a reader sees of ``html``: tags dropped, spaces collapsed."""
    plain = unescape(re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")
    return " ".join(plain.split())
