"""The media plan: a planner's sheet (``media_plan_csv``) compared with what is stored, in
words before anything changes, then applied all or nothing through the flight and budget
calendar services; and a brand's plan written back as a sheet that imports to no change.

Names resolve case-insensitively within the brands the caller may see (another brand's
name is "unknown", as one that does not exist). A flight named in the sheet is created or
brought to exactly the sheet's dates, budget and campaigns; flights and calendar entries
the sheet does not name are left as they are. Every rule the services enforce is checked
here first, so a dry run finds what a real one would refuse, by the sheet's line and column.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q
from django.db.models.functions import Lower

from ads.core.currency import budget_problem, minor_units
from ads.core.periods import local_date
from ads.models import Brand, BudgetChange, BudgetTarget, Campaign, Flight, FlightCampaign
from ads.services.media_plan_csv import (
    CalendarRow,
    FlightRow,
    PlanError,
    PlanInvalid,
    PlanRows,
    plan_rows_read,
    plan_rows_write,
)


@dataclass(frozen=True)
class FlightPlan:
    """A flight as the sheet has it, and as it is stored (``stored`` None: new)."""

    brand: Brand
    name: str
    starts_on: date
    ends_on: date
    budget: Decimal
    campaigns: tuple[Campaign, ...]  # by name
    lines: tuple[int, ...]
    stored: Flight | None
    stored_campaigns: tuple[Campaign, ...]

    @property
    def campaign_ids(self) -> list[int]:
        return sorted(c.pk for c in self.campaigns)

    def changed_fields(self) -> list[str]:
        if self.stored is None:
            return ["name", "starts_on", "ends_on", "budget", "campaign_ids"]
        stored = self.stored
        fields = [
            name
            for name, value in (
                ("name", self.name),
                ("starts_on", self.starts_on),
                ("ends_on", self.ends_on),
                ("budget", self.budget),
            )
            if getattr(stored, name) != value
        ]
        if self.campaign_ids != sorted(c.pk for c in self.stored_campaigns):
            fields.append("campaign_ids")
        return fields


@dataclass(frozen=True)
class CalendarPlan:
    """A month's budget from the sheet, and the change stored on its first day, if any."""

    brand: Brand
    campaign: Campaign | None
    effective_on: date
    monthly_budget: Decimal
    line: int
    stored: BudgetChange | None

    @property
    def changed(self) -> bool:
        return self.stored is None or self.stored.monthly_budget != self.monthly_budget


@dataclass(frozen=True)
class MediaPlan:
    flights: list[FlightPlan]
    calendar: list[CalendarPlan]

    @property
    def brand_ids(self) -> list[int]:
        found = {f.brand.pk for f in self.flights} | {c.brand.pk for c in self.calendar}
        return sorted(found)


def _pick(candidates: list[Campaign], name: str) -> Campaign | None:
    """The one named ``name`` (the exact spelling first, then a case-insensitive match)."""
    exact = [c for c in candidates if c.name == name]
    if exact:
        return exact[0]
    return candidates[0] if len(candidates) == 1 else None


class _Resolver:
    """Brands and campaigns by name, read once for the whole sheet (two queries)."""

    def __init__(self, rows: PlanRows, brand_ids: Collection[int] | None) -> None:
        every: list[FlightRow | CalendarRow] = [*rows.flights, *rows.calendar]
        names = {row.brand.casefold() for row in every}
        match = Q()
        for name in names:
            match |= Q(name__iexact=name)
        brands = Brand.objects.filter(match) if names else Brand.objects.none()
        if brand_ids is not None:
            brands = brands.filter(pk__in=brand_ids)
        self.brands = {b.name.casefold(): b for b in brands}
        # Campaigns by the sheet's names in every brand the caller may see, so that one of
        # another brand is named as such. Both spellings: SQLite lowers ASCII only.
        spelled = {row.campaign for row in every if row.campaign is not None}
        campaigns = (
            Campaign.objects.annotate(lowered=Lower("name"))
            .filter(Q(lowered__in={n.lower() for n in spelled}) | Q(name__in=spelled))
            .select_related("brand")
            .order_by("pk")
        )
        if brand_ids is not None:
            campaigns = campaigns.filter(brand_id__in=brand_ids)
        self.campaigns: dict[tuple[int, str], list[Campaign]] = defaultdict(list)
        self.brands_of: dict[str, set[str]] = defaultdict(set)
        for campaign in campaigns if spelled else []:
            key = campaign.name.casefold()
            self.campaigns[(campaign.brand_id, key)].append(campaign)
            self.brands_of[key].add(campaign.brand.name)

    def brand(self, row: FlightRow | CalendarRow, errors: list[PlanError]) -> Brand | None:
        found = self.brands.get(row.brand.casefold())
        if found is None:
            errors.append(PlanError(row.line, "brand", f"no brand named {row.brand!r}"))
        return found

    def campaign(
        self, brand: Brand, row: FlightRow | CalendarRow, errors: list[PlanError]
    ) -> Campaign | None:
        assert row.campaign is not None
        key = row.campaign.casefold()
        mine = self.campaigns.get((brand.pk, key), [])
        found = _pick(mine, row.campaign)
        if found is not None:
            return found
        # Only brands the caller may see are ever named.
        others = sorted(self.brands_of.get(key, set()) - {brand.name})
        if mine:
            why = f"{brand.name} has {len(mine)} campaigns named {row.campaign!r} but none exactly"
        elif others:
            why = (
                f"campaign {row.campaign!r} is of brand {others[0]}, not of {brand.name}: a "
                "flight or budget of one brand cannot include another brand's campaign"
            )
        else:
            why = f"{brand.name} has no campaign named {row.campaign!r}"
        errors.append(PlanError(row.line, "campaign", why))
        return None


