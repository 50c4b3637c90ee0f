"""Reads shared by the API and the admin: why a campaign is in its state, and where a
brand stands against its budgets. Spend figures and the verdict come from the engine's own
evaluation (``reconcile.evaluate``), so an explanation can never disagree with the rule."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateField,
    ExpressionWrapper,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest

from ads.core.money import from_micros, quantize
from ads.core.periods import day_bounds, local_period, month_bounds, zone
from ads.models import (
    Brand,
    BrandPeriodSpend,
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
from ads.services.openings import Opening, opening_current, opening_next
from ads.services.rule import Scope, evaluate

_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class BudgetLine:
    scope: str  # "brand" | "campaign"
    period: str  # "day" | "month"
    period_start: date
    spend: Decimal
    budget: Decimal
    remaining: Decimal
    exhausted: bool


@dataclass(frozen=True)
class ScheduleState:
    id: int
    name: str
    open: bool
    current: Opening | None
    next: Opening | None


@dataclass(frozen=True)
class CampaignExplanation:
    campaign: Campaign
    at: datetime
    local_time: datetime
    should_be_status: str
    should_be_reason: str | None
    budgets: list[BudgetLine]
    schedule: ScheduleState | None


def _line(scope: str, period: str, start: date, spend: Decimal, budget: Decimal) -> BudgetLine:
    return BudgetLine(
        scope=scope,
        period=period,
        period_start=start,
        spend=spend,
        budget=budget,
        remaining=max(budget - spend, _ZERO),
        exhausted=spend >= budget,
    )


def campaign_explain(*, campaign_id: int, at: datetime) -> CampaignExplanation | None:
    """The campaign, and the rule's inputs and verdict at ``at``; None if it does not exist."""
    campaign = Campaign.objects.select_related("brand", "schedule").filter(pk=campaign_id).first()
    if campaign is None:
        return None
    (row,) = evaluate(at=at, scope=Scope(campaign_ids=(campaign_id,)))
    period = local_period(at, campaign.brand.timezone)
    budgets = [
        _line("brand", "day", period.day, row["brand_day_spend"], row["brand_daily_budget"]),
        _line(
            "brand", "month", period.month, row["brand_month_spend"], row["brand_monthly_budget"]
        ),
    ]
    if row["campaign_daily_budget"] is not None:
        budgets.append(
            _line(
                "campaign",
                "day",
                period.day,
                row["campaign_day_spend"],
                row["campaign_daily_budget"],
            )
        )
    if row["campaign_monthly_budget"] is not None:
        budgets.append(
            _line(
                "campaign",
                "month",
                period.month,
                row["campaign_month_spend"],
                row["campaign_monthly_budget"],
            )
        )
    schedule = None
    if campaign.schedule is not None:
        windows = list(DaypartWindow.objects.filter(schedule=campaign.schedule))
        schedule = ScheduleState(
            id=campaign.schedule.pk,
            name=campaign.schedule.name,
            open=bool(row["schedule_open"]),
            current=opening_current(windows, at=at, timezone=campaign.brand.timezone),
            next=opening_next(windows, at=at, timezone=campaign.brand.timezone),
        )
    reason = row["desired_reason"]
    return CampaignExplanation(
        campaign=campaign,
        at=at,
        local_time=period.local,
        should_be_status=CampaignStatus.PAUSED if reason else CampaignStatus.RUNNING,
        should_be_reason=reason,
        budgets=budgets,
        schedule=schedule,
    )


@dataclass(frozen=True)
class PeriodBudget:
    period: str
    period_start: date
    starts_at: datetime
    ends_at: datetime
    spend: Decimal
    budget: Decimal
    remaining: Decimal
    overspend: Decimal
    projected: Decimal | None


@dataclass(frozen=True)
class BrandBudgetReport:
    brand: Brand
    at: datetime
    local_time: datetime
    day: PeriodBudget
    month: PeriodBudget


def elapsed_share(*, bounds: tuple[datetime, datetime], at: datetime) -> Decimal:
    """The share of the period [start, end) that has passed at ``at`` (real elapsed time,
    so 23- and 25-hour days are counted as they are)."""
    begins, ends = bounds
    return Decimal((at - begins) / (ends - begins))


def projected_spend(
    *, spend: Decimal, bounds: tuple[datetime, datetime], at: datetime
) -> Decimal | None:
    """Straight line: the spend so far, at the same rate, to the end of the period. Also
    the rule of the pacing alerts (ads.services.alerts)."""
    elapsed = elapsed_share(bounds=bounds, at=at)
    return quantize(spend / elapsed) if elapsed > 0 else None


