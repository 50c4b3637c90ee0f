"""Flights: a brand's list, created; one flight read, changed and deleted. Each write is
enforced at once and answers the transitions it caused."""

from __future__ import annotations

from typing import Any

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
    token_of,
    transitions_body,
    vanished,
    visible_brand,
)
from ads.api.plan_schemas import (
    DeletedOut,
    FlightCreate,
    FlightListOut,
    FlightOut,
    FlightPatch,
    FlightWriteOut,
)
from ads.services.flights import flight_create, flight_delete, flight_update
from ads.services.preconditions import brand_write
from ads.services.rule import Transition
from ads.services.selectors.plans import FlightReport, flight_report, flight_reports

router = Router(tags=["flights"])


def flight_state(report: FlightReport) -> dict[str, Any]:
    """What a client can set of a flight (its ETag is of this)."""
    flight = report.flight
    return {
        "id": flight.pk,
        "brand": flight.brand_id,
        "name": flight.name,
        "starts_on": flight.starts_on,
        "ends_on": flight.ends_on,
        "budget": flight.budget,
        "campaigns": report.campaign_ids,
    }


def _body(report: FlightReport) -> dict[str, Any]:
    return {
        **flight_state(report),
        "spend": report.spend,
        "remaining": report.remaining,
        "days_left": report.days_left,
        "projected": report.projected,
        "pace": report.pace,
        "on_pace": report.on_pace,
    }


def _visible(request: HttpRequest, flight_id: int) -> FlightReport | None:
    report = flight_report(flight_id=flight_id, at=timezone.now())
    if report is None or not token_of(request).allows(report.flight.brand_id):
        return None
    return report


def _version(flight_id: int) -> str | None:
    report = flight_report(flight_id=flight_id, at=timezone.now())
    return None if report is None else etag(flight_state(report))


def _answer(flight_id: int, transitions: list[Transition], response: HttpResponse) -> Any:
    report = flight_report(flight_id=flight_id, at=timezone.now())
    if report is None:
        vanished("flight", flight_id)
    tagged(response, etag(flight_state(report)))
    return {**_body(report), "transitions": transitions_body(transitions)}


@router.get(
    "/brands/{brand_id}/flights",
    response={200: FlightListOut, **READ_ERRORS},
    auth=READ,
    summary="A brand's flights",
)
def flights_list(request: HttpRequest, brand_id: Id) -> Status[Any]:
    """The brand's flights by start date, with spend, remaining, days left and projection."""
    if visible_brand(request, brand_id) is None:
        return Status(404, not_found("brand", brand_id))
    reports = flight_reports(brand_id=brand_id, at=timezone.now())
    return Status(200, {"items": [_body(report) for report in reports]})


@router.post(
    "/brands/{brand_id}/flights",
    response={201: FlightWriteOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Create a flight",
)
def flights_create(
    request: HttpRequest, brand_id: Id, payload: FlightCreate, response: HttpResponse
) -> Status[Any]:
    """A total budget over brand-local dates (both inclusive) for some of the brand's
    campaigns, enforced at once: its campaigns run only on its dates (before the start
    they pause `outside_flight`) and pause `flight_budget` when their spend on its dates
    reaches the budget. A campaign's flights may not overlap."""
    if visible_brand(request, brand_id) is None:
        return Status(404, not_found("brand", brand_id))
    flight, transitions = flight_create(
        brand_id=brand_id,
        name=payload.name,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        budget=payload.budget,
        campaign_ids=payload.campaigns,
        at=timezone.now(),
        actor=actor_of(request),
    )
    return Status(201, _answer(flight.pk, transitions, response))


@router.get(
    "/flights/{flight_id}", response={200: FlightOut, **READ_ERRORS}, auth=READ, summary="A flight"
)
def flight_detail(request: HttpRequest, flight_id: Id, response: HttpResponse) -> Status[Any]:
    """A flight with its figures and ETag (send it back as If-Match)."""
    report = _visible(request, flight_id)
    if report is None:
        return Status(404, not_found("flight", flight_id))
    tagged(response, etag(flight_state(report)))
    return Status(200, _body(report))


@router.patch(
    "/flights/{flight_id}",
    response={200: FlightWriteOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Change a flight",
)
def flight_patch(
    request: HttpRequest,
    flight_id: Id,
    payload: FlightPatch,
    response: HttpResponse,
    precondition: IfMatch = None,
) -> Status[Any]:
    """Change the fields sent (`campaigns` replaces the set), enforced at once: a flight
    that ended can be extended and its campaigns resume. With If-Match, only if the flight
    is still as last read (else 412)."""
    report = _visible(request, flight_id)
    if report is None:
        return Status(404, not_found("flight", flight_id))
    changes: dict[str, Any] = {
        ("campaign_ids" if field == "campaigns" else field): getattr(payload, field)
        for field in payload.model_fields_set
    }
    at, actor = timezone.now(), actor_of(request)

    def write() -> list[Transition]:
        return flight_update(flight_id=flight_id, changes=changes, at=at, actor=actor)[1]

    transitions = brand_write(
        brand_id=report.flight.brand_id,
        write=write,
        expected=if_match(precondition),
        version=lambda: _version(flight_id),
    )
    return Status(200, _answer(flight_id, transitions, response))


@router.delete(
    "/flights/{flight_id}",
    response={200: DeletedOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Delete a flight",
)
def flight_remove(request: HttpRequest, flight_id: Id, precondition: IfMatch = None) -> Status[Any]:
    """Its campaigns follow their other flights, or none (and run as campaigns in no flight
    do); the answer lists the transitions. With If-Match, only if unchanged since read."""
    report = _visible(request, flight_id)
    if report is None:
        return Status(404, not_found("flight", flight_id))
    at, actor = timezone.now(), actor_of(request)
    transitions = brand_write(
        brand_id=report.flight.brand_id,
        write=lambda: flight_delete(flight_id=flight_id, at=at, actor=actor),
        expected=if_match(precondition),
        version=lambda: _version(flight_id),
    )
    return Status(200, {"id": flight_id, "transitions": transitions_body(transitions)})
