"""Campaigns: a brand's list, one campaign's state and why (a status read, with its
settings), created and changed (name, external id, caps, schedule, enabled, shared budget)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from ads.api.auth import MANAGE, READ, STATUS
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
)
from ads.api.manage_schemas import (
    READ_ONLY,
    CampaignCreate,
    CampaignDetailOut,
    CampaignListOut,
    CampaignPatch,
    CampaignWriteOut,
)
from ads.core.currency import budget_problem
from ads.models import Campaign
from ads.services.campaigns import campaign_save
from ads.services.openings import Opening
from ads.services.preconditions import brand_write
from ads.services.rule import Transition
from ads.services.selectors.catalog import (
    brand_get,
    campaign_get,
    campaigns_of_brand,
    schedule_get,
    shared_budget_brand,
)
from ads.services.selectors.explain import CampaignExplanation, campaign_explain
from ads.services.spend_input import MAX_ID

router = Router(tags=["campaigns"])

# The settings a client sets, as stored; SETTABLE maps the API's names to the model's.
SETTABLE = {
    "name": "name",
    "external_id": "external_id",
    "daily_budget": "daily_budget",
    "monthly_budget": "monthly_budget",
    "schedule": "schedule_id",
    "enabled": "enabled",
    "shared_budget": "shared_budget_id",
}


def campaign_state(campaign: Campaign) -> dict[str, Any]:
    """What a client can set of a campaign (its ETag is of this)."""
    return {
        "id": campaign.pk,
        "brand": campaign.brand_id,
        **{name: getattr(campaign, attribute) for name, attribute in SETTABLE.items()},
    }


def _version(campaign_id: int) -> str | None:
    campaign = campaign_get(campaign_id=campaign_id)
    return None if campaign is None else etag(campaign_state(campaign))


def _ref(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": obj.name}


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
        "flight": (
            None
            if explained.flight is None
            else {
                "current_id": explained.flight.current_id,
                "current_name": explained.flight.current_name,
                "flights": [
                    {"name": name, "starts_on": first, "ends_on": last}
                    for name, first, last in explained.flight.flights
                ],
            }
        ),
        "daily_budget": campaign.daily_budget,
        "monthly_budget": campaign.monthly_budget,
        "shared_budget": _ref(campaign.shared_budget),
    }


def _answer(campaign_id: int, response: HttpResponse) -> dict[str, Any]:
    explained = campaign_explain(campaign_id=campaign_id, at=timezone.now())
    if explained is None:
        vanished("campaign", campaign_id)
    tagged(response, etag(campaign_state(explained.campaign)))
    return _campaign_body(explained)


@router.get(
    "/campaigns",
    response={200: CampaignListOut, **READ_ERRORS},
    auth=READ,
    summary="A brand's campaigns",
)
def campaigns_list(
    request: HttpRequest, brand: Annotated[int, Query(ge=1, le=MAX_ID, description="Brand id")]
) -> Status[Any]:
    """Every campaign of the brand, by id, with its settings and status."""
    unknown = sorted(set(request.GET) - {"brand"})
    if unknown:
        # A mistyped filter must not silently list everything it meant to narrow.
        raise ValidationError({unknown[0]: "unknown query parameter (this list takes brand)"})
    if not token_of(request).allows(brand) or brand_get(brand_id=brand) is None:
        return Status(404, not_found("brand", brand))
    items = [
        {
            **campaign_state(campaign),
            "status": campaign.status,
            "pause_reason": campaign.pause_reason,
            "schedule": _ref(campaign.schedule),
            "shared_budget": _ref(campaign.shared_budget),
        }
        for campaign in campaigns_of_brand(brand_id=brand)
    ]
    return Status(200, {"items": items})


@router.get(
    "/campaigns/{campaign_id}",
    response={200: CampaignDetailOut, **READ_ERRORS},
    auth=STATUS,
    summary="A campaign's state and why",
    tags=["status"],
)
def campaign_detail(request: HttpRequest, campaign_id: Id, response: HttpResponse) -> Status[Any]:
    """Status, pause reason, and the explanation: spend today and this month against each
    budget that applies, and the schedule window in force or the next one, in the brand's
    time zone; and the campaign's settings, with their ETag (send it back as If-Match)."""
    explained = campaign_explain(campaign_id=campaign_id, at=timezone.now())
    if explained is None or not token_of(request).allows(explained.campaign.brand_id):
        return Status(404, not_found("campaign", campaign_id))
    tagged(response, etag(campaign_state(explained.campaign)))
    return Status(200, _campaign_body(explained))


