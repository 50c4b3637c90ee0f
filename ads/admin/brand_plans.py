"""The brand page's plan: its flights (spent, budget, days left, on pace or not), its shared
budgets with bars like the brand's own, and its upcoming budget changes, from the plan
selectors (``ads.services.selectors.plans``), with links to plan more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ads.admin.display import bar, local_time, money, money_cell
from ads.admin.flights import PACE_WORDS
from ads.models import Brand, BudgetChange, BudgetTarget
from ads.services.selectors.plans import (
    FlightReport,
    SharedBudgetReport,
    flight_reports,
    shared_budget_reports,
    upcoming_budget_changes,
)

# Pace as a badge: green on pace, amber behind, red ahead (heading over), grey otherwise.
_PACE_COLOURS = {"on pace": "#3c8a3c", "behind": "#d08c00", "ahead": "#c0392b"}


@dataclass(frozen=True)
class BrandPlan:
    flights: list[FlightReport]
    shared: list[SharedBudgetReport]
    upcoming: list[BudgetChange]


def brand_plan(brand: Brand, *, at: datetime) -> BrandPlan:
    return BrandPlan(
        flights=flight_reports(brand_id=brand.pk, at=at),
        shared=shared_budget_reports(brand_id=brand.pk, at=at),
        upcoming=upcoming_budget_changes(brand_id=brand.pk, at=at),
    )


_PACE_LABELS = {
    "on pace": "On pace",
    "not started": "Not started",
    "ahead": "Ahead (heading over)",
    "behind": "Behind (heading under)",
    "ended": "Ended",
}


def pace_badge(pace: str) -> SafeString:
    return format_html(
        '<span class="pace pace-{}" style="background:{};color:#fff;padding:1px 6px;'
        'border-radius:8px;font-size:11px;white-space:nowrap" title="{}">{}</span>',
        pace.replace(" ", "-"),
        _PACE_COLOURS.get(pace, "#777"),
        PACE_WORDS.get(pace, pace),
        _PACE_LABELS.get(pace, pace),
    )


def _link(name: str, url: str) -> SafeString:
    return format_html('<a href="{}">{}</a>', url, name)


def flights_table(plan: BrandPlan, brand: Brand) -> SafeString:
    add = reverse("admin:ads_flight_add") + f"?brand={brand.pk}"
    if not plan.flights:
        return format_html('<p>No flights. <a href="{}">Add a flight</a></p>', add)
    currency = brand.currency
    rows = [
        (
            _link(found.flight.name, reverse("admin:ads_flight_change", args=[found.flight.pk])),
            f"{found.flight.starts_on} to {found.flight.ends_on}",
            bar(found.spend, found.flight.budget, currency),
            (
                money_cell(found.remaining, currency)
                if found.remaining >= 0
                else f"over by {money(-found.remaining, currency)}"
            ),
            found.days_left,
            money_cell(found.projected, currency),
            pace_badge(found.pace),
            len(found.campaign_ids),
        )
        for found in plan.flights
    ]
    return format_html(
        '<table class="brand-flights"><tr><th>Flight</th><th>Dates (brand-local, '
        "inclusive)</th><th>Spent of budget</th><th>Left</th><th>Days left</th>"
        "<th>Projected</th><th>Pace</th><th>Campaigns</th></tr>{}</table>"
        '<p><a href="{}">Add a flight</a></p>',
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            rows,
        ),
        add,
    )


def shared_table(plan: BrandPlan, brand: Brand) -> SafeString:
    add = reverse("admin:ads_sharedbudget_add") + f"?brand={brand.pk}"
    if not plan.shared:
        return format_html('<p>No shared budgets. <a href="{}">Add a shared budget</a></p>', add)
    currency = brand.currency
    rows = [
        (
            _link(
                found.shared_budget.name,
                reverse("admin:ads_sharedbudget_change", args=[found.shared_budget.pk]),
            ),
            bar(found.day_spend, found.daily_budget, currency),
            bar(found.month_spend, found.monthly_budget, currency),
            len(found.campaign_ids),
        )
        for found in plan.shared
    ]
    return format_html(
        '<table class="brand-shared"><tr><th>Shared budget</th><th>Today</th>'
        "<th>This month</th><th>Campaigns</th></tr>{}</table>"
        '<p><a href="{}">Add a shared budget</a></p>',
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        add,
    )


def _target(change: BudgetChange) -> str:
    if change.target == BudgetTarget.CAMPAIGN and change.campaign is not None:
        return f"Campaign {change.campaign.name}"
    if change.target == BudgetTarget.SHARED_BUDGET and change.shared_budget is not None:
        return f"Shared budget {change.shared_budget.name}"
    return "The brand"


def upcoming_table(plan: BrandPlan, brand: Brand) -> SafeString:
    add = reverse("admin:ads_budgetchange_add") + f"?brand={brand.pk}"
    if not plan.upcoming:
        return format_html(
            '<p>No upcoming budget changes. <a href="{}">Plan a budget change</a></p>', add
        )
    currency = brand.currency
    rows = [
        (
            _link(
                str(change.effective_on),
                reverse("admin:ads_budgetchange_change", args=[change.pk]),
            ),
            _target(change),
            (
                "unchanged"
                if change.daily_budget is None
                else money_cell(change.daily_budget, currency)
            ),
            (
                "unchanged"
                if change.monthly_budget is None
                else money_cell(change.monthly_budget, currency)
            ),
            change.created_by,
            local_time(change.created_at, brand.timezone),
        )
        for change in plan.upcoming
    ]
    return format_html(
        '<table class="brand-upcoming"><tr><th>From (brand-local)</th><th>Budgets of</th>'
        "<th>Daily</th><th>Monthly</th><th>Planned by</th><th>Planned at</th></tr>{}</table>"
        '<p><a href="{}">Plan a budget change</a></p>',
        format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
        ),
        add,
    )


def plan_links(brand: Brand) -> SafeString:
    return format_html(
        '<a class="button" href="{}">Export the media plan (CSV)</a> '
        '<a class="button" href="{}">Import a media plan</a>'
        "<div><small>The sheet has the columns brand, campaign, flight, starts_on, ends_on, "
        "budget, month, monthly_budget; an exported plan imports back to no change.</small>"
        "</div>",
        reverse("admin:ads_brand_export_plan", args=[brand.pk]),
        reverse("admin:ads_flight_import_plan"),
    )
