from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView

from ads.api import api
from ads.views import healthz, metrics_view, readyz, status_view

admin.site.site_header = "Ad budget control"
admin.site.site_title = "Ad budget control"


@csrf_exempt
def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    # Everything under /api/ answers JSON, also for paths no endpoint serves and with DEBUG
    # on (Django's own 404 page is HTML). Exempt from CSRF like the API itself: API clients
    # carry no CSRF cookie, and a POST to a mistyped path must learn it is a 404, not a 403.
    # It changes nothing.
    return JsonResponse(
        {"detail": f"no such endpoint: {request.method} {request.path} (see /api/v1/docs)"},
        status=404,
    )


urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api(?:/(?P<rest>.*))?$", api_not_found),
    # Operations: liveness, readiness, status, Prometheus (see README, "Operating it").
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("status", status_view, name="status"),
    path("metrics", metrics_view, name="metrics"),
]