def _check(changes: Mapping[str, Any], *, brand_id: int, currency: str) -> None:
    """The settings' references and amounts, before anything is written."""
    problems = {
        field: f"{field} {problem}"
        for field in ("daily_budget", "monthly_budget")
        if changes.get(field) is not None
        and (problem := budget_problem(changes[field], currency)) is not None
    }
    schedule = changes.get("schedule")
    if schedule is not None and schedule_get(schedule_id=schedule) is None:
        problems["schedule"] = f"no schedule {schedule}"
    shared = changes.get("shared_budget")
    if shared is not None and shared_budget_brand(shared_budget_id=shared) != brand_id:
        problems["shared_budget"] = f"no shared budget {shared} in this brand"
    if problems:
        raise ValidationError(problems)


def _apply(
    campaign: Campaign, changes: Mapping[str, Any], *, at: datetime, actor: str
) -> list[Transition]:
    # One service call, one audit row: campaign_save also takes the campaign into (or out
    # of) a shared budget, refusing one already in another.
    for name, value in changes.items():
        setattr(campaign, SETTABLE[name], value)
    return campaign_save(campaign=campaign, at=at, actor=actor)


@router.post(
    "/campaigns",
    response={201: CampaignWriteOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Create a campaign",
)
def campaign_create(
    request: HttpRequest, payload: CampaignCreate, response: HttpResponse
) -> Status[Any]:
    """A new campaign of a brand, enforced at once (the answer lists the transition if it
    starts paused). Its name and external id are unique within the brand."""
    brand = brand_get(brand_id=payload.brand) if token_of(request).allows(payload.brand) else None
    if brand is None:
        return Status(404, not_found("brand", payload.brand))
    changes = payload.model_dump(exclude={"brand"})
    _check(changes, brand_id=brand.pk, currency=brand.currency)
    campaign = Campaign(brand=brand)
    transitions = _apply(campaign, changes, at=timezone.now(), actor=actor_of(request))
    body = _answer(campaign.pk, response)
    return Status(201, {**body, "transitions": transitions_body(transitions)})


@router.patch(
    "/campaigns/{campaign_id}",
    response={200: CampaignWriteOut, **WRITE_ERRORS},
    auth=MANAGE,
    summary="Change a campaign",
)
def campaign_patch(
    request: HttpRequest,
    campaign_id: Id,
    payload: CampaignPatch,
    response: HttpResponse,
    precondition: IfMatch = None,
) -> Status[Any]:
    """Change the fields sent (null clears a cap, the schedule or the shared budget),
    enforced at once: the answer lists the transitions. Its brand is read only. With
    If-Match, only if the campaign is still as last read (else 412)."""
    found = campaign_get(campaign_id=campaign_id)
    if found is None or not token_of(request).allows(found.brand_id):
        return Status(404, not_found("campaign", campaign_id))
    sent = payload.model_fields_set
    if "brand" in sent:
        raise ValidationError({"brand": f"brand {READ_ONLY}"})
    changes = {field: getattr(payload, field) for field in sent}
    _check(changes, brand_id=found.brand_id, currency=found.brand.currency)
    at, actor = timezone.now(), actor_of(request)

    def write() -> list[Transition]:
        stored = campaign_get(campaign_id=campaign_id) or vanished("campaign", campaign_id)
        return _apply(stored, changes, at=at, actor=actor)

    transitions = brand_write(
        brand_id=found.brand_id,
        write=write,
        expected=if_match(precondition),
        version=lambda: _version(campaign_id),
    )
    body = _answer(campaign_id, response)
    return Status(200, {**body, "transitions": transitions_body(transitions)})
