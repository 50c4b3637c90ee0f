"""LOG_FORMAT=json, request ids on API log lines, and Sentry only when SENTRY_DSN is set."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import time_machine

from ad_budget_system.logfmt import RequestIdFilter
from ads.services.tokens import token_create
from tests.api.helpers import NOON, ApiClient, event
from tests.factories import make_brand, make_campaign
from tests.test_config import start_django


def test_json_log_format_writes_one_object_per_line_with_the_extra_fields() -> None:
    completed = start_django(
        {"DJANGO_DEBUG": "True", "LOG_FORMAT": "json"},
        "import logging; from decimal import Decimal; "
        "logging.getLogger('ads.test').info('paused %s', 7, "
        "extra={'campaign_id': 7, 'amount': Decimal('12.50')})",
    )

    assert completed.returncode == 0, completed.stderr
    (line,) = [line for line in completed.stderr.splitlines() if "paused 7" in line]
    record = json.loads(line)
    assert record["message"] == "paused 7"
    assert (record["level"], record["logger"]) == ("INFO", "ads.test")
    assert (record["campaign_id"], record["amount"]) == (7, "12.50")
    assert "time" in record


def test_an_unknown_log_format_is_refused() -> None:
    completed = start_django({"DJANGO_DEBUG": "True", "LOG_FORMAT": "xml"})

    assert completed.returncode != 0
    assert "LOG_FORMAT='xml' must be one of: keyvalue, json" in completed.stderr


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def collected() -> Iterator[Collect]:
    handler = Collect()
    logger = logging.getLogger("ads")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.mark.django_db
def test_api_log_lines_carry_the_request_id(collected: Collect) -> None:
    campaign = make_campaign(make_brand())
    with time_machine.travel(NOON, tick=False):
        _, secret = token_create(name="t", brand_ids=[], by_superuser=True, at=NOON)
        api = ApiClient(secret)
        api.client.defaults["HTTP_X_REQUEST_ID"] = "req-0123456789"
        api.post("/spend/events", {"events": [event(campaign.pk)]})

    batch = [r for r in collected.records if r.getMessage().startswith("spend batch")]
    assert batch and all(getattr(r, "request_id") == "req-0123456789" for r in batch)
    # Outside a request there is no id.
    logging.getLogger("ads.test").info("no request")
    assert not hasattr(collected.records[-1], "request_id")


def test_sentry_is_off_without_a_dsn_and_on_with_its_integrations_with_one() -> None:
    code = (
        "import sentry_sdk; c = sentry_sdk.get_client(); "
        "print(settings.SENTRY_ENABLED, c.is_active(), "
        "sorted(k for k in c.integrations if k in ('django', 'celery')))"
    )
    off = start_django({"DJANGO_DEBUG": "True"}, code)
    # A DSN on a closed local port: nothing is captured here, so nothing is sent anyway.
    on = start_django({"DJANGO_DEBUG": "True", "SENTRY_DSN": "http://key@127.0.0.1:9/1"}, code)

    assert off.returncode == 0, off.stderr
    assert off.stdout.strip() == "False False []"
    assert on.returncode == 0, on.stderr
    assert on.stdout.strip() == "True True ['celery', 'django']"
