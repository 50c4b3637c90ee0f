"""Shared budgets: a brand's list, created; one read, changed and deleted. A campaign joins
by either side (here, or its own `shared_budget`); one already in another is refused."""

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
    SharedBudgetCreate,
    SharedBudgetListOut,
    SharedBudgetOut,
    SharedBudgetPatch,
    SharedBudgetWriteOut,
)
from ads.services.preconditions import brand_write
from ads.services.rule import Transition
from ads.services.selectors.plans import (
    SharedBudgetReport,
    shared_budget_report,
    shared_budget_reports,
)
from ads.services.shared_budgets import (
    shared_budget_create,
    shared_budget_delete,
    shared_budget_update,
)

router = Router(tags=["shared budgets"])


def shared_state(report: SharedBudgetReport) -> dict[str, Any]:
    """What a client can set of a shared budget (its ETag is of this)."""
    shared = report.shared_budget
    return {
        "id": shared.pk,
        "brand": shared.brand_id,
        "name": shared.name,
        "daily_budget": shared.daily_budget,
        "monthly_budget": shared.monthly_budget,
        "campaigns": report.campaign_ids,
    }


def _body(report: SharedBudgetReport) -> dict[str, Any]:
    return {
        **shared_state(report),
        "day_spend": report.day_spend,
        "month_spend": report.month_spend,
        "daily_budget_in_force": report.daily_budget,
        "monthly_budget_in_force": report.monthly_budget,
    }


def _visible(request: HttpRequest, shared_id: int) -> SharedBudgetReport | None:
    report = shared_budget_report(shared_budget_id=shared_id, at=timezone.now())
    if report is None or not token_of(request).allows(report.shared_budget.brand_id):
        return None
    return report


def _version(shared_id: int) -> str | None:
    report = shared_budget_report(shared_budget_id=shared_id, at=timezone.now())
    return None if report is None else etag(shared_state(report))


def _answer(shared_id: int, transitions: list[Transition], response: HttpResponse) -> Any:
    report = shared_budget_report(shared_budget_id=shared_id, at=timezone.now())
    if report is None:
        vanished("shared budget", shared_id)
    tagged(response, etag(shared_state(report)))
    return {**_body(report), "transitions": transitions_body(transitions)}


@router.get(
    "/brands/{brand_id}/shared-budgets",
    response={200: SharedBudgetListOut, **READ_ERRORS},
    auth=READ,
    summary="A brand's shared budgets",
)
def shared_budgets_list(request: HttpRequest, brand_id: Id) -> Status[Any]:
    """The brand's shared budgets by name, with today's and this month's spend."""
    if visible_brand(request, brand_id) is None:
        return Status(404, not_found("brand", brand_id))
    reports = shared_budget_reports(brand_id=brand_id, at=timezone.now())
    return Status(200, {"items": [_body(report) for report in reports]})


@router.post(
    "/brands/{brand_id}/shared-budgets",
    response={201: SharedBudgetWriteOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Create a shared budget",
)
def shared_budgets_create(
    request: HttpRequest, brand_id: Id, payload: SharedBudgetCreate, response: HttpResponse
) -> Status[Any]:
    """One pot several campaigns of the brand draw on, per day and/or month (at least one),
    enforced at once: reaching it pauses them `shared_daily_budget` or
    `shared_monthly_budget`."""
    if visible_brand(request, brand_id) is None:
        return Status(404, not_found("brand", brand_id))
    shared, transitions = shared_budget_create(
        brand_id=brand_id,
        name=payload.name,
        daily_budget=payload.daily_budget,
        monthly_budget=payload.monthly_budget,
        campaign_ids=payload.campaigns,
        at=timezone.now(),
        actor=actor_of(request),
    )
    return Status(201, _answer(shared.pk, transitions, response))


@router.get(
    "/shared-budgets/{shared_budget_id}",
    response={200: SharedBudgetOut, **READ_ERRORS},
    auth=READ,
    summary="A shared budget",
)
def shared_budget_detail(
    request: HttpRequest, shared_budget_id: Id, response: HttpResponse
) -> Status[Any]:
    """A shared budget with its spend and ETag (send it back as If-Match)."""
    report = _visible(request, shared_budget_id)
    if report is None:
        return Status(404, not_found("shared budget", shared_budget_id))
    tagged(response, etag(shared_state(report)))
    return Status(200, _body(report))


@router.patch(
    "/shared-budgets/{shared_budget_id}",
    response={200: SharedBudgetWriteOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Change a shared budget",
)
def shared_budget_patch(
    request: HttpRequest,
    shared_budget_id: Id,
    payload: SharedBudgetPatch,
    response: HttpResponse,
    precondition: IfMatch = None,
) -> Status[Any]:
    """Change the fields sent (`campaigns` replaces the set; a campaign in another shared
    budget is refused, naming it), enforced at once. With If-Match, only if the shared
    budget is still as last read (else 412)."""
    report = _visible(request, shared_budget_id)
    if report is None:
        return Status(404, not_found("shared budget", shared_budget_id))
    changes: dict[str, Any] = {
        ("campaign_ids" if field == "campaigns" else field): getattr(payload, field)
        for field in payload.model_fields_set
    }
    at, actor = timezone.now(), actor_of(request)

    def write() -> list[Transition]:
        return shared_budget_update(
            shared_budget_id=shared_budget_id, changes=changes, at=at, actor=actor
        )[1]

    transitions = brand_write(
        brand_id=report.shared_budget.brand_id,
        write=write,
        expected=if_match(precondition),
        version=lambda: _version(shared_budget_id),
    )
    return Status(200, _answer(shared_budget_id, transitions, response))


@router.delete(
    "/shared-budgets/{shared_budget_id}",
    response={200: DeletedOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Delete a shared budget",
)
def shared_budget_remove(
    request: HttpRequest, shared_budget_id: Id, precondition: IfMatch = None
) -> Status[Any]:
    """Its campaigns leave it and run on their other budgets; the answer lists the
    transitions. With If-Match, only if unchanged since read."""
    report = _visible(request, shared_budget_id)
    if report is None:
        return Status(404, not_found("shared budget", shared_budget_id))
    at, actor = timezone.now(), actor_of(request)
    transitions = brand_write(
        brand_id=report.shared_budget.brand_id,
        write=lambda: shared_budget_delete(shared_budget_id=shared_budget_id, at=at, actor=actor),
        expected=if_match(precondition),
        version=lambda: _version(shared_budget_id),
    )
    return Status(200, {"id": shared_budget_id, "transitions": transitions_body(transitions)})
