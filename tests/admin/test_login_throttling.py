"""Login throttling (django-axes): a lockout after repeated wrong passwords, lifted by an
administrator."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"


def attempt(client: Client, password: str) -> int:
    response = client.post(LOGIN, {"username": "alice", "password": password})
    return response.status_code


def test_five_wrong_passwords_lock_the_user_out_even_with_the_right_one() -> None:
    User.objects.create_user("alice", password="right-password-123", is_staff=True)
    client = Client()

    first = [attempt(client, "wrong") for _ in range(4)]
    fifth = attempt(client, "wrong")

    assert first == [200] * 4  # the form again, with its error
    assert fifth == 429
    assert attempt(client, "right-password-123") == 429


def test_axes_reset_lifts_the_lockout() -> None:
    User.objects.create_user("alice", password="right-password-123", is_staff=True)
    client = Client()
    for _ in range(5):
        attempt(client, "wrong")

    call_command("axes_reset")

    assert attempt(client, "right-password-123") == 302  # logged in
