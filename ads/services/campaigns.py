"""Staff changes to brands, campaigns and schedules, each enforced at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction

from ads.models import (
    Brand,
    BudgetTarget,
    Campaign,
    ConfigAction,
    DaypartSchedule,
    DaypartWindow,
    FlightCampaign,
    SharedBudget,
    SpendEvent,
    Trigger,
    find_overlaps,
)
from ads.services.budget_calendar import stored_budget_edited
from ads.services.config_audit import config_change_record, snapshot
from ads.services.locks import brands_lock, brands_lock_for_change
from ads.services.plan_totals import shared_totals_rebuild
from ads.services.reconcile import log_transitions, reconcile_locked
from ads.services.rule import Scope, Transition


def campaigns_set_enabled(
    *, campaign_ids: Sequence[int], enabled: bool, at: datetime, actor: str
) -> list[Transition]:
    """Pause (enabled=False: reason `manual` at once) or resume campaigns by staff.

    Resuming reconciles at once: a campaign still over a budget or outside its schedule
    stays paused with that reason. Safe to run twice.
    """
    ids = tuple(sorted(set(campaign_ids)))
    with transaction.atomic():
        brand_ids = sorted(
            set(Campaign.objects.filter(id__in=ids).values_list("brand_id", flat=True))
        )
        brands_lock(brand_ids)
        Campaign.objects.filter(id__in=ids).exclude(enabled=enabled).update(
            enabled=enabled, updated_at=at
        )
        transitions = reconcile_locked(
            at=at, trigger=Trigger.STAFF, actor=actor, scope=Scope(campaign_ids=ids)
        )
    log_transitions(transitions, at=at, trigger=Trigger.STAFF, actor=actor)
    return transitions


def brand_change_check(*, brand_id: int | None, timezone: str) -> None:
    """Raise ValidationError if a stored brand (None: a new one) may not take these values.

    Its time zone cannot change once it has spend: recorded spend would move between days
    and months after the fact, and the period totals would no longer match the ledger.
    """
    if brand_id is None:
        return
    stored_timezone = Brand.objects.values_list("timezone", flat=True).get(pk=brand_id)
    if (
        stored_timezone != timezone
        and SpendEvent.objects.filter(campaign__brand_id=brand_id).exists()
    ):
        raise ValidationError(
            {
                "timezone": "The time zone cannot change once the brand has spend: "
                "recorded spend would move between days and months."
            }
        )


def campaign_change_check(*, campaign_id: int | None, brand_id: int) -> None:
    """Raise ValidationError if a stored campaign (None: a new one) may not take these values.

    A campaign with spend cannot move to another brand: its spend counts towards the
    brand it was spent for.
    """
    if campaign_id is None:
        return
    stored_brand = Campaign.objects.values_list("brand_id", flat=True).get(pk=campaign_id)
    if stored_brand != brand_id and SpendEvent.objects.filter(campaign_id=campaign_id).exists():
        raise ValidationError(
            {
                "brand": "A campaign with recorded spend cannot move to another brand: its "
                "spend counts towards the brand it was spent for."
            }
        )
    if stored_brand != brand_id and (
        FlightCampaign.objects.filter(campaign_id=campaign_id).exists()
        or Campaign.objects.filter(pk=campaign_id, shared_budget__isnull=False).exists()
    ):
        raise ValidationError(
            {
                "brand": "A campaign in a flight or shared budget cannot move to another "
                "brand: take it out of them first."
            }
        )


# What the configuration audit records of each (ConfigChange: the fields that changed).
BRAND_AUDITED = ("name", "timezone", "currency", "daily_budget", "monthly_budget")
CAMPAIGN_AUDITED = (
    "brand",
    "name",
    "external_id",
    "daily_budget",
    "monthly_budget",
    "schedule",
    "enabled",
    "shared_budget",
)


def brand_save(*, brand: Brand, at: datetime, actor: str) -> list[Transition]:
    """Create or update a brand, audit it and enforce its budgets at once. Safe to run twice
    (a second run changes nothing, so it records nothing)."""
    with transaction.atomic():
        adding = brand._state.adding
        if not adding:
            brands_lock([brand.pk])
        brand_change_check(brand_id=None if adding else brand.pk, timezone=brand.timezone)
        before = None if adding else snapshot(Brand.objects.get(pk=brand.pk), BRAND_AUDITED)
        brand.full_clean()
        brand.save()
        if before is not None:
            stored_budget_edited(
                brand=brand,
                target=BudgetTarget.BRAND,
                owner_id=brand.pk,
                daily=(before["daily_budget"], brand.daily_budget),
                monthly=(before["monthly_budget"], brand.monthly_budget),
                at=at,
                actor=actor,
            )
        config_change_record(
            brand_id=brand.pk,
            obj=brand,
            object_type="brand",
            action=ConfigAction.CREATED if adding else ConfigAction.CHANGED,
            before=before,
            # As stored (the money field's own precision), like `before`.
            after=snapshot(Brand.objects.get(pk=brand.pk), BRAND_AUDITED),
            actor=actor,
            at=at,
        )
        transitions = reconcile_locked(
            at=at, trigger=Trigger.SETUP, actor=actor, scope=Scope(brand_ids=(brand.pk,))
        )
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return transitions


def campaign_shared_budget_check(campaign: Campaign, stored: int | None) -> None:
    """A campaign joins a shared budget of its own brand, and one in another shared budget
    is refused, never moved silently (``ads.services.shared_budgets``)."""
    new = campaign.shared_budget_id
    if new is None or new == stored:
        return
    target = SharedBudget.objects.filter(pk=new).first()
    if target is None or target.brand_id != campaign.brand_id:
        raise ValidationError({"shared_budget": "Choose a shared budget of the campaign's brand."})
    if stored is not None:
        other = SharedBudget.objects.get(pk=stored)
        raise ValidationError(
            {
                "shared_budget": f"The campaign is already in shared budget {other.name!r}: "
                "remove it there first (a campaign shares at most one)."
            }
        )


def campaign_save(*, campaign: Campaign, at: datetime, actor: str) -> list[Transition]:
    """Create or update a campaign's settings, audit them and enforce them at once. Safe to
    run twice (a second run changes nothing, so it records nothing).

    The engine's fields (status, reason, changed-at) are never written from here, so an
    edit form loaded before a pause cannot undo it. See campaign_change_check.
    """
    with transaction.atomic():
        adding = campaign._state.adding
        stored_brand, stored_shared = (
            Campaign.objects.values_list("brand_id", "shared_budget_id").get(pk=campaign.pk)
            if not adding
            else (campaign.brand_id, None)
        )
        brands_lock_for_change({stored_brand, campaign.brand_id}, at)
        campaign_change_check(
            campaign_id=None if adding else campaign.pk,
            brand_id=campaign.brand_id,
        )
        campaign_shared_budget_check(campaign, stored_shared)
        before = (
            None if adding else snapshot(Campaign.objects.get(pk=campaign.pk), CAMPAIGN_AUDITED)
        )
        if not adding:
            campaign.full_clean()
            fields = [
                f.name
                for f in Campaign._meta.concrete_fields
                if not f.primary_key and f.name not in Campaign.ENGINE_FIELDS
            ]
            campaign.save(update_fields=fields)
        else:
            campaign.full_clean()
            campaign.save()
        config_change_record(
            brand_id=campaign.brand_id,
            obj=campaign,
            object_type="campaign",
            action=ConfigAction.CREATED if adding else ConfigAction.CHANGED,
            before=before,
            after=snapshot(Campaign.objects.get(pk=campaign.pk), CAMPAIGN_AUDITED),
            actor=actor,
            at=at,
        )
        if before is not None:
            stored_budget_edited(
                brand=Brand.objects.get(pk=campaign.brand_id),
                target=BudgetTarget.CAMPAIGN,
                owner_id=campaign.pk,
                daily=(before["daily_budget"], campaign.daily_budget),
                monthly=(before["monthly_budget"], campaign.monthly_budget),
                at=at,
                actor=actor,
            )
        if campaign.shared_budget_id != stored_shared:
            shared_totals_rebuild([v for v in (stored_shared, campaign.shared_budget_id) if v])
            scope = Scope(brand_ids=(campaign.brand_id,))  # the shared budget's others too
        else:
            scope = Scope(campaign_ids=(campaign.pk,))
        transitions = reconcile_locked(at=at, trigger=Trigger.SETUP, actor=actor, scope=scope)
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    campaign.refresh_from_db(fields=list(Campaign.ENGINE_FIELDS))
    return transitions


WINDOW_EQUAL_TIMES_RULE = (
    "A window cannot end at its start time, except 00:00-00:00, which means the whole day. "
    "For 24 hours from another time, use two windows (for example 09:00-00:00 and "
    "00:00-09:00 on the next day)."
)


def window_times_problem(window: DaypartWindow) -> str | None:
    """Why staff may not enter these times (an equal end reads like a zero-length window
    but would run 24 hours), or None."""
    if window.start_time == window.end_time and window.start_time != time(0, 0):
        return WINDOW_EQUAL_TIMES_RULE
    return None


def schedule_windows_validate(windows: Sequence[DaypartWindow]) -> None:
    """Raise ValidationError if a window's times break the rule above, or if two windows of
    one schedule share any minute."""
    for window in windows:
        problem = window_times_problem(window)
        if problem is not None:
            raise ValidationError(f"{window}: {problem}", code="equal_times")
    overlaps = find_overlaps(windows)
    if overlaps:
        described = "; ".join(f"{first} and {second}" for first, second in overlaps)
        raise ValidationError(f"Windows overlap: {described}.", code="overlap")


def schedule_changed(*, schedule: DaypartSchedule, at: datetime, actor: str) -> list[Transition]:
    """Enforce a schedule's windows at once on every campaign using it. Safe to run twice."""
    schedule_windows_validate(list(schedule.windows.all()))
    with transaction.atomic():
        campaign_ids = tuple(schedule.campaigns.values_list("id", flat=True).order_by("id"))
        brand_ids = sorted(set(schedule.campaigns.values_list("brand_id", flat=True)))
        brands_lock(brand_ids)
        transitions = reconcile_locked(
            at=at, trigger=Trigger.SETUP, actor=actor, scope=Scope(campaign_ids=campaign_ids)
        )
    log_transitions(transitions, at=at, trigger=Trigger.SETUP, actor=actor)
    return transitions
