"""The one HTTP client for requests to other machines (webhooks, Meta's Graph API, Google's
OAuth token endpoint).

A ``requests`` session whose transport asks the egress policy (``ads.core.egress``) before
every request and connects to the addresses it checked, naming the host only in TLS (SNI,
certificate check) and in the Host header; redirects are never followed, and proxies and
``.netrc`` from the environment are ignored (either would change who is connected to).

What a remote server answered never reaches staff: callers turn an answer into
``HttpFailure``, whose message is a fixed text per class (timeout, refused, 4xx, 5xx, invalid
answer) with the status code; the body goes to this module's log at DEBUG level only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from ads.core import egress

logger = logging.getLogger(__name__)

# Per-campaign messages a receiver sends back (the ``failed`` list of a 2xx answer) are kept,
# cut to this many printable characters.
MESSAGE_LIMIT = 500
# The most of a refused answer's body written to the DEBUG log.
LOGGED_BODY_LIMIT = 2_000


class HttpFailure(Exception):
    """A request that did not get a usable answer. ``message`` is fixed text (ours) plus the
    status code; ``retryable``: timeouts, unreachable hosts, throttling and 5xx; ``auth``: 401
    or 403, which no retry mends; ``retry_after``: the server's hint in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        auth: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.auth = auth
        self.retry_after = retry_after


def printable(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` with control characters dropped, cut to ``limit`` characters."""
    return "".join(ch for ch in str(text) if ch.isprintable())[:limit]


def retry_after(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds, if the server sent a number."""
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return None


def status_failure(status: int, headers: Mapping[str, str] | None = None) -> HttpFailure:
    """A non-2xx answer as a fixed message per class."""
    if status in (401, 403):
        return HttpFailure(
            f"answered HTTP {status}: credentials or signature refused", status=status, auth=True
        )
    if status == 429:
        return HttpFailure(
            "answered HTTP 429: throttled",
            status=status,
            retryable=True,
            retry_after=retry_after(headers or {}),
        )
    if 500 <= status < 600:
        return HttpFailure(
            f"answered HTTP {status}: server error",
            status=status,
            retryable=True,
            retry_after=retry_after(headers or {}),
        )
    if 400 <= status < 500:
        return HttpFailure(f"answered HTTP {status}: request refused", status=status)
    return HttpFailure(f"answered HTTP {status}: not a valid reply", status=status)


def exception_failure(exc: BaseException) -> HttpFailure:
    """A request that raised, as a fixed message per class."""
    if isinstance(exc, egress.EgressError):
        # A refused destination is configuration, which no retry mends (like refused
        # credentials); a name that did not resolve may resolve later.
        return HttpFailure(
            f"refused by the egress policy: {exc.reason}",
            retryable=exc.retryable,
            auth=not exc.retryable,
        )
    if isinstance(exc, RedirectRefused):
        return HttpFailure(
            f"answered HTTP {exc.status}, a redirect, which is never followed",
            status=exc.status,
            auth=True,
        )
    if isinstance(exc, requests.Timeout):
        return HttpFailure("timed out", retryable=True)
    if isinstance(exc, requests.exceptions.SSLError):
        return HttpFailure("TLS failed (certificate or handshake)", retryable=True)
    if isinstance(exc, requests.ConnectionError):
        return HttpFailure("could not connect (refused or unreachable)", retryable=True)
    return HttpFailure("answered something that is not a valid reply", retryable=True)


def invalid_answer(status: int) -> HttpFailure:
    return HttpFailure(f"answered HTTP {status} with something that is not a valid reply")


def log_refused_body(what: str, response: requests.Response) -> None:
    """The body of a refused answer, for an operator with DEBUG logging only."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s answered %s: %s",
            what,
            response.status_code,
            printable(response.text, LOGGED_BODY_LIMIT),
        )


def _never_connected(exc: requests.ConnectionError) -> bool:
    """The connection was refused or the address unreachable: nothing was sent, so the next
    checked address may be tried."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)


class PinnedAdapter(HTTPAdapter):
    """Connects to the addresses the egress policy checked, never to the name again."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        destination = egress.check_url(request.url or "")
        request.headers["Host"] = destination.authority
        kwargs["proxies"] = {}
        last: requests.ConnectionError | None = None
        for address in destination.addresses:
            setattr(request, "_egress_target", (destination, address))
            try:
                return super().send(request, **kwargs)
            except requests.ConnectionError as exc:
                if isinstance(exc, requests.Timeout) or not _never_connected(exc):
                    raise
                last = exc
        assert last is not None  # the policy returns at least one address
        raise last

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        destination, address = getattr(request, "_egress_target")
        host_params["host"] = str(address)
        if destination.tls:
            # TLS still names (and verifies) the host, while the socket goes to the address.
            pool_kwargs["server_hostname"] = destination.host
            pool_kwargs["assert_hostname"] = destination.host
        return host_params, pool_kwargs


class RedirectRefused(requests.RequestException):
    """The server answered with a redirect (any 3xx), which is never followed nor read: a
    redirect would replay a signed request elsewhere, or turn it into a GET that still
    carries its signature."""

    def __init__(self, status: int) -> None:
        super().__init__(f"redirect {status} refused")
        self.status = status


class EgressSession(requests.Session):
    """A session that sends only where the egress policy allows and never follows a
    redirect: a 3xx answer raises ``RedirectRefused`` before anyone reads it."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        adapter = PinnedAdapter()
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        response = super().send(request, **kwargs)
        if 300 <= response.status_code < 400:
            response.close()
            raise RedirectRefused(response.status_code)
        return response


def session() -> EgressSession:
    return EgressSession()


def post(
    client: requests.Session,
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    what: str,
) -> requests.Response:
    """POST ``body``; the 2xx answer, or ``HttpFailure`` (fixed message) for anything else.
    ``what`` names the receiver in the DEBUG log of a refused answer's body."""
    try:
        response = client.post(url, data=body, headers=dict(headers), timeout=timeout)
    except (requests.RequestException, egress.EgressError) as exc:
        raise exception_failure(exc) from None
    if not 200 <= response.status_code < 300:
        log_refused_body(what, response)
        raise status_failure(response.status_code, response.headers)
    return response
