"""Token scopes: ingest (spend and the status reads; what every older token keeps), read,
manage (implies read). A scope the token lacks is a 403 naming the scope."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from ads.models import ApiToken, TokenScope
from ads.services.tokens import token_authenticate, token_create
from tests.api.helpers import NOON, ApiClient, event
from tests.api.test_admin_tokens import ADD_URL, SHOWN_SECRET, add_form
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db


def client_with(*scopes: TokenScope) -> ApiClient:
    _, secret = token_create(
        name="planner", brand_ids=[], by_superuser=True, at=NOON, scopes=scopes
    )
    return ApiClient(secret)


def test_a_token_made_without_scopes_may_ingest_and_read_status_only() -> None:
    brand = make_brand()
    campaign = make_campaign(brand)
    _, secret = token_create(name="feed", brand_ids=[], by_superuser=True, at=NOON)
    client = ApiClient(secret)

    assert ApiToken.objects.get().scopes == ["ingest"]
    assert client.post("/spend/events", {"events": [event(campaign.pk)]}).status_code == 200
    assert client.get(f"/campaigns/{campaign.pk}").status_code == 200
    assert client.get(f"/brands/{brand.pk}/budget").status_code == 200
    refused = client.get("/brands")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this token lacks the `read` scope this endpoint needs"


def test_a_read_token_may_not_ingest_and_the_403_names_the_scope() -> None:
    brand = make_brand()
    campaign = make_campaign(brand)
    client = client_with(TokenScope.READ)

    refused = client.post("/spend/events", {"events": [event(campaign.pk)]})

    assert refused.status_code == 403
    assert refused.json() == {"detail": "this token lacks the `ingest` scope this endpoint needs"}
    assert client.get(f"/campaigns/{campaign.pk}").status_code == 200
    assert client.get(f"/brands/{brand.pk}/budget").status_code == 200
    assert client.get("/brands").status_code == 200


def test_a_read_token_may_not_change_anything() -> None:
    brand = make_brand(daily="100")
    client = client_with(TokenScope.READ)

    refused = client.patch(f"/brands/{brand.pk}", {"daily_budget": "50"})

    assert refused.status_code == 403
    assert "`manage` scope" in refused.json()["detail"]
    brand.refresh_from_db()
    assert str(brand.daily_budget) == "100.00"


def test_manage_implies_read_but_not_ingest() -> None:
    brand = make_brand()
    campaign = make_campaign(brand)
    client = client_with(TokenScope.MANAGE)

    assert client.get("/brands").status_code == 200
    assert client.get(f"/brands/{brand.pk}").status_code == 200
    assert client.patch(f"/brands/{brand.pk}", {"daily_budget": "50"}).status_code == 200
    assert client.post("/spend/events", {"events": [event(campaign.pk)]}).status_code == 403


def test_a_token_has_several_scopes_each_stored_once_in_a_fixed_order() -> None:
    token, secret = token_create(
        name="all",
        brand_ids=[],
        by_superuser=True,
        at=NOON,
        scopes=["manage", "ingest", "manage"],
    )

    assert token.scopes == ["ingest", "manage"]
    authenticated = token_authenticate(secret=secret, at=NOON)
    assert authenticated is not None
    assert authenticated.scopes == {"ingest", "read", "manage"}


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        ([], "A token needs at least one scope."),
        (["write"], "Unknown scope(s): write (known: ingest, read, manage)."),
    ],
)
def test_no_scope_or_an_unknown_one_is_refused_and_creates_nothing(
    scopes: list[str], message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        token_create(name="x", brand_ids=[], by_superuser=True, at=NOON, scopes=scopes)

    assert refused.value.message_dict == {"scopes": [message]}
    assert not ApiToken.objects.exists()


def test_the_command_takes_scopes_and_defaults_to_ingest() -> None:
    out = StringIO()
    call_command(
        "create_api_token", "--name", "planner", "--scope", "read", "--scope", "manage", stdout=out
    )
    call_command("create_api_token", "--name", "feed", stdout=StringIO())

    assert "Scopes: read, manage." in out.getvalue()
    assert dict(ApiToken.objects.values_list("name", "scopes")) == {
        "planner": ["read", "manage"],
        "feed": ["ingest"],
    }
    with pytest.raises(CommandError, match="invalid choice: 'write'"):
        call_command("create_api_token", "--name", "x", "--scope", "write", stdout=StringIO())


def test_staff_pick_the_scopes_in_the_admin_and_must_pick_one() -> None:
    make_brand("Acme")
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))

    none = admin.post(ADD_URL, add_form("nothing", every=True, scopes=()))
    created = admin.post(ADD_URL, add_form("planner", every=True, scopes=("read", "manage")))

    assert none.status_code == 200 and "This field is required." in none.content.decode()
    found = SHOWN_SECRET.search(created.content.decode())
    assert found is not None
    assert "Scopes: read, manage." in created.content.decode()
    token = ApiToken.objects.get()
    assert (token.name, token.scopes) == ("planner", ["read", "manage"])
    assert ApiClient(found.group(1)).get("/brands").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_tokens_made_before_scopes_keep_ingest() -> None:
    before = [("ads", "0021_flights_shared_budgets_calendar")]
    after = [("ads", "0022_api_token_scopes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old_apps.get_model("ads", "ApiToken").objects.create(
        name="old feed", prefix="abk_old", secret_hash="0" * 64, all_brands=True, created_at=NOON
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)

    new_apps = executor.loader.project_state(after).apps
    assert list(new_apps.get_model("ads", "ApiToken").objects.values_list("scopes", flat=True)) == [
        ["ingest"]
    ]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
