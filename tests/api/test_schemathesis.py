"""Generated requests against the documented API: never a server error, always an answer
the OpenAPI schema documents (status, content type, body)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import Case, Config, GenerationMode, HookContext
from schemathesis.checks import CheckFunction
from schemathesis.openapi import from_wsgi
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    status_code_conformance,
)

from ad_budget_system.wsgi import application
from ads.models import BudgetChange, Campaign, Flight, FlightCampaign, SharedBudget, TokenScope
from ads.services.tokens import token_create
from tests.api.helpers import NOON, TODAY
from tests.factories import make_brand, make_campaign, make_schedule

# Batches are judged item by item: a batch whose items all match the schema answers 422 when
# every one is rejected (an unknown campaign, say), and a batch with items that violate it
# answers 200 when another item was taken. The two checks that expect the status to follow
# schema validity alone therefore do not apply to these endpoints.
PER_ITEM_OUTCOMES: list[CheckFunction] = [positive_data_acceptance, negative_data_rejection]

# Hypothesis's caches (it scans test modules for constants when collecting) go to the temp
# directory rather than a .hypothesis directory in the project. Set on import, since the scan
# runs before any fixture.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "ad-budget-tests-hypothesis")

# Bounded and reproducible: a fixed seed, no example database, well under a minute.
BOUNDED = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def same_connection() -> Iterator[None]:
    """Schemathesis calls the WSGI application directly, and Django closes the database
    connection at the start and end of each request when it is not in autocommit mode, as
    inside a test's transaction (SQLite's in-memory test database ignores that; PostgreSQL
    does not). Detach that handler for the test, as django.test.Client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db: None, same_connection: None) -> Campaign:
    """A brand (New York), a capped and scheduled campaign with an external id, and a second
    brand, so that generated requests also reach real rows."""
    brand = make_brand("Fuzz", timezone="America/New_York", daily="50", monthly="500")
    make_brand("Other")
    schedule = make_schedule((2, "06:00", "18:00"), (3, "22:00", "02:00"))
    campaign = make_campaign(brand, daily="40", monthly="400", schedule=schedule)
    campaign.external_id = "fuzz-1"
    campaign.save()
    # And a plan of each kind, so the management endpoints reach real rows too.
    flight = Flight.objects.create(
        brand=brand, name="Fuzz flight", starts_on=TODAY, ends_on=TODAY, budget=Decimal(300)
    )
    FlightCampaign.objects.create(flight=flight, campaign=campaign)
    SharedBudget.objects.create(brand=brand, name="Fuzz pot", daily_budget=Decimal(30))
    BudgetChange.objects.create(
        brand=brand,
        target="brand",
        effective_on=TODAY.replace(month=7),
        daily_budget=Decimal(60),
        created_by="fuzz",
        created_at=NOON,
        updated_at=NOON,
    )
    return campaign


@pytest.fixture
def every_scope(db: None) -> str:
    """The secret of a token for every brand that may do everything (ingest and manage)."""
    _, value = token_create(
        name="fuzz",
        brand_ids=[],
        by_superuser=True,
        at=NOON,
        scopes=[TokenScope.INGEST, TokenScope.MANAGE],
    )
    return value


