"""The lock order every writer of a brand's money or campaign states follows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection

from ads.core.periods import local_date
from ads.core.sql import as_date, dialect, in_ids, lock_clause
from ads.models import BrandAlertSettings, CampaignStatus
from ads.services.alerts import AlertBrand
from ads.services.ledger import LedgerRow, NewTotals, TotalKey


def brands_lock(brand_ids: Iterable[int]) -> None:
    """Lock the brand rows, in id order, inside the caller's transaction.

    Spend ingestion, the reconcile and staff changes all take these locks before touching a
    brand's totals or campaign states. One fixed order means two writers never wait on each
    other in a cycle, so there are no deadlocks between them. On SQLite the IMMEDIATE
    transaction already admits one writer at a time, so there is nothing to lock.
    """
    ids = sorted(set(brand_ids))
    if not ids or not dialect().row_locks:
        return
    clause, params = in_ids("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM ads_brand WHERE {clause} ORDER BY id{lock_clause()}", params
        )


def brands_lock_for_change(brand_ids: Iterable[int], at: datetime) -> None:
    """``brands_lock`` for a staff change of what the rule reads (caps, flights, shared
    budgets, the calendar): the brand rows are also rewritten, so a single-event statement
    that was waiting for the lock sees that its snapshot is older than the change and takes
    the general path (``ads.services.spend_single``)."""
    ids = sorted(set(brand_ids))
    brands_lock(ids)
    if not ids:
        return
    clause, params = in_ids("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE ads_brand SET updated_at = %s WHERE {clause}", [at] + params)


@dataclass(frozen=True)
class SpendTarget:
    """What recording spend needs to know of a campaign, read under its brand's lock.
    Budgets and caps are micro-units, as stored (the calendar may put others in force:
    ``SpendTargets.calendar``); caps are None where the campaign has none."""

    brand_id: int
    timezone: str
    currency: str
    brand_daily: int
    brand_monthly: int
    daily_cap: int | None
    monthly_cap: int | None
    # The brand's own alert settings (ads_brandalertsettings), read with the lock so the
    # alerts are judged from the batch's new totals without another query; None: the
    # brand has none and the global settings apply.
    alert_settings_id: int | None = None
    alert_thresholds: str = ""
    alert_margin: Decimal | None = None
    shared_budget_id: int | None = None
    shared_daily: int | None = None
    shared_monthly: int | None = None
    # The campaign runs (as read under the lock). Spend of a running campaign on a total
    # already past its limit means the pause did not happen (a process lost between an event
    # and its pause, or spend dated past a midnight that had not come yet): it reconciles.
    running: bool = True

    def alert_brand(self) -> AlertBrand:
        own = (
            None
            if self.alert_settings_id is None
            else BrandAlertSettings(
                id=self.alert_settings_id,
                brand_id=self.brand_id,
                thresholds=self.alert_thresholds,
                pacing_margin=self.alert_margin,
            )
        )
        return AlertBrand(self.brand_id, self.timezone, self.brand_daily, self.brand_monthly, own)


@dataclass(frozen=True)
class CalendarEntry:
    """One budget change of the calendar (``BudgetChange``), amounts in micro-units."""

    target: str
    owner_id: int
    effective_on: date
    daily: int | None
    monthly: int | None


def in_force(
    calendar: Sequence[CalendarEntry],
    target: str,
    owner_id: int,
    stored: int | None,
    which: str,
    first: date,
    last: date,
) -> int | None:
    """The lowest ``which`` ('daily' or 'monthly') budget in force on any day from
    ``first`` to ``last``: the latest change effective on or before ``first`` (else the
    stored budget), and every change effective within. The lowest, so that a screen built
    on it never misses a budget reached (the rule then decides exactly)."""
    entries = sorted(
        (e for e in calendar if e.target == target and e.owner_id == owner_id),
        key=lambda e: e.effective_on,
    )
    value = stored
    candidates: list[int] = []
    for entry in entries:
        amount = entry.daily if which == "daily" else entry.monthly
        if amount is None:
            continue
        if entry.effective_on <= first:
            value = amount
        elif entry.effective_on <= last:
            candidates.append(amount)
    if value is not None:
        candidates.append(value)
    return min(candidates) if candidates else None


def changes_within(
    calendar: Sequence[CalendarEntry],
    target: str,
    owner_id: int,
    which: str,
    first: date,
    last: date,
) -> bool:
    """Whether a change of ``which`` budget takes effect after ``first`` and by ``last``:
    the budget then moved within the period, by time alone."""
    return any(
        e.target == target
        and e.owner_id == owner_id
        and first < e.effective_on <= last
        and (e.daily if which == "daily" else e.monthly) is not None
        for e in calendar
    )


def spend_added(rows: Iterable[LedgerRow], targets: dict[int, SpendTarget]) -> NewTotals:
    """What ``rows`` (new ledger rows) added to each day and month total of their campaigns,
    brands and shared budgets, keyed as ``NewTotals`` (flights are not: which flight a row
    counts toward is decided in SQL)."""
    added = NewTotals({}, {}, {}, {})
    for row in rows:
        shared = targets[row.campaign_id].shared_budget_id
        for period, start in (("day", row.local_date), ("month", row.local_date.replace(day=1))):
            for kind, owner in (
                (added.campaign, row.campaign_id),
                (added.brand, row.brand_id),
                (added.shared, shared),
            ):
                if owner is not None:
                    kind[(owner, period, start)] = kind.get((owner, period, start), 0) + row.micros
    return added


def reached_by_write(total: int, limit: int, added: int | None, running: bool) -> bool:
    """Whether a write that added ``added`` (None: not known) to make ``total`` took it to
    ``limit``: it is there now, and it was below before, or a campaign the write spent for
    still runs (a pause that did not happen), or what was added is not known."""
    if total < limit:
        return False
    return added is None or running or total - added < limit


@dataclass(frozen=True)
class SpendTargets:
    campaigns: dict[int, SpendTarget]
    calendar: tuple[CalendarEntry, ...] = ()

    def _crossed(
        self,
        target: str,
        owner_id: int,
        stored: int | None,
        period: str,
        start: date,
        total: int,
        added: int | None,
        running: bool,
    ) -> bool:
        """Whether the write that made ``total`` (adding ``added`` to it) takes it to its
        limit. A total already at its limit before the write crossed nothing: the crossing
        write paused the campaigns in its own transaction (spend on a campaign paused for
        its budget, which platforms report for hours, then costs no reconcile). At or past
        the limit counts when what was added is not known, or when the period's budget
        changes within it by the calendar (reached by time alone, not by a write), and when a
        campaign this write spent for still runs (``SpendTarget.running``)."""
        limit = self._budget(target, owner_id, stored, period, start)
        if limit is None:
            return False
        if (
            self.calendar
            and period == "month"
            and changes_within(self.calendar, target, owner_id, "monthly", start, _month_end(start))
        ):
            added = None
        return reached_by_write(total, limit, added, running)

    def _budget(
        self, target: str, owner_id: int, stored: int | None, period: str, start: date
    ) -> int | None:
        if not self.calendar:
            return stored
        if period == "day":
            return in_force(self.calendar, target, owner_id, stored, "daily", start, start)
        last = _month_end(start)
        return in_force(self.calendar, target, owner_id, stored, "monthly", start, last)

    def alert_brands(self, at: datetime) -> list[AlertBrand]:
        """Each brand of these campaigns once, as the alert rule needs it: the budgets in
        force on the brand-local day of ``at``."""
        first = {t.brand_id: t for t in self.campaigns.values()}
        brands = []
        for target in first.values():
            day = local_date(at, target.timezone)
            daily = self._budget("brand", target.brand_id, target.brand_daily, "day", day)
            monthly = in_force(
                self.calendar, "brand", target.brand_id, target.brand_monthly, "monthly", day, day
            )
            brands.append(
                replace(target, brand_daily=daily or 0, brand_monthly=monthly or 0).alert_brand()
            )
        return brands

    def reached(self, totals: NewTotals, added: NewTotals | None = None) -> tuple[int, ...]:
        """Brands where one of these totals reached its budget or cap with this write (at
        the lowest budget the calendar puts in force over the total's period); ``added``:
        what the write added to each total (None: any total at or past its limit counts)."""
        stored = {t.brand_id: (t.brand_daily, t.brand_monthly) for t in self.campaigns.values()}
        brand_running = {t.brand_id for t in self.campaigns.values() if t.running}
        shared_running = {
            t.shared_budget_id for t in self.campaigns.values() if t.running and t.shared_budget_id
        }

        def delta(kind: str, key: TotalKey) -> int | None:
            return None if added is None else getattr(added, kind).get(key)

        hit: set[int] = set()
        for key, amount in totals.brand.items():
            brand_id, period, start = key
            budget = stored[brand_id][0 if period == "day" else 1]
            if self._crossed(
                "brand",
                brand_id,
                budget,
                period,
                start,
                amount,
                delta("brand", key),
                brand_id in brand_running,
            ):
                hit.add(brand_id)
        for key, amount in totals.campaign.items():
            campaign_id, period, start = key
            target = self.campaigns[campaign_id]
            cap = target.daily_cap if period == "day" else target.monthly_cap
            if self._crossed(
                "campaign",
                campaign_id,
                cap,
                period,
                start,
                amount,
                delta("campaign", key),
                target.running,
            ):
                hit.add(target.brand_id)
        shared = {
            t.shared_budget_id: t for t in self.campaigns.values() if t.shared_budget_id is not None
        }
        for key, amount in totals.shared.items():
            shared_id, period, start = key
            target = shared[shared_id]
            own = target.shared_daily if period == "day" else target.shared_monthly
            if self._crossed(
                "shared_budget",
                shared_id,
                own,
                period,
                start,
                amount,
                delta("shared", key),
                shared_id in shared_running,
            ):
                hit.add(target.brand_id)
        for flight_id, (flight_total, flight_budget, brand_id) in totals.flight.items():
            known = None if added is None else added.flight.get(flight_id)
            if reached_by_write(
                flight_total,
                flight_budget,
                None if known is None else known[0],
                brand_id in brand_running,
            ):
                hit.add(brand_id)
        return tuple(sorted(hit))


def _month_end(start: date) -> date:
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def calendar_read(brand_ids: Iterable[int]) -> tuple[CalendarEntry, ...]:
    """The budget calendars of these brands (one query)."""
    ids = sorted(set(brand_ids))
    if not ids:
        return ()
    clause, params = in_ids("brand_id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT target, CASE target WHEN 'campaign' THEN campaign_id "
            "WHEN 'shared_budget' THEN shared_budget_id ELSE brand_id END, effective_on, "
            f"daily_budget, monthly_budget FROM ads_budgetchange WHERE {clause}",
            params,
        )
        return tuple(
            CalendarEntry(target, owner_id, as_date(day), daily, monthly)
            for target, owner_id, day, daily, monthly in cursor.fetchall()
        )


def campaigns_lock(campaign_ids: Sequence[int], *, lock: bool = True) -> SpendTargets:
    """Lock the brands of these campaigns (in id order, as ``brands_lock``) and read what
    recording spend needs in the same query, so budgets cannot change until commit (the
    calendar in a second query, only for brands that have one). Unknown ids are simply
    absent. ``lock=False`` only reads (dry runs)."""
    if not campaign_ids:
        return SpendTargets({})
    clause, params = in_ids("c.id", campaign_ids)
    suffix = f"{lock_clause()} OF b" if lock and dialect().row_locks else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, b.id, b.timezone, b.currency, b.daily_budget, b.monthly_budget, "
            "c.daily_budget, c.monthly_budget, s.id, s.thresholds, s.pacing_margin, "
            "c.shared_budget_id, sb.daily_budget, sb.monthly_budget, "
            "EXISTS (SELECT 1 FROM ads_budgetchange bc WHERE bc.brand_id = b.id), c.status "
            "FROM ads_campaign c JOIN ads_brand b ON b.id = c.brand_id "
            "LEFT JOIN ads_brandalertsettings s ON s.brand_id = b.id "
            "LEFT JOIN ads_sharedbudget sb ON sb.id = c.shared_budget_id "
            f"WHERE {clause} ORDER BY b.id{suffix}",
            params,
        )
        rows = cursor.fetchall()
    calendar = calendar_read(row[1] for row in rows if row[14])
    return SpendTargets({row[0]: _target(row) for row in rows}, calendar)


def _target(row: tuple[Any, ...]) -> SpendTarget:
    """A row of ``campaigns_lock``'s query (campaign id first)."""
    _, brand_id, zone, currency, daily, monthly, cap_daily, cap_monthly = row[:8]
    settings_id, thresholds, margin, shared_id, shared_daily, shared_monthly = row[8:14]
    return SpendTarget(
        brand_id,
        zone,
        currency,
        daily,
        monthly,
        cap_daily,
        cap_monthly,
        settings_id,
        thresholds or "",
        # SQLite hands a decimal column back as a float: through text, as Django's field does.
        None if margin is None else Decimal(str(margin)),
        shared_id,
        shared_daily,
        shared_monthly,
        running=row[15] == CampaignStatus.RUNNING,
    )
