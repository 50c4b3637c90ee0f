"""The staff console's figures for whole pages of campaigns (a fixed number of queries per
page), when a paused campaign resumes, and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    QuerySet,
    Sum,
)

from ads.core.money import from_micros
from ads.core.periods import day_bounds, local_period, month_bounds, zone
from ads.models import (
    Brand,
    Campaign,
    CampaignPeriodSpend,
    CampaignStatus,
    CampaignStatusChange,
    DaypartWindow,
    JobName,
    JobOutcome,
    JobRun,
    PauseReason,
    SpendPeriod,
    schedule_is_open,
)
from ads.services.openings import opening_next
from ads.services.selectors.budgets import brands_with_spend

_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Resumption:
    """When a paused campaign can run again, as far as the rule can tell now."""

    at: datetime | None  # aware, in the brand's zone; None: only staff can resume it
    because: str


# Which period's end lifts each budget reason.
_DAY_REASONS = {PauseReason.BRAND_DAILY_BUDGET, PauseReason.CAMPAIGN_DAILY_BUDGET}
_MONTH_REASONS = {PauseReason.BRAND_MONTHLY_BUDGET, PauseReason.CAMPAIGN_MONTHLY_BUDGET}


def resumption(
    *, reason: str | None, at: datetime, timezone: str, windows: list[DaypartWindow] | None
) -> Resumption | None:
    """When a campaign paused for ``reason`` resumes by itself: the next local midnight (a
    daily budget), the first of next month (a monthly one), the next window opening (outside
    its schedule; also after a budget resets into a closed window), or never (staff paused
    it). None for a campaign that is not paused. No query; ``windows`` are its schedule's
    (None: no schedule). Spend recorded later can only push this further out."""
    if reason is None:
        return None
    if reason == PauseReason.MANUAL:
        return Resumption(at=None, because="when staff resume it")
    tz = zone(timezone)
    period = local_period(at, timezone)
    if reason in _DAY_REASONS:
        start, _ = day_bounds(period.day + timedelta(days=1), timezone)
        because = "next local midnight (new budget day)"
    elif reason in _MONTH_REASONS:
        _, start = month_bounds(period.month, timezone)
        because = "first of next month (new budget month)"
    else:
        start, because = at, "next window opening"
    if windows is not None:
        local = start.astimezone(tz)
        if reason == PauseReason.OUTSIDE_SCHEDULE or not schedule_is_open(windows, local):
            opening = opening_next(windows, at=start, timezone=timezone)
            if opening is None:
                return Resumption(at=None, because="never: its schedule has no windows")
            if reason != PauseReason.OUTSIDE_SCHEDULE:
                because += ", then its next window"
            return Resumption(at=opening.opens_at, because=because)
    return Resumption(at=start.astimezone(tz), because=because)


def windows_by_schedule(schedule_ids: set[int]) -> dict[int, list[DaypartWindow]]:
    """The windows of these schedules, in one query."""
    found: dict[int, list[DaypartWindow]] = {schedule_id: [] for schedule_id in schedule_ids}
    if schedule_ids:
        for window in DaypartWindow.objects.filter(schedule_id__in=schedule_ids):
            found[window.schedule_id].append(window)
    return found


@dataclass(frozen=True)
class CampaignFigures:
    """What a campaign list row shows beyond the stored fields."""

    day_spend: Decimal
    month_spend: Decimal
    resumes: Resumption | None


def campaign_figures(campaigns: list[Campaign], *, at: datetime) -> dict[int, CampaignFigures]:
    """Today's and this month's spend and the resumption of each campaign (brands loaded
    with them), in two queries whatever their number."""
    periods = {c.pk: local_period(at, c.brand.timezone) for c in campaigns}
    starts = {p.day for p in periods.values()} | {p.month for p in periods.values()}
    totals = {
        (row.campaign_id, row.period, row.period_start): row.amount
        for row in CampaignPeriodSpend.objects.filter(
            campaign_id__in=list(periods), period_start__in=starts
        )
    }
    windows = windows_by_schedule({c.schedule_id for c in campaigns if c.schedule_id})
    figures = {}
    for campaign in campaigns:
        period = periods[campaign.pk]
        figures[campaign.pk] = CampaignFigures(
            day_spend=totals.get((campaign.pk, SpendPeriod.DAY, period.day), _ZERO),
            month_spend=totals.get((campaign.pk, SpendPeriod.MONTH, period.month), _ZERO),
            resumes=resumption(
                reason=campaign.pause_reason,
                at=at,
                timezone=campaign.brand.timezone,
                windows=windows.get(campaign.schedule_id) if campaign.schedule_id else None,
            ),
        )
    return figures


# --- Staff console: the dashboard ---------------------------------------------------------

NEAR_BUDGET_PCT = 80


@dataclass(frozen=True)
class Dashboard:
    near_budget: list[Brand]  # from brands_with_spend, most spent first
    near_budget_count: int
    paused_last_hour: list[tuple[str, int]]  # (reason, campaigns)
    spend_today: list[tuple[str, Decimal, int]]  # (currency, amount, brands)
    last_runs: list[tuple[str, datetime | None]]  # (job, when its last success finished)


def dashboard(*, brands: QuerySet[Brand], at: datetime, limit: int = 10) -> Dashboard:
    """The admin's front page, for the brands a user may see, in a fixed number of queries.

    "Last run" of each periodic job comes from the job-run history (JobRun).
    """
    # Typed loosely: django-stubs cannot follow the annotations made by brands_with_spend.
    with_spend: QuerySet[Any] = brands_with_spend(brands, at=at)
    near = with_spend.filter(top_pct__gte=NEAR_BUDGET_PCT)
    paused = (
        CampaignStatusChange.objects.filter(
            at__gt=at - timedelta(hours=1),
            to_status=CampaignStatus.PAUSED,
            campaign__brand__in=brands,
        )
        .values_list("reason")
        .annotate(campaigns=Count("campaign_id", distinct=True))
        .order_by("-campaigns")
    )
    per_currency = (
        with_spend.filter(day_micros__gt=0)
        .order_by()
        .values("currency")
        .annotate(micros=Sum("day_micros"), brands=Count("id"))
        .order_by("currency")
    )
    # The job-run history: every run counts, also one that moved nothing (index job_run_last).
    last_runs = [
        (
            str(job),
            JobRun.objects.filter(job=job, outcome=JobOutcome.SUCCEEDED)
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first(),
        )
        for job in JobName
    ]
    return Dashboard(
        near_budget=list(near.order_by("-top_pct", "name")[:limit]),
        near_budget_count=near.count(),
        paused_last_hour=[(str(reason), int(count)) for reason, count in paused],
        spend_today=[
            (row["currency"], from_micros(row["micros"]), row["brands"]) for row in per_currency
        ],
        last_runs=last_runs,
    )
