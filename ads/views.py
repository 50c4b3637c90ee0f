"""The operator endpoints: liveness, readiness, status and metrics. Cheap, and kept out of the
INFO request log. /healthz and /readyz are open (a load balancer calls them); /status and
/metrics name what is wrong around the process and answer only to a scraper (METRICS_TOKEN
or METRICS_ALLOWED_IPS)."""

from __future__ import annotations

import ipaddress
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ads.core.client_address import client_address
from ads.services.health import readiness, status_report
from ads.services.metrics_scrape import exposition


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving; depends on nothing (no database, no broker)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when this process can serve (database reachable, migrations applied); 503 naming
    what failed. The broker and beat are on /status: they are not this instance's to fix."""
    checks = readiness()
    failed = [check for check in checks if not check.ok]
    body = {
        "status": "fail" if failed else "ok",
        "failed": [check.name for check in failed],
        "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
    }
    return JsonResponse(body, status=503 if failed else 200)


def _metrics_allowed(request: HttpRequest) -> bool:
    """A bearer token equal to METRICS_TOKEN, or a client address in METRICS_ALLOWED_IPS.
    With neither set, only loopback may scrape. The client's address, not the peer's: behind
    a proxy on the same host every request would otherwise come from loopback."""
    token: str | None = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    networks = settings.METRICS_ALLOWED_IPS
    if not networks and not token:
        networks = _LOOPBACK
    try:
        address = ipaddress.ip_address(client_address(request) or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _metrics_allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)


@never_cache
@require_GET
def status_view(request: HttpRequest) -> HttpResponse:
    """200 when the database, the broker, beat (its watched jobs) and every outbox are fine;
    503 otherwise, each part saying what it found. For alerting, not for a load balancer."""
    if not _metrics_allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    report = status_report(at=timezone.now())
    return JsonResponse(report, status=200 if report["ok"] else 503)
