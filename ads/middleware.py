"""Request id and API latency: one middleware, first in the chain, so it sees every request.

Each request gets an id (the caller's ``X-Request-ID`` if it is a sane token, else a new
one), returned in the response header and attached to every log line written while the
request is served. API requests are timed into the latency histogram by route (the URL
pattern, not the raw path, so ids in paths do not create new series).

Second in the chain, ``ApiErrorsAsJsonMiddleware`` makes every error answer under /api/
JSON with a ``detail``, whoever wrote it.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from ads.core import metrics

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_API_PREFIX = "/api/"


class RequestIdAndMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        began = time.monotonic()
        try:
            response = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response["X-Request-ID"] = request_id
        if request.path.startswith(_API_PREFIX):
            match = request.resolver_match
            route = match.route if match is not None else "unmatched"
            metrics.HTTP_LATENCY.labels(
                route=route, method=request.method or "", status=f"{response.status_code // 100}xx"
            ).observe(time.monotonic() - began)
        return response


class ApiErrorsAsJsonMiddleware:
    """Clients parse every answer under /api/ as JSON. The endpoints, the API's exception
    handlers and the catch-all 404 already answer so; what comes from elsewhere does not: the
    API framework's 405 for a method an endpoint does not serve (plain text), and Django's own
    refusals before any view runs (an unknown Host: an HTML page, with DEBUG a technical one).
    Such an answer keeps its status and headers (a 405's ``Allow``) and gets a JSON body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(_API_PREFIX)
            or not isinstance(response, HttpResponse)  # a stream's body is not ours to swap
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        if response.status_code == 405:
            detail = (
                f"method {request.method} is not allowed on {request.path}; "
                f"allowed: {response.get('Allow', 'none')}"
            )
        else:
            detail = response.reason_phrase
        response.content = json.dumps({"detail": detail}).encode()
        response["Content-Type"] = "application/json"
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response
