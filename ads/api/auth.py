from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer

from ads.models import TokenScope
from ads.services.tokens import AuthenticatedToken, token_authenticate


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; missing, unknown, revoked or expired: 401. A token
    without one of the endpoint's scopes: 403, naming the scope it needs."""

    def __init__(self, *any_of: TokenScope) -> None:
        super().__init__()
        self.any_of = any_of

    def authenticate(self, request: HttpRequest, token: str) -> AuthenticatedToken | None:
        found = token_authenticate(secret=token, at=timezone.now())
        if found is not None and not found.has_scope(*self.any_of):
            needed = " or ".join(f"`{scope.value}`" for scope in self.any_of)
            raise HttpError(403, f"this token lacks the {needed} scope this endpoint needs")
        return found


# One per kind of endpoint. `manage` implies `read` (AuthenticatedToken.scopes).
INGEST = BearerToken(TokenScope.INGEST)
STATUS = BearerToken(TokenScope.INGEST, TokenScope.READ)
READ = BearerToken(TokenScope.READ)
MANAGE = BearerToken(TokenScope.MANAGE)
