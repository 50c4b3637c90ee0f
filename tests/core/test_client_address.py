"""The client's address for access decisions: X-Forwarded-For is believed only from a
trusted proxy, and then read from the right, past the proxies we trust."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import RequestFactory, override_settings

from ads.core.client_address import client_address


def networks(*texts: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(text) for text in texts)


def seen(remote: str, forwarded: str | None = None) -> str | None:
    headers = {} if forwarded is None else {"x-forwarded-for": forwarded}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers))


def test_without_trusted_proxies_a_forwarded_address_is_ignored() -> None:
    with override_settings(TRUSTED_PROXIES=()):
        assert seen("203.0.113.7", "127.0.0.1") == "203.0.113.7"
        assert seen("10.0.0.1", "198.51.100.4") == "10.0.0.1"


def test_a_request_from_an_untrusted_address_is_its_own_address_whatever_it_forwards() -> None:
    with override_settings(TRUSTED_PROXIES=networks("10.0.0.1/32")):
        assert seen("203.0.113.7", "198.51.100.4") == "203.0.113.7"


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        pytest.param("10.0.0.1", "198.51.100.4", "198.51.100.4", id="one-proxy"),
        # The client wrote the left part itself: only what our proxy appended counts.
        pytest.param("10.0.0.1", "127.0.0.1, 10.0.0.9, 198.51.100.4", "198.51.100.4", id="forged"),
        pytest.param("10.0.0.1", "198.51.100.4, 10.0.0.2", "198.51.100.4", id="two-proxies"),
        pytest.param("10.0.0.1", "", "10.0.0.1", id="empty-header"),
        pytest.param("10.0.0.1", None, "10.0.0.1", id="no-header"),
        # Not an address where a proxy we trust should have written one: the last address a
        # trusted proxy vouched for.
        pytest.param("10.0.0.1", "198.51.100.4, unknown", "10.0.0.1", id="garbage"),
        pytest.param("10.0.0.1", "10.0.0.7, 10.0.0.2", "10.0.0.7", id="all-trusted"),
        pytest.param("10.0.0.1", "198.51.100.4:5123", "198.51.100.4", id="v4-with-port"),
        pytest.param("10.0.0.1", "[2001:db8::1]:443", "2001:db8::1", id="v6-with-port"),
        pytest.param("::ffff:10.0.0.1", "198.51.100.4", "198.51.100.4", id="v4-mapped-peer"),
    ],
)
def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_address(
    remote: str, forwarded: str | None, client: str
) -> None:
    with override_settings(TRUSTED_PROXIES=networks("10.0.0.0/8")):
        assert seen(remote, forwarded) == client
