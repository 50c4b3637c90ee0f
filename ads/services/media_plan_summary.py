"""A media plan in words: what it creates and changes, line by line of the sheet, and what
it leaves as it is. What the dry run prints and the admin's preview shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ads.core.currency import minor_units
from ads.models import Campaign
from ads.services.media_plan import CalendarPlan, FlightPlan, MediaPlan


def _money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "none"
    exponent = amount.normalize().as_tuple().exponent
    own = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return f"{amount:,.{max(minor_units(currency), own)}f} {currency}"


def _names(campaigns: tuple[Campaign, ...] | list[Campaign]) -> str:
    return ", ".join(sorted(c.name for c in campaigns)) or "no campaigns"


def _dates(starts_on: date, ends_on: date) -> str:
    return f"{starts_on} to {ends_on}"


def _lines(lines: tuple[int, ...]) -> str:
    return f"line {lines[0]}" if len(lines) == 1 else f"lines {lines[0]}-{lines[-1]}"


def flight_change_text(plan: FlightPlan) -> str:
    currency = plan.brand.currency
    where = f"{_lines(plan.lines)}: {plan.brand.name}"
    if plan.stored is None:
        return (
            f"{where}: new flight {plan.name!r}, {_dates(plan.starts_on, plan.ends_on)}, "
            f"budget {_money(plan.budget, currency)}, campaigns: {_names(plan.campaigns)}"
        )
    stored, parts = plan.stored, []
    changed = plan.changed_fields()
    if "name" in changed:
        parts.append(f"renamed from {stored.name!r}")
    if "starts_on" in changed or "ends_on" in changed:
        parts.append(
            f"dates {_dates(stored.starts_on, stored.ends_on)} → "
            f"{_dates(plan.starts_on, plan.ends_on)}"
        )
    if "budget" in changed:
        parts.append(f"budget {_money(stored.budget, currency)} → {_money(plan.budget, currency)}")
    if "campaign_ids" in changed:
        before = {c.pk for c in plan.stored_campaigns}
        after = {c.pk for c in plan.campaigns}
        added = [c for c in plan.campaigns if c.pk not in before]
        removed = [c for c in plan.stored_campaigns if c.pk not in after]
        if added:
            parts.append(f"adds {_names(added)}")
        if removed:
            parts.append(f"removes {_names(removed)}")
    return f"{where}: flight {plan.name!r}: " + "; ".join(parts)


def calendar_change_text(plan: CalendarPlan) -> str:
    currency = plan.brand.currency
    what = (
        f"{plan.brand.name}'s monthly budget"
        if plan.campaign is None
        else f"{plan.brand.name} / {plan.campaign.name}'s monthly cap"
    )
    if plan.stored is None:
        change = f"{_money(plan.monthly_budget, currency)} (new budget change)"
    else:
        before = _money(plan.stored.monthly_budget, currency)
        change = f"{before} → {_money(plan.monthly_budget, currency)}"
    return f"line {plan.line}: {what} from {plan.effective_on}: {change}"


@dataclass(frozen=True)
class PlanSummary:
    """What applying the plan changes, in words, and the counts of the headline."""

    changes: list[str]
    flights_new: int
    flights_changed: int
    flights_unchanged: int
    calendar_new: int
    calendar_changed: int
    calendar_unchanged: int

    @property
    def nothing(self) -> bool:
        return not self.changes

    def headline(self) -> str:
        return (
            f"flights: {self.flights_new} new, {self.flights_changed} changed, "
            f"{self.flights_unchanged} unchanged; monthly budgets: {self.calendar_new} new, "
            f"{self.calendar_changed} changed, {self.calendar_unchanged} unchanged"
        )


def plan_summary(plan: MediaPlan) -> PlanSummary:
    flights_changed = [f for f in plan.flights if f.stored is not None and f.changed_fields()]
    calendar_changed = [c for c in plan.calendar if c.stored is not None and c.changed]
    changes = [
        flight_change_text(f) for f in plan.flights if f.stored is None or f.changed_fields()
    ] + [calendar_change_text(c) for c in plan.calendar if c.changed]
    flights_new = sum(1 for f in plan.flights if f.stored is None)
    calendar_new = sum(1 for c in plan.calendar if c.stored is None)
    return PlanSummary(
        changes=changes,
        flights_new=flights_new,
        flights_changed=len(flights_changed),
        flights_unchanged=len(plan.flights) - flights_new - len(flights_changed),
        calendar_new=calendar_new,
        calendar_changed=len(calendar_changed),
        calendar_unchanged=len(plan.calendar) - calendar_new - len(calendar_changed),
    )
