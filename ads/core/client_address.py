"""The client's address, for every access decision: the admin's login throttling (django-axes
calls ``client_address``, AXES_CLIENT_IP_CALLABLE) and the /metrics allow-list.

REMOTE_ADDR is the peer; behind a reverse proxy or load balancer that is the proxy, so every
client would share one address (five wrong passwords by anyone would lock a user out for all
the staff behind it). The proxy names the client in X-Forwarded-For, but any client can send
that header too. So it is read only when the peer is one of TRUSTED_PROXIES, and from the
right: each proxy appends the address it was reached from, and everything left of what our
own proxies wrote came from the client. The client is the right-most address there that is
not itself a trusted proxy. With no TRUSTED_PROXIES (the default) the header is ignored.
"""

from __future__ import annotations

import ipaddress
import re

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Some proxies append the client's port: 198.51.100.4:5123, [2001:db8::1]:443.
_WITH_PORT = re.compile(r"^\[(?P<v6>[^\]]+)\](?::\d+)?$|^(?P<v4>[0-9.]+):\d+$")


def _address(text: str) -> Address | None:
    text = text.strip()
    match = _WITH_PORT.match(text)
    if match is not None:
        text = match["v6"] or match["v4"]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d; the networks name a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: tuple[Network, ...]) -> bool:
    return any(address in network for network in proxies)


def client_address(request: HttpRequest) -> str | None:
    """The address of the client this request comes from, as text (None: none known)."""
    remote: str = request.META.get("REMOTE_ADDR", "")
    peer = _address(remote)
    if peer is None:
        return remote or None
    proxies: tuple[Network, ...] = settings.TRUSTED_PROXIES
    if not _trusted(peer, proxies):
        return str(peer)
    client = peer
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(hop)
        if address is None:
            # Not what a proxy we trust writes: keep the last address one of them vouched for.
            break
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)
