"""What every endpoint module shares: path ids, the token and actor of a request, the
documented errors, ETags and If-Match, and the transitions a write caused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, NoReturn, cast

from django.http import HttpRequest, HttpResponse
from ninja import Header, Path

from ads.api.schemas import ErrorOut
from ads.models import Brand
from ads.services.rule import Transition
from ads.services.selectors.catalog import brand_get
from ads.services.spend_input import MAX_ID
from ads.services.tokens import AuthenticatedToken

# A path id is a PostgreSQL bigint; anything else is a 422, not a query.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]

# Documented on every write; read with if_match().
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag of your last read: the write applies only if the object is "
        "still as you read it, else 412 (absent: the write applies regardless).",
    ),
]

READ_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# A write also refuses a body it cannot read (400, 413, 415) and a stale If-Match (412).
WRITE_ERRORS: dict[int, Any] = {
    **READ_ERRORS,
    400: ErrorOut,
    412: ErrorOut,
    413: ErrorOut,
    415: ErrorOut,
}


def token_of(request: HttpRequest) -> AuthenticatedToken:
    return cast(AuthenticatedToken, request.auth)  # type: ignore[attr-defined]


def visible_brand(request: HttpRequest, brand_id: int) -> Brand | None:
    """The brand, if it exists and the request's token may see it (else None: a 404 that
    does not tell another brand's from a missing one)."""
    if not token_of(request).allows(brand_id):
        return None
    return brand_get(brand_id=brand_id)


def actor_of(request: HttpRequest) -> str:
    return f"api:{token_of(request).name}"


def not_found(kind: str, object_id: int) -> dict[str, str]:
    # The same words whether it does not exist or belongs to a brand outside the token's.
    return {"detail": f"no {kind} {object_id} for this token"}


class NotFound(Exception):
    """Answered 404 with ``detail``: what a request names is gone (or never was)."""


def vanished(kind: str, object_id: int) -> NoReturn:
    """Raise NotFound for an object that existed when the request began but not under the
    lock (deleted meanwhile)."""
    raise NotFound(not_found(kind, object_id)["detail"])


def etag(state: Mapping[str, Any]) -> str:
    """A strong ETag of what a client can set on an object (not of its spend or status,
    which move on their own): it changes exactly when someone changes the object."""
    text = json.dumps(state, sort_keys=True, default=str, separators=(",", ":"))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def if_match(header: str | None) -> list[str] | None:
    """The ETags of an ``If-Match`` header (None when absent: the write is unconditional).
    Weak tags never match (RFC 9110: If-Match compares strongly)."""
    if header is None:
        return None
    tags = [tag.strip() for tag in header.split(",")]
    return [tag for tag in tags if tag and not tag.startswith("W/")]


def tagged(response: HttpResponse, tag: str) -> None:
    response["ETag"] = tag


def transitions_body(transitions: Sequence[Transition]) -> list[dict[str, Any]]:
    return [
        {"campaign": t.campaign_id, "to": t.to_status, "reason": t.to_reason} for t in transitions
    ]
