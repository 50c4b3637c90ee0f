"""The egress policy's decisions, with a stubbed resolver: no name is ever looked up for real
and nothing here connects anywhere."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import override_settings

from ads.core import egress
from ads.core.egress import EgressRefused, EgressUnresolved, check_endpoint, check_url

NONE_ALLOWED = override_settings(OUTBOUND_ALLOWED_NETWORKS=())
LOCAL_FAKES = override_settings(
    OUTBOUND_ALLOWED_NETWORKS=(
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("10.20.0.0/16"),
    )
)


@NONE_ALLOWED
@pytest.mark.parametrize(
    "address, why",
    [
        ("127.0.0.1", "loopback"),
        ("127.3.4.5", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.0.1", "private"),
        ("100.64.0.1", "not public"),  # carrier-grade NAT
        ("169.254.169.254", "link-local"),  # AWS, GCP and Azure metadata
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "private"),  # AWS metadata over IPv6
        ("fc00::7", "private"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),
        ("255.255.255.255", "private"),
        ("198.18.0.1", "private"),
        ("fec0::1", "site-local"),
        ("100::1", "private"),
        # IPv6 forms that carry an IPv4 address.
        ("::ffff:127.0.0.1", "private"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "private"),
        ("::127.0.0.1", "reserved"),  # IPv4-compatible
        ("64:ff9b::a9fe:a9fe", "reserved"),  # NAT64 of 169.254.169.254
        ("2002:a9fe:a9fe::1", "leads to 169.254.169.254, a link-local"),  # 6to4
        ("2002:7f00:1::", "leads to 127.0.0.1, a loopback"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "private"),  # Teredo
    ],
)
def test_every_address_that_is_not_public_is_refused(address: str, why: str) -> None:
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(EgressRefused) as caught:
        check_url(f"https://{host}/hook")
    assert caught.value.reason.startswith(f"{ipaddress.ip_address(address)} ")
    assert why in caught.value.reason


@NONE_ALLOWED
def test_a_public_address_over_https_is_allowed_and_pinned(dns: dict[str, list[str]]) -> None:
    dns["hooks.example"] = ["93.184.216.34", "2606:2800:220:1::1"]

    destination = check_url("https://hooks.example:8443/T1?x=1")

    assert destination.addresses == (
        ipaddress.ip_address("93.184.216.34"),
        ipaddress.ip_address("2606:2800:220:1::1"),
    )
    assert (destination.host, destination.port, destination.authority) == (
        "hooks.example",
        8443,
        "hooks.example:8443",
    )


@NONE_ALLOWED
def test_one_private_answer_among_public_ones_refuses_the_host(dns: dict[str, list[str]]) -> None:
    # A name that answers with a public and an internal address (rebinding, split horizon).
    dns["mixed.example"] = ["93.184.216.34", "10.0.0.5"]
    with pytest.raises(EgressRefused, match="resolves to 10.0.0.5, which is a private address"):
        check_url("https://mixed.example/")


@NONE_ALLOWED
def test_the_name_is_resolved_once_and_the_checked_answer_is_what_is_used(
    dns: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # a rebinding name server
    asked: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return next(answers)

    monkeypatch.setattr(egress, "resolver", rebinding)
    destination = check_url("https://rebind.example/")

    assert asked == ["rebind.example"]
    assert destination.addresses == (ipaddress.ip_address("93.184.216.34"),)


@NONE_ALLOWED
@pytest.mark.parametrize(
    "url, why",
    [
        ("http://hooks.example/", "only https:// is allowed"),
        ("ftp://hooks.example/", "only https:// URLs are allowed"),
        ("file:///etc/passwd", "only https:// URLs are allowed"),
        ("gopher://hooks.example/", "only https:// URLs are allowed"),
        ("https://user:secret@hooks.example/", "may not carry a user name or password"),
        ("https:///nohost", "names no host"),
        ("https://hooks.example:99999/", "not a valid URL"),
        ("//hooks.example/", "only https:// URLs are allowed"),
    ],
)
def test_urls_that_are_not_plain_https_are_refused(
    url: str, why: str, dns: dict[str, list[str]]
) -> None:
    dns["hooks.example"] = ["93.184.216.34"]
    with pytest.raises(EgressRefused, match=why):
        check_url(url)


@NONE_ALLOWED
@pytest.mark.parametrize("name", ["2130706433", "0x7f.0.0.1", "localhost", "metadata.internal"])
def test_names_that_lead_inside_are_refused_by_what_they_resolve_to(
    name: str, dns: dict[str, list[str]]
) -> None:
    # Whatever spelling a name takes, the decision is made on its addresses.
    dns.setdefault(name, ["127.0.0.1"] if name != "metadata.internal" else ["169.254.169.254"])
    with pytest.raises(EgressRefused, match=f"^{name} resolves to (127.0.0.1|169.254)"):
        check_url(f"https://{name}/")


def test_a_name_that_does_not_resolve_is_a_retryable_refusal() -> None:
    with pytest.raises(EgressUnresolved, match="nowhere.example does not resolve") as caught:
        check_url("https://nowhere.example/")
    assert caught.value.retryable


@LOCAL_FAKES
def test_allowed_networks_may_be_reached_over_http_or_https(dns: dict[str, list[str]]) -> None:
    dns["fake.internal"] = ["10.20.3.4"]
    assert check_url("http://127.0.0.1:8080/hook").scheme == "http"
    assert check_url("http://[::1]:8080/hook").addresses == (ipaddress.ip_address("::1"),)
    assert check_url("https://fake.internal/").addresses == (ipaddress.ip_address("10.20.3.4"),)
    assert check_url("http://[::ffff:127.0.0.1]/").addresses  # maps into 127.0.0.0/8
    # Other private ranges stay closed.
    with pytest.raises(EgressRefused, match="10.21.0.1 is a private address"):
        check_url("http://10.21.0.1/")
    with pytest.raises(EgressRefused, match="169.254.169.254 is a link-local"):
        check_url("http://169.254.169.254/")


@LOCAL_FAKES
def test_an_endpoint_override_must_lie_inside_the_allowed_networks(
    dns: dict[str, list[str]],
) -> None:
    dns["googleads.googleapis.com"] = ["142.250.74.42"]
    assert check_endpoint("127.0.0.1:50051", tls=False, only_allowed=True).port == 50051
    with pytest.raises(EgressRefused, match="outside OUTBOUND_ALLOWED_NETWORKS"):
        check_endpoint("googleads.googleapis.com:443", tls=True, only_allowed=True)
    with pytest.raises(EgressRefused, match="only https:// is allowed"):
        check_endpoint("googleads.googleapis.com:443", tls=False)
    assert check_endpoint("googleads.googleapis.com", tls=True).port == 443


@override_settings(DEBUG=True, OUTBOUND_ALLOWED_NETWORKS=())
def test_debug_relaxes_nothing() -> None:
    with pytest.raises(EgressRefused, match="loopback"):
        check_url("http://127.0.0.1:8000/")


@NONE_ALLOWED
def test_url_problem_says_why_for_forms(dns: dict[str, list[str]]) -> None:
    dns["hooks.example"] = ["93.184.216.34"]
    assert egress.url_problem("https://hooks.example/x") is None
    assert egress.url_problem("http://169.254.169.254/") == (
        "169.254.169.254 is a link-local (cloud metadata lives there) address"
    )
    dns["metadata.example"] = ["169.254.169.254"]
    assert egress.url_problem("https://metadata.example/") == (
        "metadata.example resolves to 169.254.169.254, which is a link-local (cloud metadata "
        "lives there) address"
    )
