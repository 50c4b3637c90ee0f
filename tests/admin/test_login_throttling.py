"""Login throttling (django-axes): a lockout after repeated wrong passwords, lifted by an
administrator."""

from __future__ import annotations

import ipaddress

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"


PROXY = "10.0.0.1"
BEHIND_PROXY = override_settings(TRUSTED_PROXIES=(ipaddress.ip_network("10.0.0.0/24"),))


def attempt(
    client: Client, password: str, remote: str = "127.0.0.1", forwarded_for: str | None = None
) -> int:
    headers = {} if forwarded_for is None else {"x-forwarded-for": forwarded_for}
    data = {"username": "alice", "password": password}
    return client.post(LOGIN, data, REMOTE_ADDR=remote, headers=headers).status_code


def from_proxy(client: Client, password: str, forwarded_for: str) -> int:
    return attempt(client, password, PROXY, forwarded_for)


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


@BEHIND_PROXY
def test_behind_a_trusted_proxy_only_the_client_that_failed_is_locked_out() -> None:
    User.objects.create_user("alice", password="right-password-123", is_staff=True)
    intruder, colleague = Client(), Client()

    failed = [from_proxy(intruder, "wrong", "198.51.100.66") for _ in range(5)]
    colleague_failed = [from_proxy(colleague, "wrong", "203.0.113.10") for _ in range(4)]

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        "198.51.100.66",
        "203.0.113.10",
    }
    assert failed[-1] == 429
    assert from_proxy(intruder, "right-password-123", "198.51.100.66") == 429
    assert colleague_failed == [200] * 4  # counted apart from the intruder's five
    assert from_proxy(colleague, "right-password-123", "203.0.113.10") == 302


def test_without_trusted_proxies_a_forged_forwarded_address_dodges_nothing() -> None:
    User.objects.create_user("alice", password="right-password-123", is_staff=True)
    client = Client()

    codes = [
        attempt(client, "wrong", "198.51.100.66", forwarded_for=f"192.0.2.{n}") for n in range(5)
    ]

    assert codes[-1] == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.66"]


@BEHIND_PROXY
def test_a_forwarded_address_from_an_untrusted_address_is_ignored() -> None:
    User.objects.create_user("alice", password="right-password-123", is_staff=True)
    client = Client()
    # Someone outside names the colleague's address, to lock the colleague out.
    for _ in range(5):
        attempt(client, "wrong", "198.51.100.66", forwarded_for="203.0.113.10")

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.66"]
    assert from_proxy(Client(), "right-password-123", "203.0.113.10") == 302
