"""manage.py grant_brand_access: by id or case-insensitive name, twice is harmless."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from ads.models import BrandAccess
from tests.factories import make_brand

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("grant_brand_access", *args, stdout=out)
    return out.getvalue()


def granted(username: str) -> set[str]:
    return set(
        BrandAccess.objects.filter(user__username=username).values_list("brand__name", flat=True)
    )


def test_grants_brands_by_id_and_by_name_in_any_case() -> None:
    User.objects.create_user("alice", is_staff=True)
    acme = make_brand("Acme")
    make_brand("Globex")

    out = run("alice", str(acme.pk), "gLoBeX")

    assert granted("alice") == {"Acme", "Globex"}
    assert "granted Acme, Globex" in out


def test_granting_twice_changes_nothing_and_says_so() -> None:
    User.objects.create_user("alice", is_staff=True)
    make_brand("Acme")
    run("alice", "acme")

    out = run("alice", "acme")

    assert BrandAccess.objects.count() == 1
    assert "granted nothing new (already so: Acme)" in out


def test_revoke_takes_access_away() -> None:
    User.objects.create_user("alice", is_staff=True)
    make_brand("Acme"), make_brand("Globex")
    run("alice", "Acme", "Globex")

    out = run("alice", "globex", "--revoke")

    assert granted("alice") == {"Acme"}
    assert "Brands now: Acme." in out


def test_an_unknown_brand_or_user_is_an_error_and_grants_nothing() -> None:
    User.objects.create_user("alice", is_staff=True)
    make_brand("Acme")

    with pytest.raises(CommandError, match="No single brand with id or name: Nope"):
        run("alice", "Acme", "Nope")
    with pytest.raises(CommandError, match="No user named 'bob'"):
        run("bob", "Acme")
    assert not BrandAccess.objects.exists()
