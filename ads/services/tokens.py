"""API tokens: created with a secret shown once, stored as a hash, scoped to brands and to
what they may do (``TokenScope``)."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from ads.core.sql import as_aware
from ads.models import ApiToken, Brand, TokenScope

TOKEN_PREFIX = "abk_"
# Writing last_used_at on every request would turn each API call into a row update;
# once a minute is precise enough to tell a live token from a dead one.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    # A fast hash is right here: the secret is 256 random bits, not a password, so there
    # is nothing to brute-force; lookups stay one indexed query.
    return hashlib.sha256(secret.encode()).hexdigest()


def scopes_clean(scopes: Iterable[str]) -> list[str]:
    """The scopes as stored (each once, in TokenScope's order); ValidationError for an
    unknown one or none at all."""
    given = set(scopes)
    known = [scope.value for scope in TokenScope]
    unknown = sorted(given - set(known))
    if unknown:
        raise ValidationError(
            {"scopes": f"Unknown scope(s): {', '.join(unknown)} (known: {', '.join(known)})."}
        )
    if not given:
        raise ValidationError({"scopes": "A token needs at least one scope."})
    return [scope for scope in known if scope in given]


def _granted(stored: object) -> frozenset[str]:
    # A JSON column: psycopg decodes it, SQLite hands back its text.
    values = json.loads(stored) if isinstance(stored, (str, bytes)) else stored
    granted = frozenset(values) if isinstance(values, list) else frozenset()
    if TokenScope.MANAGE in granted:
        granted |= {TokenScope.READ.value}
    return granted


@dataclass(frozen=True)
class AuthenticatedToken:
    """What a request authenticated with: the token, the brands it may write to and what it
    may do (``scopes`` already includes what ``manage`` implies)."""

    token_id: int
    name: str
    brand_ids: frozenset[int] | None  # None: every brand
    scopes: frozenset[str] = frozenset({TokenScope.INGEST.value})

    def allows(self, brand_id: int) -> bool:
        return self.brand_ids is None or brand_id in self.brand_ids

    def has_scope(self, *any_of: TokenScope) -> bool:
        return any(scope in self.scopes for scope in any_of)


def token_create(
    *,
    name: str,
    brand_ids: Collection[int],
    by_superuser: bool,
    at: datetime,
    created_by_id: int | None = None,
    expires_at: datetime | None = None,
    scopes: Iterable[str] = (TokenScope.INGEST,),
) -> tuple[ApiToken, str]:
    """Create a token; return it and its secret (shown once, never stored).

    No brands means every brand, which only a superuser (or an operator at the shell) may
    grant. Scopes default to ``ingest``. Not idempotent: each call makes a new secret.
    """
    stored_scopes = scopes_clean(scopes)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A token needs a name."})
    if expires_at is not None and expires_at <= at:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    ids = set(brand_ids)
    if not ids and not by_superuser:
        raise ValidationError(
            {
                "brands": "Choose the brands this token may write to; only superusers can "
                "create a token for every brand."
            }
        )
    found = set(Brand.objects.filter(id__in=ids).values_list("id", flat=True))
    if found != ids:
        raise ValidationError({"brands": f"Unknown brand ids: {sorted(ids - found)}"})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name,
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            secret_hash=_hash(secret),
            all_brands=not ids,
            created_by_id=created_by_id,
            created_at=at,
            expires_at=expires_at,
            scopes=stored_scopes,
        )
        token.brands.set(ids)
    return token, secret


def token_authenticate(*, secret: str, at: datetime) -> AuthenticatedToken | None:
    """The token for ``secret`` if it exists, is not revoked and has not expired.

    Plain SQL rather than the ORM: this runs on every API request, and building the ORM
    query cost more than running it.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, name, all_brands, revoked_at, expires_at, last_used_at, scopes "
            "FROM ads_apitoken WHERE secret_hash = %s",
            [_hash(secret)],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        token_id, name, all_brands, revoked_at, expires_at, last_used_at, scopes = row
        if revoked_at is not None or (expires_at is not None and at >= as_aware(expires_at)):
            return None
        brand_ids = None
        if not all_brands:
            cursor.execute(
                "SELECT brand_id FROM ads_apitoken_brands WHERE apitoken_id = %s", [token_id]
            )
            brand_ids = frozenset(brand_id for (brand_id,) in cursor.fetchall())
    if last_used_at is None or as_aware(last_used_at) < at - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=at)
    return AuthenticatedToken(
        token_id=token_id, name=name, brand_ids=brand_ids, scopes=_granted(scopes)
    )


def tokens_revoke(*, token_ids: Collection[int], at: datetime) -> int:
    """Revoke tokens at once. Safe to run twice: a revoked token keeps its first time."""
    return ApiToken.objects.filter(id__in=token_ids, revoked_at__isnull=True).update(revoked_at=at)
