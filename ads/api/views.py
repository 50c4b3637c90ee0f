"""Endpoints: thin wrappers. Parse, call one service or selector, shape the answer."""

from __future__ import annotations

import logging
from typing import Annotated, Any, cast

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Path, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import Field

from ads.api.auth import BearerToken
from ads.api.parser import ExactNumberParser, UnsupportedMediaType
from ads.api.schemas import (
    BrandBudgetOut,
    CampaignOut,
    DailyTotalsIn,
    DailyTotalsOut,
    ErrorOut,
    SpendEventsIn,
    SpendEventsOut,
)
from ads.services.daily_totals import TotalStatus, daily_totals_ingest
from ads.services.ingest import spend_ingest
from ads.services.openings import Opening
from ads.services.selectors.budgets import BrandBudgetReport, brand_budget_report
from ads.services.selectors.explain import CampaignExplanation, campaign_explain
from ads.services.spend_events import EventStatus
from ads.services.spend_input import MAX_ID
from ads.services.tokens import AuthenticatedToken

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Ad budget control API",
    version="1",
    description=(
        "Feed spend in and read budget state. Authenticate with `Authorization: Bearer "
        "<token>` (create one in the admin or with `manage.py create_api_token`). Amounts are "
        "decimal strings; instants are ISO-8601 with an offset. Send a body as JSON with "
        "`Content-Type: application/json` (parameters such as `charset` aside): any other "
        "Content-Type, or none, is refused with 415. A batch answers 200 when at "
        "least one item was taken (or all were already known), 422 when every item was "
        "rejected; each item carries its own status and reason."
    ),
    urls_namespace="api-v1",
    auth=BearerToken(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=ExactNumberParser(),
)

# A path id is a PostgreSQL bigint; anything else is a 422, not a query.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    413: ErrorOut,
    415: ErrorOut,
    422: ErrorOut,
}
# A 422 is either a batch whose every item was rejected (the batch body, with `detail`) or a
# malformed envelope (ErrorOut). Tried in that order: in pydantic's default "smart" mode the
# batch body could be cut down to the smaller ErrorOut.
SpendEventsRejected = Annotated[SpendEventsOut | ErrorOut, Field(union_mode="left_to_right")]
DailyTotalsRejected = Annotated[DailyTotalsOut | ErrorOut, Field(union_mode="left_to_right")]


def _token(request: HttpRequest) -> AuthenticatedToken:
    return cast(AuthenticatedToken, request.auth)  # type: ignore[attr-defined]


def _actor(request: HttpRequest) -> str:
    return f"api:{_token(request).name}"


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
        actor=_actor(request),
        allowed_brand_ids=_token(request).brand_ids,
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
        actor=_actor(request),
        allowed_brand_ids=_token(request).brand_ids,
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


def _opening(opening: Opening | None) -> dict[str, Any] | None:
    if opening is None:
        return None
    return {
        "weekday": opening.weekday,
        "opens_at": opening.opens_at,
        "closes_at": opening.closes_at,
    }


def _campaign_body(explained: CampaignExplanation) -> dict[str, Any]:
    campaign, brand = explained.campaign, explained.campaign.brand
    schedule = explained.schedule
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "external_id": campaign.external_id,
        "brand": {
            "id": brand.pk,
            "name": brand.name,
            "timezone": brand.timezone,
            "currency": brand.currency,
        },
        "enabled": campaign.enabled,
        "status": campaign.status,
        "pause_reason": campaign.pause_reason,
        "status_changed_at": campaign.status_changed_at,
        "evaluated_at": explained.at,
        "local_time": explained.local_time,
        "should_be_status": explained.should_be_status,
        "should_be_reason": explained.should_be_reason,
        "budgets": [line.__dict__ for line in explained.budgets],
        "schedule": (
            None
            if schedule is None
            else {
                "id": schedule.id,
                "name": schedule.name,
                "open": schedule.open,
                "current_window": _opening(schedule.current),
                "next_window": _opening(schedule.next),
            }
        ),
    }


@api.get(
    "/campaigns/{campaign_id}",
    response={200: CampaignOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="A campaign's state and why",
    tags=["status"],
)
def campaign_detail(request: HttpRequest, campaign_id: Id) -> Status[dict[str, Any]]:
    """Status, pause reason, and the explanation: spend today and this month against each
    budget that applies, and the schedule window in force or the next one, in the brand's
    time zone."""
    explained = campaign_explain(campaign_id=campaign_id, at=timezone.now())
    if explained is None or not _token(request).allows(explained.campaign.brand_id):
        return Status(404, {"detail": f"no campaign {campaign_id} for this token"})
    return Status(200, _campaign_body(explained))


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
    response={200: BrandBudgetOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="A brand's spend against its budgets",
    tags=["status"],
)
def brand_budget(request: HttpRequest, brand_id: Id) -> Status[dict[str, Any]]:
    """Today's and this month's spend (brand-local) against the budgets: remaining,
    overspend, and a straight-line projection to the end of the day and the month."""
    if not _token(request).allows(brand_id):
        return Status(404, {"detail": f"no brand {brand_id} for this token"})
    report = brand_budget_report(brand_id=brand_id, at=timezone.now())
    if report is None:
        return Status(404, {"detail": f"no brand {brand_id} for this token"})
    return Status(200, _brand_body(report))