def _money_problem(
    amount: Decimal, brand: Brand, line: int, column: str, errors: list[PlanError]
) -> None:
    problem = budget_problem(amount, brand.currency)
    if problem is not None:
        errors.append(PlanError(line, column, f"the amount {problem}"))


def _flights(
    rows: list[FlightRow], resolver: _Resolver, errors: list[PlanError]
) -> list[FlightPlan]:
    grouped: dict[tuple[int, str], list[FlightRow]] = defaultdict(list)
    brands: dict[int, Brand] = {}
    for row in rows:
        brand = resolver.brand(row, errors)
        if brand is None:
            continue
        brands[brand.pk] = brand
        grouped[(brand.pk, row.flight.casefold())].append(row)
    stored = {
        (f.brand_id, f.name.casefold()): f
        for f in Flight.objects.filter(brand_id__in=list(brands)).order_by("pk")
    }
    members: dict[int, list[Campaign]] = defaultdict(list)
    for membership in FlightCampaign.objects.filter(
        flight_id__in=[f.pk for f in stored.values()]
    ).select_related("campaign"):
        members[membership.flight_id].append(membership.campaign)
    plans = []
    for (brand_id, key), group in grouped.items():
        brand, first = brands[brand_id], group[0]
        _money_problem(first.budget, brand, first.line, "budget", errors)
        campaigns = [
            resolver.campaign(brand, row, errors) for row in group if row.campaign is not None
        ]
        flight = stored.get((brand_id, key))
        plans.append(
            FlightPlan(
                brand=brand,
                name=first.flight,
                starts_on=first.starts_on,
                ends_on=first.ends_on,
                budget=first.budget,
                campaigns=tuple(c for c in campaigns if c is not None),
                lines=tuple(row.line for row in group),
                stored=flight,
                stored_campaigns=tuple(members[flight.pk]) if flight else (),
            )
        )
    _overlaps(plans, list(stored.values()), members, grouped, errors)
    return plans


def _overlaps(
    plans: list[FlightPlan],
    stored: list[Flight],
    members: dict[int, list[Campaign]],
    grouped: dict[tuple[int, str], list[FlightRow]],
    errors: list[PlanError],
) -> None:
    """A campaign's flights, as they will be (the sheet's, and the stored ones it does not
    name), must not overlap."""
    named = {plan.stored.pk for plan in plans if plan.stored is not None}
    spans: dict[int, list[tuple[str, date, date, int | None]]] = defaultdict(list)
    for flight in stored:
        if flight.pk not in named:
            for campaign in members[flight.pk]:
                spans[campaign.pk].append((flight.name, flight.starts_on, flight.ends_on, None))
    for plan in plans:
        group = grouped[(plan.brand.pk, plan.name.casefold())]
        for campaign in plan.campaigns:
            sheet_line = next(
                row.line
                for row in group
                if row.campaign is not None and row.campaign.casefold() == campaign.name.casefold()
            )
            spans[campaign.pk].append((plan.name, plan.starts_on, plan.ends_on, sheet_line))
    names = {c.pk: c.name for plan in plans for c in plan.campaigns}
    for campaign_id, flights in spans.items():
        flights.sort(key=lambda span: (span[1], span[2]))
        for index, (name, starts, ends, line) in enumerate(flights):
            for other, other_starts, other_ends, other_line in flights[index + 1 :]:
                if other_starts > ends:
                    break
                where = line if other_line is None else other_line
                if where is None:
                    continue  # two stored flights: not this sheet's doing
                errors.append(
                    PlanError(
                        where,
                        "campaign",
                        f"campaign {names.get(campaign_id, campaign_id)!r} would be in flights "
                        f"{name!r} ({starts} to {ends}) and {other!r} ({other_starts} to "
                        f"{other_ends}), whose dates overlap: a campaign's flights may not",
                    )
                )


