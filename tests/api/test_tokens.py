"""manage.py create_api_token: the secret alone on the last line, and a working token."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from ads.models import ApiToken, Brand
from tests.api.helpers import NOON, ApiClient, event
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"abk_[A-Za-z0-9_-]{43}")


def create_token(*args: str) -> str:
    """Run the command; return its secret, checked to be alone on the last line."""
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    last = out.getvalue().splitlines()[-1]
    assert SECRET.fullmatch(last), out.getvalue()
    return last


def test_the_secret_is_printed_alone_on_the_last_line_and_works_for_every_brand() -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    in_globex = make_campaign(globex)

    secret = create_token("--name", "platform feed")

    token = ApiToken.objects.get()
    assert (token.name, token.all_brands, token.prefix) == ("platform feed", True, secret[:10])
    assert secret not in (token.secret_hash, token.prefix)
    client = ApiClient(secret)
    assert client.get(f"/brands/{acme.pk}/budget").status_code == 200
    response = client.post("/spend/events", {"events": [event(in_globex.pk)]})
    assert response.json()["accepted"] == 1


def test_each_run_makes_a_new_secret() -> None:
    assert create_token("--name", "a") != create_token("--name", "a")
    assert ApiToken.objects.count() == 2


def test_with_brand_the_token_is_scoped_to_those_brands() -> None:
    acme, globex, initech = make_brand("Acme"), make_brand("Globex"), make_brand("Initech")
    in_acme, in_initech = make_campaign(acme), make_campaign(initech)

    secret = create_token("--name", "feed", "--brand", "Acme", "--brand", "Globex")

    token = ApiToken.objects.get()
    assert token.all_brands is False
    assert set(token.brands.all()) == {acme, globex}
    client = ApiClient(secret)
    assert client.get(f"/brands/{globex.pk}/budget").status_code == 200
    assert client.get(f"/brands/{initech.pk}/budget").status_code == 404
    response = client.post("/spend/events", {"events": [event(in_acme.pk), event(in_initech.pk)]})
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "rejected"]


def test_an_unknown_brand_is_a_command_error_and_creates_nothing() -> None:
    make_brand("Acme")

    with pytest.raises(CommandError, match="unknown brand\\(s\\): Nope"):
        call_command("create_api_token", "--name", "feed", "--brand", "Acme", "--brand", "Nope")

    assert not ApiToken.objects.exists()
    assert Brand.objects.count() == 1


def test_brands_by_id_or_by_name_in_any_case_several_times() -> None:
    acme, globex, initech = make_brand("Acme Coffee"), make_brand("Globex"), make_brand("Initech")

    out = StringIO()
    call_command(
        "create_api_token",
        "--name",
        "feed",
        "--brand",
        str(globex.pk),
        "--brand",
        "acme coffee",
        "--brand",
        " ACME COFFEE ",  # the same brand again counts once
        stdout=out,
    )

    assert set(ApiToken.objects.get().brands.all()) == {acme, globex}
    assert "may write to: Acme Coffee, Globex." in out.getvalue()
    assert initech not in ApiToken.objects.get().brands.all()


def test_an_ambiguous_brand_is_refused_naming_the_candidates_and_creates_nothing() -> None:
    upper, lower = make_brand("ACME"), make_brand("acme")

    with pytest.raises(CommandError) as refused:
        call_command("create_api_token", "--name", "feed", "--brand", "Acme")

    assert str(refused.value) == (
        f"--brand 'Acme' matches several brands: 'ACME' (id {upper.pk}), "
        f"'acme' (id {lower.pk}); give the id"
    )
    assert not ApiToken.objects.exists()
    # An exact, case-sensitive name is not ambiguous; neither is an id.
    create_token("--name", "feed", "--brand", "acme", "--brand", str(upper.pk))
    assert set(ApiToken.objects.get().brands.all()) == {upper, lower}


def test_an_id_that_is_also_another_brands_name_is_refused() -> None:
    first = make_brand("First")
    make_brand(str(first.pk))

    with pytest.raises(CommandError, match=f"--brand '{first.pk}' matches several brands"):
        call_command("create_api_token", "--name", "feed", "--brand", str(first.pk))

    assert not ApiToken.objects.exists()


def test_an_expiry_is_stored_and_ends_the_token(clock: time_machine.Traveller) -> None:
    brand = make_brand()

    secret = create_token("--name", "feed", "--expires", "2026-06-10T13:00:00+00:00")

    assert ApiToken.objects.get().expires_at == NOON + timedelta(hours=1)
    assert ApiClient(secret).get(f"/brands/{brand.pk}/budget").status_code == 200
    clock.move_to(NOON + timedelta(hours=1))
    assert ApiClient(secret).get(f"/brands/{brand.pk}/budget").status_code == 401


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("2026-06-10T12:00:00+00:00", "The expiry must be in the future."),
        ("2026-06-10T13:00:00", "--expires needs a time zone offset"),
        ("tomorrow", "--expires 'tomorrow' is not ISO-8601"),
    ],
)
def test_a_bad_expiry_is_a_command_error_and_creates_nothing(expires: str, message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("create_api_token", "--name", "feed", "--expires", expires)

    assert not ApiToken.objects.exists()
