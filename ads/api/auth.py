from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from ads.services.tokens import AuthenticatedToken, token_authenticate


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; missing, unknown, revoked or expired: 401."""

    def authenticate(self, request: HttpRequest, token: str) -> AuthenticatedToken | None:
        return token_authenticate(secret=token, at=timezone.now())
