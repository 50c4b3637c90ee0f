"""The lock order every writer of a brand's money or campaign states follows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

from ads.core.sql import dialect, in_ids, lock_clause
from ads.models import BrandAlertSettings
from ads.services.alerts import AlertBrand


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


@dataclass(frozen=True)
class SpendTarget:
    """What recording spend needs to know of a campaign, read under its brand's lock.
    Budgets and caps are micro-units; caps are None where the campaign has none."""

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
class SpendTargets:
    campaigns: dict[int, SpendTarget]

    def alert_brands(self) -> list[AlertBrand]:
        """Each brand of these campaigns once, as the alert rule needs it."""
        first = {t.brand_id: t for t in self.campaigns.values()}
        return [target.alert_brand() for target in first.values()]

    def reached(
        self,
        campaign_totals: dict[tuple[int, str, date], int],
        brand_totals: dict[tuple[int, str, date], int],
    ) -> tuple[int, ...]:
        """Brands where one of these totals is at or past its budget or cap."""
        budgets = {t.brand_id: (t.brand_daily, t.brand_monthly) for t in self.campaigns.values()}
        hit = {
            brand_id
            for (brand_id, period, _), amount in brand_totals.items()
            if amount >= budgets[brand_id][0 if period == "day" else 1]
        }
        for (campaign_id, period, _), amount in campaign_totals.items():
            target = self.campaigns[campaign_id]
            cap = target.daily_cap if period == "day" else target.monthly_cap
            if cap is not None and amount >= cap:
                hit.add(target.brand_id)
        return tuple(sorted(hit))


def campaigns_lock(campaign_ids: Sequence[int], *, lock: bool = True) -> SpendTargets:
    """Lock the brands of these campaigns (in id order, as ``brands_lock``) and read what
    recording spend needs in the same query, so budgets cannot change until commit.
    Unknown ids are simply absent. ``lock=False`` only reads (dry runs)."""
    if not campaign_ids:
        return SpendTargets({})
    clause, params = in_ids("c.id", campaign_ids)
    suffix = f"{lock_clause()} OF b" if lock and dialect().row_locks else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, b.id, b.timezone, b.currency, b.daily_budget, b.monthly_budget, "
            "c.daily_budget, c.monthly_budget, s.id, s.thresholds, s.pacing_margin "
            "FROM ads_campaign c JOIN ads_brand b ON b.id = c.brand_id "
            "LEFT JOIN ads_brandalertsettings s ON s.brand_id = b.id "
            f"WHERE {clause} ORDER BY b.id{suffix}",
            params,
        )
        rows = cursor.fetchall()
    return SpendTargets({row[0]: _target(row) for row in rows})


def _target(row: tuple[Any, ...]) -> SpendTarget:
    """A row of ``campaigns_lock``'s query (campaign id first)."""
    _, brand_id, zone, currency, daily, monthly, cap_daily, cap_monthly = row[:8]
    settings_id, thresholds, margin = row[8:]
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
    )
