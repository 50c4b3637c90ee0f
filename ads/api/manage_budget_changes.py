"""The budget calendar: a brand's budget changes (past ones are history), planned ones
created, and future ones deleted. From its date on, a change sets the daily and/or monthly
budget of the brand, one of its campaigns or one of its shared budgets."""

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
    BudgetChangeCreate,
    BudgetChangeListOut,
    BudgetChangeWriteOut,
    CampaignTarget,
    DeletedOut,
)
from ads.core.periods import local_date
from ads.models import Brand, BudgetChange, BudgetTarget
from ads.services.budget_calendar import budget_change_create, budget_change_delete
from ads.services.preconditions import brand_write
from ads.services.selectors.catalog import budget_change_get, budget_changes_of_brand

router = Router(tags=["budget calendar"])


def change_state(change: BudgetChange) -> dict[str, Any]:
    """A budget change as a client planned it (its ETag is of this)."""
    target: Any = "brand"
    if change.target == BudgetTarget.CAMPAIGN:
        target = {"campaign": change.campaign_id}
    elif change.target == BudgetTarget.SHARED_BUDGET:
        target = {"shared_budget": change.shared_budget_id}
    return {
        "id": change.pk,
        "brand": change.brand_id,
        "target": target,
        "effective_on": change.effective_on,
        "daily_budget": change.daily_budget,
        "monthly_budget": change.monthly_budget,
    }


def _body(change: BudgetChange, brand: Brand) -> dict[str, Any]:
    today = local_date(timezone.now(), brand.timezone)
    return {
        **change_state(change),
        "created_by": change.created_by,
        "created_at": change.created_at,
        "upcoming": change.effective_on > today,
    }


def _version(change_id: int) -> str | None:
    change = budget_change_get(change_id=change_id)
    return None if change is None else etag(change_state(change))


@router.get(
    "/brands/{brand_id}/budget-changes",
    response={200: BudgetChangeListOut, **READ_ERRORS},
    auth=READ,
    summary="A brand's budget calendar",
)
def budget_changes_list(request: HttpRequest, brand_id: Id) -> Status[Any]:
    """Every budget change of the brand and its campaigns and shared budgets, by date:
    `upcoming` ones can still be deleted; the others are history."""
    brand = visible_brand(request, brand_id)
    if brand is None:
        return Status(404, not_found("brand", brand_id))
    changes = budget_changes_of_brand(brand_id=brand_id)
    return Status(200, {"items": [_body(change, brand) for change in changes]})


@router.post(
    "/brands/{brand_id}/budget-changes",
    response={201: BudgetChangeWriteOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Plan a budget change",
)
def budget_changes_create(
    request: HttpRequest, brand_id: Id, payload: BudgetChangeCreate, response: HttpResponse
) -> Status[Any]:
    """From `effective_on` (brand-local, today or later) the target has this daily and/or
    monthly budget. One effective today applies at once (the answer lists its
    transitions); the engine reads the calendar itself, so a later one takes effect at
    the brand's midnight whether or not any job runs then."""
    brand = visible_brand(request, brand_id)
    if brand is None:
        return Status(404, not_found("brand", brand_id))
    target, target_id = BudgetTarget.BRAND, None
    if isinstance(payload.target, CampaignTarget):
        target, target_id = BudgetTarget.CAMPAIGN, payload.target.campaign
    elif not isinstance(payload.target, str):
        target, target_id = BudgetTarget.SHARED_BUDGET, payload.target.shared_budget
    change, transitions = budget_change_create(
        brand_id=brand_id,
        target=target,
        target_id=target_id,
        effective_on=payload.effective_on,
        daily_budget=payload.daily_budget,
        monthly_budget=payload.monthly_budget,
        at=timezone.now(),
        actor=actor_of(request),
    )
    # As stored (amounts at the money field's precision), like every later read of it.
    stored = budget_change_get(change_id=change.pk) or vanished("budget change", change.pk)
    tagged(response, etag(change_state(stored)))
    return Status(201, {**_body(stored, brand), "transitions": transitions_body(transitions)})


@router.delete(
    "/budget-changes/{change_id}",
    response={200: DeletedOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Delete a planned budget change",
)
def budget_change_remove(
    request: HttpRequest, change_id: Id, precondition: IfMatch = None
) -> Status[Any]:
    """Future changes only (one effective today or before is history: 422). With If-Match
    (the ETag its creation answered), only if unchanged since."""
    change = budget_change_get(change_id=change_id)
    if change is None or not token_of(request).allows(change.brand_id):
        return Status(404, not_found("budget change", change_id))
    at, actor = timezone.now(), actor_of(request)
    transitions = brand_write(
        brand_id=change.brand_id,
        write=lambda: budget_change_delete(change_id=change_id, at=at, actor=actor),
        expected=if_match(precondition),
        version=lambda: _version(change_id),
    )
    return Status(200, {"id": change_id, "transitions": transitions_body(transitions)})
