"""Request id and API latency: one middleware, first in the chain, so it sees every request.

Each request gets an id (the caller's ``X-Request-ID`` if it is a sane token, else a new
one), returned in the response header and attached to every log line written while the
request is served. API requests are timed into the latency histogram by route (the URL
pattern, not the raw path, so ids in paths do not create new series).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from ads import metrics

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_TIMED_PREFIX = "/api/"


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
        if request.path.startswith(_TIMED_PREFIX):
            match = request.resolver_match
            route = match.route if match is not None else "unmatched"
            metrics.HTTP_LATENCY.labels(
                route=route, method=request.method or "", status=f"{response.status_code // 100}xx"
            ).observe(time.monotonic() - began)
        return response
