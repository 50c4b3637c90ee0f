"""A brand's spend sources: how late each reports (learned from the ledger, or set by an
operator). Reading needs ``read``; setting a lag ``manage``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Status

from ads.api.auth import MANAGE, READ
from ads.api.common import (
    READ_ERRORS,
    WRITE_ERRORS,
    Id,
    IfMatch,
    actor_of,
    etag,
    if_match,
    not_found,
    tagged,
    transitions_body,
    visible_brand,
)
from ads.api.source_schemas import SourceListOut, SourceOut, SourcePatch, SourceWriteOut
from ads.models import SpendSource
from ads.services.lags import brand_source, brand_sources, source_lag_change
from ads.services.preconditions import brand_write

router = Router(tags=["sources"])


def source_body(row: SpendSource) -> dict[str, Any]:
    return {
        "source": row.source,
        "lag_minutes": row.lag_minutes,
        "learned_p50_minutes": row.learned_p50_minutes,
        "learned_p95_minutes": row.learned_p95_minutes,
        "lag_in_use_minutes": row.lag_in_use_minutes,
        "learned_min_minutes": row.learned_min_minutes,
        "samples": row.samples,
        "learned_at": row.learned_at,
    }


def _state(row: SpendSource) -> dict[str, Any]:
    # What a client can set (the learned figures move on their own).
    return {"source": row.source, "lag_minutes": row.lag_minutes}


def _version(brand_id: int, source: str) -> str | None:
    row = brand_source(brand_id=brand_id, source=source)
    return None if row is None else etag(_state(row))


def _missing(source: str) -> dict[str, str]:
    return {"detail": f"no source {source!r} for this brand"}


@router.get(
    "/brands/{brand_id}/sources",
    response={200: SourceListOut, **READ_ERRORS},
    auth=READ,
    summary="A brand's spend sources and their reporting lags",
)
def sources_list(request: HttpRequest, brand_id: Id) -> Status[Any]:
    """Every source the brand's spend arrives from (learned hourly from the ledger) or that
    an operator set, by name, with the lag the expected-spend stop uses."""
    if visible_brand(request, brand_id) is None:
        return Status(404, not_found("brand", brand_id))
    return Status(200, {"items": [source_body(row) for row in brand_sources(brand_id=brand_id)]})


@router.get(
    "/brands/{brand_id}/sources/{path:source}",
    response={200: SourceOut, **READ_ERRORS},
    auth=READ,
    summary="One spend source",
)
def source_detail(
    request: HttpRequest, brand_id: Id, source: str, response: HttpResponse
) -> Status[Any]:
    """One source, with its ETag (send it back as If-Match)."""
    if visible_brand(request, brand_id) is None:
        return Status(404, not_found("brand", brand_id))
    row = brand_source(brand_id=brand_id, source=source)
    if row is None:
        return Status(404, _missing(source))
    tagged(response, etag(_state(row)))
    return Status(200, source_body(row))


@router.patch(
    "/brands/{brand_id}/sources/{path:source}",
    response={200: SourceWriteOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Set a source's reporting lag",
)
def source_patch(
    request: HttpRequest,
    brand_id: Id,
    source: str,
    payload: SourcePatch,
    response: HttpResponse,
    precondition: IfMatch = None,
) -> Status[Any]:
    """`{"lag_minutes": 180}` uses 180 minutes for this source instead of what is learned;
    `{"lag_minutes": null}` learns it again. A source not seen yet is created. The brand is
    re-evaluated at once (the answer lists what that moved). With If-Match, only if the
    source is still as last read (else 412)."""
    if visible_brand(request, brand_id) is None:
        return Status(404, not_found("brand", brand_id))
    if "lag_minutes" not in payload.model_fields_set:
        raise ValidationError(
            {"lag_minutes": "lag_minutes is required: minutes, or null to learn it again"}
        )
    at, actor = timezone.now(), actor_of(request)
    row, transitions = brand_write(
        brand_id=brand_id,
        write=lambda: source_lag_change(
            brand_id=brand_id,
            source=source,
            lag_minutes=payload.lag_minutes,
            actor=actor,
            at=at,
        ),
        expected=if_match(precondition),
        version=lambda: _version(brand_id, source),
    )
    tagged(response, etag(_state(row)))
    return Status(200, {**source_body(row), "transitions": transitions_body(transitions)})