def _period_budget(
    period: str,
    start: date,
    bounds: tuple[datetime, datetime],
    spend: Decimal,
    budget: Decimal,
    at: datetime,
    timezone: str,
) -> PeriodBudget:
    begins, ends = bounds
    projected = projected_spend(spend=spend, bounds=bounds, at=at)
    tz = zone(timezone)
    return PeriodBudget(
        period=period,
        period_start=start,
        starts_at=begins.astimezone(tz),
        ends_at=ends.astimezone(tz),
        spend=spend,
        budget=budget,
        remaining=max(budget - spend, _ZERO),
        overspend=max(spend - budget, _ZERO),
        projected=projected,
    )


def brand_budget_report(*, brand_id: int, at: datetime) -> BrandBudgetReport | None:
    """Today's and this month's spend (brand-local) against the budgets; None if unknown."""
    brand = Brand.objects.filter(pk=brand_id).first()
    if brand is None:
        return None
    period = local_period(at, brand.timezone)
    totals = {
        (row.period, row.period_start): row.amount
        for row in BrandPeriodSpend.objects.filter(
            brand=brand, period_start__in=[period.day, period.month]
        )
    }
    return brand_report_from(
        brand,
        at=at,
        day_spend=totals.get((SpendPeriod.DAY, period.day), _ZERO),
        month_spend=totals.get((SpendPeriod.MONTH, period.month), _ZERO),
    )


# --- Staff console: figures for whole pages of brands and campaigns ----------------------
# The admin shows many brands and campaigns at once; these read a page's figures in a fixed
# number of queries, and reuse the definitions above (``_period_budget``, the pause reasons'
# precedence in ``PauseReason``) so a page and the API can never disagree.


def brand_report_from(
    brand: Brand, *, at: datetime, day_spend: Decimal, month_spend: Decimal
) -> BrandBudgetReport:
    """A brand's report from totals already read (see ``brands_with_spend``)."""
    period = local_period(at, brand.timezone)
    return BrandBudgetReport(
        brand=brand,
        at=at,
        local_time=period.local,
        day=_period_budget(
            "day",
            period.day,
            day_bounds(period.day, brand.timezone),
            day_spend,
            brand.daily_budget,
            at,
            brand.timezone,
        ),
        month=_period_budget(
            "month",
            period.month,
            month_bounds(period.month, brand.timezone),
            month_spend,
            brand.monthly_budget,
            at,
            brand.timezone,
        ),
    )


# --- Where campaigns stand (the last line of the sweep commands and of seed_data) ----------


@dataclass(frozen=True)
class CampaignStates:
    """How many campaigns run, and how many are paused for each reason, right now."""

    total: int
    running: int
    paused_by_reason: dict[str, int]

    @property
    def paused(self) -> int:
        return sum(self.paused_by_reason.values())

    def line(self) -> str:
        """For an operator: '12 campaigns, 6 running, 6 paused (3 outside_schedule, ...)'."""
        text = f"{self.total} campaigns, {self.running} running, {self.paused} paused"
        if self.paused_by_reason:
            reasons = ", ".join(f"{n} {reason}" for reason, n in self.paused_by_reason.items())
            text += f" ({reasons})"
        return text


def campaign_states(*, brand_ids: Collection[int] | None = None) -> CampaignStates:
    """Campaigns by stored status and reason, of some brands or all (one query). Reasons in
    ``PauseReason`` order."""
    campaigns = Campaign.objects.all()
    if brand_ids is not None:
        campaigns = campaigns.filter(brand_id__in=brand_ids)
    counts = {
        (row["status"], row["pause_reason"]): row["n"]
        for row in campaigns.order_by().values("status", "pause_reason").annotate(n=Count("id"))
    }
    running = counts.pop((CampaignStatus.RUNNING, None), 0)
    paused = {reason: counts.get((CampaignStatus.PAUSED, reason), 0) for reason in PauseReason}
    return CampaignStates(
        total=running + sum(counts.values()),
        running=running,
        paused_by_reason={str(reason): n for reason, n in paused.items() if n},
    )


# --- Brands named by an operator (id or name) -----------------------------------------------


@dataclass(frozen=True)
class BrandLookup:
    """What a list of brand references named: the brands found (in the order given, each
    once), and the references that named none or several."""

    found: list[Brand]
    unknown: list[str]
    ambiguous: dict[str, list[Brand]]