def _real_ids(seeded: Campaign) -> dict[str, int]:
    brand = seeded.brand_id
    return {
        "campaign_id": seeded.pk,
        "brand_id": brand,
        "brand": brand,
        "flight_id": Flight.objects.get(brand_id=brand).pk,
        "shared_budget_id": SharedBudget.objects.get(brand_id=brand).pk,
        "change_id": BudgetChange.objects.get(brand_id=brand).pk,
    }


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def _load(seeded: Campaign, mode: GenerationMode) -> BaseSchema:
    loaded = from_wsgi("/api/v1/openapi.json", application, config=Config(seed=20260610))
    loaded.config.generation.update(modes=[mode])
    # Read once: the runs create more rows (and may delete these).
    real = _real_ids(seeded)

    def _even_ids_real(values: dict[str, Any] | None, seeded: Campaign) -> dict[str, Any] | None:
        # Even ids become the seeded rows' (in positive runs only: a negative case must stay
        # invalid, or it would be rightly answered 200).
        if not values or mode != GenerationMode.POSITIVE:
            return values
        return {
            name: (
                real[name] if isinstance(value, int) and value % 2 == 0 and name in real else value
            )
            for name, value in values.items()
        }

    @loaded.hook
    def map_path_parameters(
        context: HookContext, path_parameters: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        # Even ids become the seeded campaign's and brand's (in positive runs only: a
        # negative case must stay invalid, or it would be rightly answered 200).
        return _even_ids_real(path_parameters, seeded)

    @loaded.hook
    def map_query(context: HookContext, query: dict[str, Any] | None) -> dict[str, Any] | None:
        return _even_ids_real(query, seeded)

    @loaded.hook
    def map_body(context: HookContext, body: Any) -> Any:
        # A management body's brand and campaigns become the seeded ones (when even).
        if isinstance(body, dict) and mode == GenerationMode.POSITIVE:
            if isinstance(body.get("brand"), int) and body["brand"] % 2 == 0:
                body["brand"] = seeded.brand_id
            if isinstance(body.get("campaigns"), list):
                body["campaigns"] = [seeded.pk]
        # Point items at the seeded campaign (even ids become its id; an item naming no
        # campaign gets its external id) and give unparseable amounts a real one, so that
        # events and totals get past the first checks and reach the ledger.
        for key in ("events", "totals"):
            items = body.get(key) if isinstance(body, dict) else None
            if not isinstance(items, list):
                continue
            for item in items:
                if not isinstance(item, dict):
                    continue
                if isinstance(item.get("campaign"), int) and item["campaign"] % 2 == 0:
                    item["campaign"] = seeded.pk
                elif item.get("campaign") is None and item.get("campaign_external_id") is None:
                    item.pop("campaign", None)
                    item["campaign_external_id"] = seeded.external_id
                for field in ("amount", "total"):
                    if isinstance(item.get(field), str) and not _is_number(item[field]):
                        item[field] = "1.50"
        return body

    return loaded


def _use_node_id(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32's lazy loader reads and rewrites Node._nodeid, which pytest 9.2 no
    # longer has (it keeps Node._id); give it one.
    request.node._nodeid = request.node.nodeid


@pytest.fixture
def api_schema(request: pytest.FixtureRequest, seeded: Campaign) -> BaseSchema:
    _use_node_id(request)
    return _load(seeded, GenerationMode.POSITIVE)


@pytest.fixture
def api_schema_negative(request: pytest.FixtureRequest, seeded: Campaign) -> BaseSchema:
    _use_node_id(request)
    return _load(seeded, GenerationMode.NEGATIVE)


schema = schemathesis.pytest.from_fixture("api_schema")
negative = schemathesis.pytest.from_fixture("api_schema_negative")


def _headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.django_db
@schema.parametrize()
@BOUNDED
def test_valid_requests_get_documented_answers_and_never_a_server_error(
    case: Case[Any], every_scope: str
) -> None:
    # Management writes are judged by rules a schema cannot state (an end before the start,
    # a past date, a budget below the spend), so their 422s are not schema mistakes either.
    case.call_and_validate(headers=_headers(every_scope), excluded_checks=PER_ITEM_OUTCOMES)


@pytest.mark.django_db
@negative.include(method="POST").parametrize()
@BOUNDED
def test_invalid_batches_get_documented_answers_and_never_a_server_error(
    case: Case[Any], every_scope: str
) -> None:
    case.call_and_validate(headers=_headers(every_scope), excluded_checks=PER_ITEM_OUTCOMES)


@pytest.mark.django_db
@negative.include(method="GET").parametrize()
@BOUNDED
def test_invalid_status_reads_are_refused_and_never_a_server_error(
    case: Case[Any], every_scope: str
) -> None:
    case.call_and_validate(
        headers=_headers(every_scope), excluded_checks=[positive_data_acceptance]
    )


@pytest.mark.django_db
@negative.include(method_regex="PATCH|DELETE").parametrize()
@BOUNDED
def test_invalid_changes_are_refused_and_never_a_server_error(
    case: Case[Any], every_scope: str
) -> None:
    case.call_and_validate(headers=_headers(every_scope), excluded_checks=PER_ITEM_OUTCOMES)


@pytest.mark.django_db
@schema.include(method="GET").parametrize()
@BOUNDED
def test_reads_with_a_token_lacking_their_scope_get_a_documented_403(
    case: Case[Any], secret: str
) -> None:
    # `secret` may only ingest: the management reads answer 403, the status reads 200.
    case.call_and_validate(headers=_headers(secret), excluded_checks=PER_ITEM_OUTCOMES)


@pytest.mark.parametrize(
    ("path", "parameters"),
    [
        ("/api/v1/campaigns/{campaign_id}", {"campaign_id": "null,null"}),
        ("/api/v1/brands/{brand_id}/budget", {"brand_id": "abc"}),
    ],
)
def test_a_non_integer_path_id_gets_a_documented_status(
    api_schema: BaseSchema, secret: str, path: str, parameters: dict[str, str]
) -> None:
    case = api_schema[path]["GET"].Case(path_parameters=parameters)

    case.call_and_validate(headers=_headers(secret), checks=[status_code_conformance])


@pytest.mark.parametrize(
    ("path", "key", "item"),
    [
        pytest.param(
            "/api/v1/spend/events",
            "events",
            {"amount": "1.50", "occurred_at": "2026-06-09T20:00:00-16:00", "event_id": "e-1"},
            id="event",
        ),
        pytest.param(
            "/api/v1/spend/daily-totals",
            "totals",
            {"date": "2026-06-10", "total": "5", "reported_at": "2026-06-09T20:00:00-16:00"},
            id="daily-total",
        ),
    ],
)
def test_an_instant_with_a_large_utc_offset_is_not_a_server_error(
    api_schema: BaseSchema,
    seeded: Campaign,
    secret: str,
    path: str,
    key: str,
    item: dict[str, str],
) -> None:
    body: dict[str, Any] = {key: [{"campaign": seeded.pk, "source": "fuzz", **item}]}
    case = api_schema[path]["POST"].Case(body=body, media_type="application/json")

    case.call_and_validate(headers=_headers(secret), excluded_checks=PER_ITEM_OUTCOMES)


# The amounts that once gave a 500 or were taken by mistake, as explicit examples: each must
# get a documented answer (an item rejected with a reason), never a server error.
HOSTILE_AMOUNTS = [
    "99999999999999999999999.0000001",
    "1E+999999999999999999",
    "-1E-999999999999999999",
    "1_000",
    "1e3",
    "\u0661\u0662",
    "12.",
    "NaN",
    "0x10",
    " ",
    "9" * 5000,
    10**40,
    1e308,
    1e-7,
    -1.5,
]


@pytest.mark.parametrize("amount", HOSTILE_AMOUNTS)
@pytest.mark.parametrize(
    ("path", "key", "field", "item"),
    [
        pytest.param(
            "/api/v1/spend/events",
            "events",
            "amount",
            {"occurred_at": "2026-06-10T10:00:00+00:00", "event_id": "e-1"},
            id="event",
        ),
        pytest.param(
            "/api/v1/spend/daily-totals",
            "totals",
            "total",
            {"date": "2026-06-10", "reported_at": "2026-06-10T10:00:00+00:00"},
            id="daily-total",
        ),
    ],
)
def test_hostile_amounts_get_a_documented_rejection_never_a_server_error(
    api_schema: BaseSchema,
    seeded: Campaign,
    secret: str,
    path: str,
    key: str,
    field: str,
    item: dict[str, str],
    amount: object,
) -> None:
    body: dict[str, Any] = {key: [{"campaign": seeded.pk, "source": "fuzz", field: amount, **item}]}
    case = api_schema[path]["POST"].Case(body=body, media_type="application/json")

    response = case.call_and_validate(headers=_headers(secret), excluded_checks=PER_ITEM_OUTCOMES)

    assert response.status_code == 422
    assert response.json()["results"][0]["status"] == "rejected"
