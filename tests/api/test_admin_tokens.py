"""API tokens in the admin: the secret shown once, brand scope enforced, revoke action."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from ads.models import ApiToken, Brand, BrandAccess
from ads.services.tokens import token_create
from tests.api.helpers import NOON, ApiClient
from tests.factories import make_brand

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/ads/apitoken/add/"
SHOWN_SECRET = re.compile(r'<code id="api-token-secret"[^>]*>(abk_[A-Za-z0-9_-]+)</code>')


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def superuser() -> User:
    return User.objects.create_superuser("root", "root@example.com", "pw")


def staff_with_token_permissions() -> User:
    user = User.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__model="apitoken"))
    return user


def add_form(
    name: str, *brands: Brand, every: bool = False, scopes: tuple[str, ...] = ("ingest",)
) -> dict[str, Any]:
    return {
        "name": name,
        **({"all_brands": "on"} if every else {}),
        "brands": [brand.pk for brand in brands],
        "scopes": list(scopes),
        "expires_at_0": "",
        "expires_at_1": "",
        "_save": "Save",
    }


def test_a_superuser_creates_a_token_for_every_brand_and_sees_the_secret_once() -> None:
    brand = make_brand("Acme")
    admin = logged_in(superuser())

    response = admin.post(ADD_URL, add_form("platform feed", every=True))

    assert response.status_code == 200
    found = SHOWN_SECRET.search(response.content.decode())
    assert found is not None
    secret = found.group(1)
    token = ApiToken.objects.get()
    assert (token.name, token.all_brands, token.created_by) == (
        "platform feed",
        True,
        User.objects.get(username="root"),
    )
    assert token.created_at == NOON
    assert ApiClient(secret).get(f"/brands/{brand.pk}/budget").status_code == 200
    # Shown once: neither the change page nor the list shows it again.
    for page in (f"/admin/ads/apitoken/{token.pk}/change/", "/admin/ads/apitoken/"):
        shown = admin.get(page)
        assert shown.status_code == 200
        assert secret not in shown.content.decode()
        assert token.prefix in shown.content.decode()


def test_a_staff_user_who_leaves_brands_empty_gets_a_form_error() -> None:
    make_brand("Acme")
    staff = logged_in(staff_with_token_permissions())

    response = staff.post(ADD_URL, add_form("feed"))

    assert response.status_code == 200
    assert "Choose at least one brand; only superusers can create a token for every" in (
        response.content.decode()
    )
    assert SHOWN_SECRET.search(response.content.decode()) is None
    assert not ApiToken.objects.exists()


def test_a_staff_user_creates_a_token_scoped_to_the_chosen_brands() -> None:
    acme, globex = make_brand("Acme"), make_brand("Globex")
    user = staff_with_token_permissions()
    BrandAccess.objects.create(user=user, brand=acme)
    staff = logged_in(user)

    response = staff.post(ADD_URL, add_form("feed", acme))

    found = SHOWN_SECRET.search(response.content.decode())
    assert found is not None
    token = ApiToken.objects.get()
    assert token.all_brands is False
    assert list(token.brands.all()) == [acme]
    client = ApiClient(found.group(1))
    assert client.get(f"/brands/{acme.pk}/budget").status_code == 200
    assert client.get(f"/brands/{globex.pk}/budget").status_code == 404


def test_the_revoke_action_revokes_the_selected_tokens() -> None:
    brand = make_brand()
    revoked, revoked_secret = token_create(name="old", brand_ids=[], by_superuser=True, at=NOON)
    kept, kept_secret = token_create(name="new", brand_ids=[], by_superuser=True, at=NOON)
    admin = logged_in(superuser())

    response = admin.post(
        "/admin/ads/apitoken/",
        {"action": "revoke", "_selected_action": [revoked.pk]},
        follow=True,
    )

    assert response.redirect_chain == [("/admin/ads/apitoken/", 302)]
    assert "1 token(s) revoked." in response.content.decode()
    revoked.refresh_from_db()
    kept.refresh_from_db()
    assert (revoked.revoked_at, kept.revoked_at) == (NOON, None)
    assert ApiClient(revoked_secret).get(f"/brands/{brand.pk}/budget").status_code == 401
    assert ApiClient(kept_secret).get(f"/brands/{brand.pk}/budget").status_code == 200
