"""Brands: list, read, change their budgets (time zone and currency are read only)."""

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
    token_of,
    transitions_body,
    vanished,
    visible_brand,
)
from ads.api.manage_schemas import READ_ONLY, BrandListOut, BrandOut, BrandPatch, BrandWriteOut
from ads.core.currency import budget_problem
from ads.core.periods import local_date
from ads.models import Brand, BudgetTarget
from ads.services.campaigns import brand_save
from ads.services.preconditions import brand_write
from ads.services.rule import Transition
from ads.services.selectors.catalog import brand_get, brands_visible
from ads.services.selectors.plans import BudgetsInForce, budgets_in_force

router = Router(tags=["brands"])


def brand_state(brand: Brand) -> dict[str, Any]:
    """What a client can see and set of a brand (its ETag is of this)."""
    return {
        "id": brand.pk,
        "name": brand.name,
        "timezone": brand.timezone,
        "currency": brand.currency,
        "daily_budget": brand.daily_budget,
        "monthly_budget": brand.monthly_budget,
    }


def _detail(brand: Brand) -> dict[str, Any]:
    in_force = budgets_in_force(
        brand_id=brand.pk,
        target=BudgetTarget.BRAND,
        owner_id=brand.pk,
        stored=BudgetsInForce(brand.daily_budget, brand.monthly_budget),
        on=local_date(timezone.now(), brand.timezone),
    )
    return {**brand_state(brand), "budgets_in_force": in_force.__dict__}


def _version(brand_id: int) -> str | None:
    brand = brand_get(brand_id=brand_id)
    return None if brand is None else etag(brand_state(brand))


@router.get("/brands", response={200: BrandListOut, **READ_ERRORS}, auth=READ, summary="Brands")
def brands_list(request: HttpRequest) -> dict[str, Any]:
    """The brands this token may reach, by name."""
    brands = brands_visible(brand_ids=token_of(request).brand_ids)
    return {"items": [brand_state(brand) for brand in brands]}


@router.get(
    "/brands/{brand_id}", response={200: BrandOut, **READ_ERRORS}, auth=READ, summary="A brand"
)
def brand_detail(request: HttpRequest, brand_id: Id, response: HttpResponse) -> Status[Any]:
    """A brand's zone, currency and budgets, with its ETag (send it back as If-Match)."""
    brand = visible_brand(request, brand_id)
    if brand is None:
        return Status(404, not_found("brand", brand_id))
    tagged(response, etag(brand_state(brand)))
    return Status(200, _detail(brand))


@router.patch(
    "/brands/{brand_id}",
    response={200: BrandWriteOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Change a brand's budgets",
)
def brand_patch(
    request: HttpRequest,
    brand_id: Id,
    payload: BrandPatch,
    response: HttpResponse,
    precondition: IfMatch = None,
) -> Status[Any]:
    """Set the daily and/or monthly budget, enforced at once: the answer lists the campaigns
    it paused or resumed. These are the brand's own budgets, in force on the days no budget
    change is (plan one with POST /brands/{id}/budget-changes to change them from a date).
    Name, time zone and currency are read only. With If-Match, only if
    the brand is still as last read (else 412)."""
    brand = visible_brand(request, brand_id)
    if brand is None:
        return Status(404, not_found("brand", brand_id))
    sent = payload.model_fields_set
    read_only = sorted(sent & {"name", "timezone", "currency"})
    if read_only:
        raise ValidationError({field: f"{field} {READ_ONLY}" for field in read_only})
    changes = {field: getattr(payload, field) for field in ("daily_budget", "monthly_budget")}
    changes = {field: value for field, value in changes.items() if field in sent}
    problems = {
        field: f"{field} {problem}"
        for field, value in changes.items()
        if (problem := budget_problem(value, brand.currency)) is not None
    }
    if problems:
        raise ValidationError(problems)
    at, actor = timezone.now(), actor_of(request)

    def write() -> list[Transition]:
        stored = brand_get(brand_id=brand_id) or vanished("brand", brand_id)
        for field, value in changes.items():
            setattr(stored, field, value)
        return brand_save(brand=stored, at=at, actor=actor)

    transitions = brand_write(
        brand_id=brand_id,
        write=write,
        expected=if_match(precondition),
        version=lambda: _version(brand_id),
    )
    stored = brand_get(brand_id=brand_id) or vanished("brand", brand_id)
    tagged(response, etag(brand_state(stored)))
    return Status(200, {**_detail(stored), "transitions": transitions_body(transitions)})