def _calendar(
    rows: list[CalendarRow], resolver: _Resolver, at: datetime, errors: list[PlanError]
) -> list[CalendarPlan]:
    resolved: list[tuple[CalendarRow, Brand, Campaign | None]] = []
    for row in rows:
        brand = resolver.brand(row, errors)
        if brand is None:
            continue
        campaign = None
        if row.campaign is not None:
            campaign = resolver.campaign(brand, row, errors)
            if campaign is None:
                continue
        _money_problem(row.monthly_budget, brand, row.line, "monthly_budget", errors)
        resolved.append((row, brand, campaign))
    stored: dict[tuple[int, int | None, date], BudgetChange] = {}
    targets = Q(target=BudgetTarget.BRAND) | Q(target=BudgetTarget.CAMPAIGN)
    for change in BudgetChange.objects.filter(
        targets, brand_id__in={brand.pk for _, brand, _ in resolved}
    ):
        stored[(change.brand_id, change.campaign_id, change.effective_on)] = change
    plans = []
    for row, brand, campaign in resolved:
        plan = CalendarPlan(
            brand=brand,
            campaign=campaign,
            effective_on=row.month,
            monthly_budget=row.monthly_budget,
            line=row.line,
            stored=stored.get((brand.pk, campaign.pk if campaign else None, row.month)),
        )
        today = local_date(at, brand.timezone)
        begun = plan.effective_on < today or (
            plan.stored is not None and plan.effective_on == today
        )
        if plan.changed and begun:
            errors.append(
                PlanError(
                    row.line,
                    "month",
                    f"{row.month:%Y-%m} has begun for {brand.name} (today is {today} in "
                    f"{brand.timezone}): a budget change from {row.month} would change the past "
                    "(budget changes in force are history); plan a later month",
                )
            )
        plans.append(plan)
    return plans


def media_plan_read(
    *, data: bytes, at: datetime, brand_ids: Collection[int] | None = None
) -> MediaPlan:
    """The sheet compared with what is stored; PlanInvalid with every error by line and
    column. Reads only: safe to run any number of times (the dry run, the admin's preview).
    ``brand_ids``: the brands the caller may plan (None: every brand)."""
    # The file's own errors and those of its good rows against what is stored, together:
    # one run lists everything to fix.
    rows, errors = plan_rows_read(data)
    resolver = _Resolver(rows, brand_ids)
    plan = MediaPlan(
        flights=_flights(rows.flights, resolver, errors),
        calendar=_calendar(rows.calendar, resolver, at, errors),
    )
    if errors:
        raise PlanInvalid(errors)
    return plan


@dataclass(frozen=True)
class PlanExport:
    text: str
    left_out: list[str]  # calendar entries the sheet's columns cannot say


def media_plan_export(*, brand_id: int) -> PlanExport:
    """The brand's flights (a row per campaign) and the monthly budgets its calendar plans
    on the first of a month, as a sheet that imports back to no change. Reads only."""
    brand = Brand.objects.get(pk=brand_id)
    rows = PlanRows()
    flights = list(Flight.objects.filter(brand=brand).order_by("starts_on", "name", "pk"))
    members: dict[int, list[str | None]] = defaultdict(list)
    for flight_id, name in FlightCampaign.objects.filter(
        flight_id__in=[f.pk for f in flights]
    ).values_list("flight_id", "campaign__name"):
        members[flight_id].append(name)
    for flight in flights:
        for campaign_name in sorted(members[flight.pk], key=str) or [None]:
            rows.flights.append(
                FlightRow(0, brand.name, campaign_name, flight.name, flight.starts_on,
                          flight.ends_on, flight.budget)
            )  # fmt: skip
    left_out = []
    changes = BudgetChange.objects.filter(brand=brand).select_related("campaign", "shared_budget")
    for change in changes.order_by("effective_on", "target", "campaign__name"):
        if (
            change.target == BudgetTarget.SHARED_BUDGET
            or change.effective_on.day != 1
            or change.monthly_budget is None
        ):
            left_out.append(_left_out(change))
            continue
        if change.daily_budget is not None:
            left_out.append(f"{_left_out(change)}: its daily budget (the sheet has no column)")
        rows.calendar.append(
            CalendarRow(
                0,
                brand.name,
                change.campaign.name if change.campaign is not None else None,
                change.effective_on,
                change.monthly_budget,
            )
        )
    text = plan_rows_write(rows, places={brand.name: minor_units(brand.currency)})
    return PlanExport(text=text, left_out=left_out)


def _left_out(change: BudgetChange) -> str:
    return f"{change.target_label()} from {change.effective_on}"
