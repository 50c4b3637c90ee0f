"""The HTTP API, version 1, mounted at /api/v1/ (OpenAPI at /api/v1/openapi.json)."""

from ads.api.views import api

__all__ = ["api"]
