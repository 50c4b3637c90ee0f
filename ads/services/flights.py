"""Flights: created, changed and deleted by staff or the management API, each enforced at
once (a campaign outside its flights' dates pauses ``outside_flight``, one whose flight is
spent pauses ``flight_budget``, and they resume when a change lifts it). Under the brand's
lock, a campaign's flights never overlap; the flight's running total is rebuilt from the
campaign totals whenever its dates or campaigns change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ads.models import Brand, ConfigAction, Flight, FlightCampaign, Trigger
from ads.services.config_audit import snapshot
from ads.services.locks import brands_lock_for_change
from ads.services.plan_checks import (
    brand_campaigns,
    brand_enforce,
    plan_name,
    plan_record,
    planned_budget,
)
from ads.services.plan_totals import flight_totals_rebuild
from ads.services.reconcile import log_transitions
from ads.services.rule import Transition

FIELDS = ("name", "starts_on", "ends_on", "budget")
CHANGEABLE = frozenset(FIELDS) | {"campaign_ids"}


def _state(flight: Flight) -> dict[str, Any]:
    values = snapshot(flight, FIELDS)
    values["campaigns"] = sorted(
        FlightCampaign.objects.filter(flight=flight).values_list("campaign_id", flat=True)
    )
    return values


def _dates(starts_on: object, ends_on: object) -> tuple[date, date]:
    for field, value in (("starts_on", starts_on), ("ends_on", ends_on)):
        if not isinstance(value, date):
            raise ValidationError({field: "Give a date (YYYY-MM-DD)."})
    assert isinstance(starts_on, date) and isinstance(ends_on, date)
    if ends_on < starts_on:
        raise ValidationError(
            {"ends_on": f"The flight cannot end ({ends_on}) before it starts ({starts_on})."}
        )
    return starts_on, ends_on


def _overlaps_check(
    flight_id: int | None, campaign_ids: Sequence[int], starts_on: date, ends_on: date
) -> None:
    """Refuse a campaign whose other flights share a date with these."""
    others = FlightCampaign.objects.filter(
        campaign_id__in=campaign_ids, flight__starts_on__lte=ends_on, flight__ends_on__gte=starts_on
    )
    if flight_id is not None:
        others = others.exclude(flight_id=flight_id)
    clash = others.select_related("flight", "campaign").order_by("campaign_id").first()
    if clash is not None:
        other = clash.flight
        raise ValidationError(
            {
                "campaigns": f"Campaign {clash.campaign.name!r} is already in flight "
                f"{other.name!r} ({other.starts_on} to {other.ends_on}), whose dates overlap "
                "these: a campaign's flights may not overlap."
            }
        )


def _members_set(flight: Flight, campaign_ids: Sequence[int]) -> None:
    FlightCampaign.objects.filter(flight=flight).exclude(campaign_id__in=campaign_ids).delete()
    have = set(FlightCampaign.objects.filter(flight=flight).values_list("campaign_id", flat=True))
    FlightCampaign.objects.bulk_create(
        [FlightCampaign(flight=flight, campaign_id=cid) for cid in campaign_ids if cid not in have]
    )


def _save(flight: Flight) -> None:
    try:
        with transaction.atomic():
            flight.save()
    except IntegrityError:
        raise ValidationError(
            {"name": f"This brand already has a flight named {flight.name!r}."}
        ) from None


def flight_create(
    *,
    brand_id: int,
    name: str,
    starts_on: date,
    ends_on: date,
    budget: object,
    campaign_ids: Sequence[int],
    at: datetime,
    actor: str,
) -> tuple[Flight, list[Transition]]:
    """A new flight for the brand's campaigns, enforced at once. Bad input (end before
    start, a campaign of another brand or already in an overlapping flight, a budget that
    is not above zero or has more decimals than the currency) changes nothing."""
    with transaction.atomic():
        brands_lock_for_change([brand_id], at)
        brand = Brand.objects.get(pk=brand_id)
        first, last = _dates(starts_on, ends_on)
        amount = planned_budget(budget, brand, "budget", required=True)
        assert amount is not None
        flight = Flight(
            brand=brand,
            name=plan_name(name, "flight"),
            starts_on=first,
            ends_on=last,
            budget=amount,
        )
        campaigns = brand_campaigns(brand_id, campaign_ids, "campaigns")
        ids = [campaign.pk for campaign in campaigns]
        _overlaps_check(None, ids, first, last)
        _save(flight)
        _members_set(flight, ids)
        flight_totals_rebuild([flight.pk])
        plan_record(
            flight, brand_id, "flight", ConfigAction.CREATED, None, _state(flight), at, actor
        )
        transitions = brand_enforce(brand_id, at, actor)
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return flight, transitions


def flight_update(
    *, flight_id: int, changes: Mapping[str, Any], at: datetime, actor: str
) -> tuple[Flight, list[Transition]]:
    """Change a flight's name, dates, budget and/or campaigns (``campaign_ids`` replaces
    the set), enforced at once; a flight that ended can be extended, and its campaigns
    resume if the new dates hold today."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed."})
    brand_id = Flight.objects.values_list("brand_id", flat=True).get(pk=flight_id)
    with transaction.atomic():
        brands_lock_for_change([brand_id], at)
        flight = Flight.objects.select_related("brand").get(pk=flight_id)
        before = _state(flight)
        if "name" in changes:
            flight.name = plan_name(changes["name"], "flight")
        if "budget" in changes:
            amount = planned_budget(changes["budget"], flight.brand, "budget", required=True)
            assert amount is not None
            flight.budget = amount
        flight.starts_on, flight.ends_on = _dates(
            changes.get("starts_on", flight.starts_on), changes.get("ends_on", flight.ends_on)
        )
        if "campaign_ids" in changes:
            campaigns = brand_campaigns(brand_id, changes["campaign_ids"], "campaigns")
            ids = [campaign.pk for campaign in campaigns]
        else:
            ids = before["campaigns"]
        _overlaps_check(flight.pk, ids, flight.starts_on, flight.ends_on)
        _save(flight)
        _members_set(flight, ids)
        flight_totals_rebuild([flight.pk])
        plan_record(
            flight, brand_id, "flight", ConfigAction.CHANGED, before, _state(flight), at, actor
        )
        transitions = brand_enforce(brand_id, at, actor)
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return flight, transitions


def flight_delete(*, flight_id: int, at: datetime, actor: str) -> list[Transition]:
    """Delete a flight; its campaigns follow their other flights, or none (and run as
    campaigns in no flight do)."""
    brand_id = Flight.objects.values_list("brand_id", flat=True).get(pk=flight_id)
    with transaction.atomic():
        brands_lock_for_change([brand_id], at)
        flight = Flight.objects.get(pk=flight_id)
        before = _state(flight)
        plan_record(flight, brand_id, "flight", ConfigAction.DELETED, before, None, at, actor)
        flight.delete()
        transitions = brand_enforce(brand_id, at, actor)
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return transitions
