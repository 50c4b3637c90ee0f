"""The egress policy: which machines this system may send a request to.

Staff type URLs (a webhook ad account, a brand's alert webhook) and operators write endpoint
overrides into credentials; every one of them becomes a request sent from inside the network.
So every outbound request (platform webhooks, alert webhooks, Meta's Graph API, Google Ads'
gRPC endpoint and its OAuth token endpoint) asks this module first:

- the scheme is https (gRPC: TLS), unless every address is in an allowed network;
- the host is resolved once, here, and every address it resolves to is checked: loopback,
  private, link-local, multicast, reserved, unspecified and other non-public ranges are
  refused, in IPv4 and IPv6, also when an IPv6 address embeds an IPv4 one (IPv4-mapped,
  IPv4-compatible, NAT64, 6to4, Teredo);
- the caller connects to the checked addresses (``Destination.addresses``), never to the
  name again, so a second lookup cannot answer differently (DNS rebinding);
- redirects are never followed (the HTTP client in ``ads.core.http`` enforces that).

The one exception is ``OUTBOUND_ALLOWED_NETWORKS`` (CIDRs, empty by default): addresses in
those networks may be reached although private, over http or https. It exists for the local
protocol fakes of ``make run`` and the tests; ``DJANGO_DEBUG`` relaxes nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = {"https": 443, "http": 80}
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class EgressError(Exception):
    """A destination this system does not send to. ``reason`` is ours, in words staff can
    act on; ``retryable``: the refusal may pass later (the name did not resolve)."""

    retryable = False

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EgressRefused(EgressError):
    """The policy refuses the destination: a wrong scheme, a URL it cannot read, or an
    address that is not public."""


class EgressUnresolved(EgressError):
    """The host name did not resolve (a DNS failure can be temporary)."""

    retryable = True


Resolver = Callable[[str, int], Sequence[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (TCP), in its preferred order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# Replaced in the test suite by a resolver that knows only the names a test gives it, so no
# test ever asks a real name server.
resolver: Resolver = system_resolver


@dataclass(frozen=True)
class Destination:
    """A checked destination: connect to ``addresses`` (in order), naming ``host`` in TLS
    and in the Host header."""

    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def authority(self) -> str:
        """``host[:port]`` as the Host header and gRPC's :authority carry it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS.get(self.scheme)
        return host if self.port == default else f"{host}:{self.port}"


def allowed_networks() -> tuple[IPNetwork, ...]:
    return tuple(getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", ()))


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries, in the forms that route to it."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client behind the relay
    packed = int(address)
    if any(address in network for network in _NAT64) or packed >> 32 == 0:
        # NAT64 prefixes and the deprecated IPv4-compatible form (::a.b.c.d).
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return None


def _category(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is."""
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata lives there)"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "site-local"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not public"
    return None


def _in(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def is_allowed_network(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    """Whether ``address`` (or the IPv4 address it embeds) is in one of ``networks``."""
    embedded = _embedded_ipv4(address)
    return _in(address, networks) or (embedded is not None and _in(embedded, networks))


def address_refusal(address: IPAddress, networks: Sequence[IPNetwork] = ()) -> str | None:
    """Why the policy refuses to connect to ``address`` ("is a loopback address", "leads to
    127.0.0.1, a loopback address"), or None when it may."""
    if is_allowed_network(address, networks):
        return None
    problem = _category(address)
    if problem is not None:
        return f"is a {problem} address"
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        inner = _category(embedded)
        if inner is not None:
            return f"leads to {embedded}, a {inner} address"
    return None


def split_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) URL; refuses what is not one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise EgressRefused("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise EgressRefused("only https:// URLs are allowed")
    if parts.username is not None or parts.password is not None:
        raise EgressRefused("a URL may not carry a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise EgressRefused("the URL names no host")
    return scheme, _ascii_host(host), port or DEFAULT_PORTS[scheme]


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """``(host, port)`` of a ``host[:port]`` endpoint (gRPC's form, ``[v6]:port`` too; the
    port defaults to 443)."""
    if "/" in endpoint or "@" in endpoint:
        raise EgressRefused("an endpoint is host:port, without a scheme or path")
    _, host, port = split_url(f"https://{endpoint.strip()}")
    return host, port


def _ascii_host(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise EgressRefused(f"{host!r} is not a valid host name") from None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve_checked(
    host: str,
    port: int,
    *,
    tls: bool,
    only_allowed: bool = False,
    networks: Sequence[IPNetwork] | None = None,
) -> tuple[IPAddress, ...]:
    """Resolve ``host`` once and check every address; the addresses to connect to.

    Plain text (``tls`` False) is allowed only when every address is in an allowed network;
    ``only_allowed``: every address must be (endpoint overrides in credentials)."""
    networks = allowed_networks() if networks is None else networks
    literal = _literal(host)
    if literal is not None:
        found: list[IPAddress] = [literal]
    else:
        try:
            names = resolver(host, port)
        except (OSError, UnicodeError):
            raise EgressUnresolved(f"{host} does not resolve") from None
        found = []
        for name in names:
            address = _literal(name.split("%", 1)[0])
            if address is None:
                raise EgressRefused(f"{host} resolved to {name!r}, which is not an address")
            found.append(address)
        if not found:
            raise EgressUnresolved(f"{host} does not resolve")
    for address in found:
        problem = address_refusal(address, networks)
        if problem is not None:
            # A name is named with what it resolved to; an address speaks for itself.
            raise EgressRefused(
                f"{address} {problem}"
                if literal is not None
                else f"{host} resolves to {address}, which {problem}"
            )
    inside = all(is_allowed_network(address, networks) for address in found)
    if only_allowed and not inside:
        raise EgressRefused(
            f"{host} is outside OUTBOUND_ALLOWED_NETWORKS, the only place an endpoint "
            "override may point to"
        )
    if not tls and not inside:
        raise EgressRefused("only https:// is allowed to hosts outside OUTBOUND_ALLOWED_NETWORKS")
    return tuple(found)


def check_url(
    url: str, *, only_allowed: bool = False, networks: Sequence[IPNetwork] | None = None
) -> Destination:
    """The checked destination of an http(s) URL, or ``EgressError`` saying why not."""
    scheme, host, port = split_url(url)
    addresses = resolve_checked(
        host, port, tls=scheme == "https", only_allowed=only_allowed, networks=networks
    )
    return Destination(scheme=scheme, host=host, port=port, addresses=addresses)


def check_endpoint(endpoint: str, *, tls: bool, only_allowed: bool = False) -> Destination:
    """The checked destination of a ``host:port`` endpoint (gRPC)."""
    host, port = split_endpoint(endpoint)
    addresses = resolve_checked(host, port, tls=tls, only_allowed=only_allowed)
    return Destination(scheme="https" if tls else "http", host=host, port=port, addresses=addresses)


def url_problem(url: str) -> str | None:
    """Why the policy would refuse ``url`` now (for form and model validation), or None."""
    try:
        check_url(url)
    except EgressError as exc:
        return exc.reason
    return None