def brands_lookup(references: Sequence[str]) -> BrandLookup:
    """Brands by id or by name, ignoring case. A reference that matches several brands (two
    names differing only in case, or an id and another brand's name) is ambiguous, unless
    exactly one of them is an exact, case-sensitive match."""
    # Compared in Python: SQLite's lower() folds ASCII only, so "Café" would miss "CAFÉ".
    # The (id, name) pairs of every brand are small next to anything else this project reads.
    brands = {brand.pk: brand for brand in Brand.objects.only("id", "name")}
    found: dict[int, Brand] = {}
    unknown: list[str] = []
    ambiguous: dict[str, list[Brand]] = {}
    for reference in references:
        text = reference.strip()
        folded = text.casefold()
        matches = [b for b in brands.values() if b.name.casefold() == folded]
        if text.isdigit() and int(text) in brands and brands[int(text)] not in matches:
            matches.append(brands[int(text)])
        exact = [b for b in matches if b.name == text or str(b.pk) == text]
        if len(matches) > 1 and len(exact) == 1:
            matches = exact
        if not matches:
            unknown.append(reference)
        elif len(matches) > 1:
            ambiguous[reference] = sorted(matches, key=lambda b: b.pk)
        else:
            found.setdefault(matches[0].pk, matches[0])
    return BrandLookup(found=list(found.values()), unknown=unknown, ambiguous=ambiguous)


def _local_day_expression(timezones: list[str], at: datetime, *, month: bool) -> Case:
    """Each brand's current local day (or month start) as SQL: one WHEN per zone in use."""
    whens = []
    for name in timezones:
        period = local_period(at, name)
        whens.append(When(timezone=name, then=Value(period.month if month else period.day)))
    return Case(*whens, default=Value(None), output_field=DateField())


def brands_with_spend(queryset: QuerySet[Brand], *, at: datetime) -> QuerySet[Brand]:
    """``queryset`` with today's and this month's brand-local spend (``day_spend``,
    ``month_spend``) and their share of each budget in % (``day_pct``, ``month_pct``,
    ``top_pct``: the larger), all sortable and filterable in SQL. One extra query (the
    zones in use), whatever the number of brands."""
    timezones = sorted(set(Brand.objects.values_list("timezone", flat=True).distinct()))
    annotated = queryset.annotate(
        local_day=_local_day_expression(timezones, at, month=False),
        local_month=_local_day_expression(timezones, at, month=True),
    )
    totals = BrandPeriodSpend.objects.filter(brand_id=OuterRef("pk"))
    day = totals.filter(period=SpendPeriod.DAY, period_start=OuterRef("local_day"))
    month = totals.filter(period=SpendPeriod.MONTH, period_start=OuterRef("local_month"))
    micros = BigIntegerField()
    annotated = annotated.annotate(
        day_micros=Coalesce(Subquery(day.values("amount")[:1], output_field=micros), 0),
        month_micros=Coalesce(Subquery(month.values("amount")[:1], output_field=micros), 0),
    )
    return annotated.annotate(
        day_pct=ExpressionWrapper(
            Cast("day_micros", FloatField()) * 100.0 / Cast("daily_budget", FloatField()),
            output_field=FloatField(),
        ),
        month_pct=ExpressionWrapper(
            Cast("month_micros", FloatField()) * 100.0 / Cast("monthly_budget", FloatField()),
            output_field=FloatField(),
        ),
    ).annotate(top_pct=Greatest("day_pct", "month_pct"))


def brand_report_of(brand: Brand, *, at: datetime) -> BrandBudgetReport:
    """The report of a brand read through ``brands_with_spend`` (no further query)."""
    return brand_report_from(
        brand,
        at=at,
        day_spend=from_micros(getattr(brand, "day_micros", 0)),
        month_spend=from_micros(getattr(brand, "month_micros", 0)),
    )


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


# --- What recording spend would do (record_spend --dry-run) -------------------------------


@dataclass(frozen=True)
class SpendEffect:
    line: BudgetLine
    after: Decimal

    @property
    def reaches(self) -> bool:
        return self.after >= self.line.budget


def spend_effect(
    *, campaign_id: int, amount: Decimal, occurred_at: datetime, at: datetime
) -> list[SpendEffect]:
    """Each budget of the campaign that spend at ``occurred_at`` would count towards now,
    with the total it would bring it to (the rule pauses at ``reaches``). Read-only."""
    explained = campaign_explain(campaign_id=campaign_id, at=at)
    if explained is None:
        return []
    day = local_period(occurred_at, explained.campaign.brand.timezone).day
    effects = []
    for line in explained.budgets:
        counts = (
            line.period_start == day
            if line.period == "day"
            else line.period_start == day.replace(day=1)
        )
        if counts:
            effects.append(SpendEffect(line=line, after=line.spend + amount))
    return effects
