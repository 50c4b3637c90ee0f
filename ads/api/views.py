"""Endpoints: thin wrappers. Parse, call one service or selector, shape the answer."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import Field

from ads.api import (
    manage_brands,
    manage_budget_changes,
    manage_campaigns,
    manage_flights,
    manage_shared_budgets,
    manage_sources,
)
from ads.api.auth import INGEST, STATUS
from ads.api.common import Id, NotFound, actor_of, not_found, token_of
from ads.api.parser import ExactNumberParser, UnsupportedMediaType
from ads.api.schemas import (
    BrandBudgetOut,
    DailyTotalsIn,
    DailyTotalsOut,
    ErrorOut,
    SpendEventsIn,
    SpendEventsOut,
)
from ads.services.daily_totals import TotalStatus, daily_totals_ingest
from ads.services.ingest import spend_ingest
from ads.services.preconditions import PreconditionFailed
from ads.services.selectors.budgets import BrandBudgetReport, brand_budget_report
from ads.services.spend_events import EventStatus

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Ad budget control API",
    version="1",
    description=(
        "Feed spend in, read budget state, and manage brands' budgets, campaigns, flights, "
        "shared budgets and the budget calendar. Authenticate with `Authorization: Bearer "
        "<token>` (create one in the admin or with `manage.py create_api_token`). A token has "
        "scopes: `ingest` (the spend endpoints and the two status reads), `read` (the "
        "management reads and the status reads) and `manage` (the management writes; implies "
        "`read`); an endpoint needing a scope the token lacks answers 403. Amounts are "
        "decimal strings; instants are ISO-8601 with an offset. Send a body as JSON with "
        "`Content-Type: application/json` (parameters such as `charset` aside): any other "
        "Content-Type, or none, is refused with 415. A batch answers 200 when at "
        "least one item was taken (or all were already known), 422 when every item was "
        "rejected; each item carries its own status and reason."
    ),
    urls_namespace="api-v1",
    auth=INGEST,
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=ExactNumberParser(),
)

ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    413: ErrorOut,
    415: ErrorOut,
    422: ErrorOut,
}
# A 422 is either a batch whose every item was rejected (the batch body, with `detail`) or a
# malformed envelope (ErrorOut). Tried in that order: in pydantic's default "smart" mode the
# batch body could be cut down to the smaller ErrorOut.
SpendEventsRejected = Annotated[SpendEventsOut | ErrorOut, Field(union_mode="left_to_right")]
DailyTotalsRejected = Annotated[DailyTotalsOut | ErrorOut, Field(union_mode="left_to_right")]


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    messages = []
    for error in exc.errors:
        # ninja's locations start with ("body", "<parameter>"); the client knows neither.
        parts = list(error.get("loc", ()))
        location = ".".join(str(part) for part in (parts[2:] if parts[:1] == ["body"] else parts))
        messages.append(f"{location}: {error.get('msg')}" if location else str(error.get("msg")))
    return api.create_response(
        request, {"detail": "; ".join(messages), "errors": exc.errors}, status=422
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # The framework turns anything the parser raises into a 400 "Cannot parse request body";
    # a body refused for its Content-Type is another mistake, with its own status and advice.
    if isinstance(exc.__cause__, UnsupportedMediaType):
        return api.create_response(request, {"detail": str(exc.__cause__)}, status=415)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(DjangoValidationError)
def _refused(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    # What a service refused, by field: {"field": "why"}; a message of no one field is
    # the request's as a whole.
    by_field = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    errors, parts = [], []
    for field, messages in by_field.items():
        for message in messages:
            named = field == "__all__" or message.startswith(f"{field} ")
            parts.append(message if named else f"{field}: {message}")
            errors.append({"loc": [] if field == "__all__" else [field], "msg": message})
    return api.create_response(request, {"detail": "; ".join(parts), "errors": errors}, status=422)


@api.exception_handler(PreconditionFailed)
def _stale(request: HttpRequest, exc: PreconditionFailed) -> HttpResponse:
    return api.create_response(
        request,
        {
            "detail": "If-Match does not match: this was changed (or deleted) since you read "
            "it; read it again, and apply your change to what is there now"
        },
        status=412,
    )


@api.exception_handler(NotFound)
def _gone(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=404)


@api.exception_handler(ObjectDoesNotExist)
def _deleted_meanwhile(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    # What the request named was there when it was checked and gone when a service read it
    # again under the brand's lock: deleted by a concurrent request.
    return api.create_response(
        request, {"detail": "not found: it was deleted while this request ran"}, status=404
    )


@api.exception_handler(Exception)
def _failed(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A bug or an outage must still answer JSON (clients parse every answer), and must not
    # show a traceback even with DEBUG on; the traceback goes to the log instead.
    logger.exception(
        "API request failed: %s %s", request.method, request.path, extra={"path": request.path}
    )
    return api.create_response(
        request,
        {"detail": "internal error; the request changed nothing (retry it, or report it)"},
        status=500,
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
    return api.create_response(
        request, {"detail": f"request body is larger than {limit} MB"}, status=413
    )


@api.post(
    "/spend/events",
    response={**ERRORS, 200: SpendEventsOut, 422: SpendEventsRejected},
    summary="Record spend events",
    tags=["spend"],
)
def spend_events(request: HttpRequest, payload: SpendEventsIn) -> Status[dict[str, Any]]:
    """Up to 1,000 events. Each is accepted; a duplicate (its source + event_id was recorded
    before with the same campaign, amount and time: counted once); a conflict (recorded
    before with different values: the recorded event is kept and this one changes nothing,
    `differs` names the fields); or rejected with the reason. Valid events are stored even
    when others are not; a campaign that reaches a budget is paused before this answers."""
    result = spend_ingest(
        items=payload.events,
        at=timezone.now(),
        actor=actor_of(request),
        allowed_brand_ids=token_of(request).brand_ids,
    )
    body = result.as_dict()
    if not result.accepted and not result.duplicates:
        # Nothing taken and nothing already known as sent: every item was rejected or
        # conflicts with a recorded event.
        first = next(
            o for o in result.outcomes if o.status in (EventStatus.REJECTED, EventStatus.CONFLICT)
        )
        body["detail"] = f"no event was accepted; first reason: {first.reason}"
        return Status(422, body)
    return Status(200, body)


@api.post(
    "/spend/daily-totals",
    response={**ERRORS, 200: DailyTotalsOut, 422: DailyTotalsRejected},
    summary="Report campaign daily totals",
    tags=["spend"],
)
def daily_totals(request: HttpRequest, payload: DailyTotalsIn) -> Status[dict[str, Any]]:
    """What an ad platform reports: campaign X spent T in total on brand-local date D, as
    of report time R. The latest report per campaign, source and date wins: the difference
    from what that source already holds is recorded as an adjustment (positive or negative).
    A report older than the applied one changes nothing."""
    result = daily_totals_ingest(
        items=payload.totals,
        at=timezone.now(),
        actor=actor_of(request),
        allowed_brand_ids=token_of(request).brand_ids,
    )
    body: dict[str, Any] = {status.value: result.count(status) for status in TotalStatus} | {
        "results": [
            {
                "index": o.index,
                "status": o.status.value,
                "reason": o.reason,
                "adjustment": o.adjustment,
            }
            for o in result.outcomes
        ]
    }
    if result.count(TotalStatus.REJECTED) == len(result.outcomes):
        first = result.outcomes[0]
        body["detail"] = f"no total was taken; first reason: {first.reason}"
        return Status(422, body)
    return Status(200, body)


def _brand_body(report: BrandBudgetReport) -> dict[str, Any]:
    brand = report.brand
    return {
        "brand": {
            "id": brand.pk,
            "name": brand.name,
            "timezone": brand.timezone,
            "currency": brand.currency,
        },
        "evaluated_at": report.at,
        "local_time": report.local_time,
        "day": report.day.__dict__,
        "month": report.month.__dict__,
    }


@api.get(
    "/brands/{brand_id}/budget",
    response={200: BrandBudgetOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    auth=STATUS,
    summary="A brand's spend against its budgets",
    tags=["status"],
)
def brand_budget(request: HttpRequest, brand_id: Id) -> Status[dict[str, Any]]:
    """Today's and this month's spend (brand-local) against the budgets: remaining,
    overspend, and a straight-line projection to the end of the day and the month."""
    if not token_of(request).allows(brand_id):
        return Status(404, not_found("brand", brand_id))
    report = brand_budget_report(brand_id=brand_id, at=timezone.now())
    if report is None:
        return Status(404, not_found("brand", brand_id))
    return Status(200, _brand_body(report))


for module in (
    manage_brands,
    manage_campaigns,
    manage_flights,
    manage_shared_budgets,
    manage_budget_changes,
    manage_sources,
):
    api.add_router("", module.router)
