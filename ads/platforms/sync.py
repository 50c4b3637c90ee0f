"""Pulling from the ad platforms: spend restated from the platform's own numbers, and the
platform's campaign statuses compared with ours.

For each enabled account that can be read: today's and yesterday's spend per campaign
(brand-local dates; the account should report in the brand's zone) goes through the daily
totals service as restatements with the platform as source, so enforcement follows the
platform. A campaign the platform does not list for a day spent nothing that day. Then the
statuses: a campaign we hold paused that runs on the platform is paused again (a new push
through the outbox) and the drift is counted and logged; a campaign paused on the platform
while we hold it running was paused by someone else: it is flagged for staff and never
resumed by us.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from ads.core.periods import local_date
from ads.core.sql import adapt, rows_cte
from ads.models import (
    AdAccount,
    Campaign,
    CampaignStatus,
    DeliveryState,
    PlatformDelivery,
    PlatformStatus,
    ReportedDailyTotal,
)
from ads.platforms.base import PlatformError
from ads.platforms.outbox import account_health_set
from ads.platforms.registry import adapter_for
from ads.services.daily_totals import TotalStatus, daily_totals_ingest
from ads.services.locks import brands_lock
from ads.services.platform_queue import enqueue_locked

logger = logging.getLogger(__name__)

SYNC_ACTOR = "sync_platforms"


@dataclass
class SyncReport:
    dry_run: bool
    accounts: int = 0
    campaigns: int = 0
    totals: int = 0  # daily totals reported to the daily totals service
    applied: int = 0  # of which changed the ledger
    drift_repaired: int = 0
    paused_elsewhere: int = 0
    transitions: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Linked:
    campaign_id: int
    platform_campaign_id: str


def platforms_sync(
    *, at: datetime, account_id: int | None = None, dry_run: bool = False
) -> SyncReport:
    """Restate today's and yesterday's spend from each enabled account and repair status
    drift. Safe to run twice: a report not newer than the applied one changes nothing, and
    a repeated pause changes nothing on the platform. ``dry_run`` reads but writes nothing."""
    report = SyncReport(dry_run=dry_run)
    accounts = AdAccount.objects.filter(enabled=True).select_related("brand").order_by("pk")
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    for account in accounts:
        linked = [
            _Linked(campaign_id, platform_id)
            for campaign_id, platform_id in Campaign.objects.filter(ad_account=account)
            .order_by("pk")
            .values_list("pk", "platform_campaign_id")
            if platform_id
        ]
        if not linked:
            continue
        try:
            adapter = adapter_for(account)
            if not adapter.reads:
                continue
            report.accounts += 1
            report.campaigns += len(linked)
            ids = [c.platform_campaign_id for c in linked]
            today = local_date(at, account.brand.timezone)
            days = [today - timedelta(days=1), today]
            spend = adapter.read_daily_spend(ids, days)
            statuses = adapter.read_statuses(ids)
        except PlatformError as exc:
            if not dry_run and (exc.auth or not exc.retryable):
                account_health_set(account, error=exc.message, at=at)
            logger.warning(
                "sync of ad account %s failed: %s",
                account.pk,
                exc.message,
                extra={"ad_account_id": account.pk},
            )
            report.errors.append(f"account {account.pk}: {exc.message}")
            continue
        totals: dict[tuple[int, Any], Decimal] = {
            (c.campaign_id, day): Decimal(0) for c in linked for day in days
        }
        by_platform_id = {c.platform_campaign_id: c.campaign_id for c in linked}
        for row in spend:
            key = (by_platform_id[row.platform_campaign_id], row.day)
            if key in totals:
                totals[key] += row.amount
        report.totals += len(totals)
        if dry_run:
            continue
        # A total equal to the one already applied would change nothing: leave it out, so
        # a sync where little changed costs little.
        applied = {
            (campaign_id, day): total
            for campaign_id, day, total in ReportedDailyTotal.objects.filter(
                campaign_id__in=[c.campaign_id for c in linked],
                source=account.platform,
                day__in=days,
            ).values_list("campaign_id", "day", "total")
        }
        totals = {key: total for key, total in totals.items() if applied.get(key) != total}
        result = daily_totals_ingest(
            items=[
                {
                    "campaign": campaign_id,
                    "date": day.isoformat(),
                    "total": str(total),
                    "reported_at": at.isoformat(),
                    "source": account.platform,
                }
                for (campaign_id, day), total in totals.items()
            ],
            at=at,
            actor=SYNC_ACTOR,
        )
        report.applied += result.count(TotalStatus.APPLIED)
        report.transitions += len(result.transitions)
        for outcome in result.outcomes:
            if outcome.status == TotalStatus.REJECTED:
                report.errors.append(f"account {account.pk}: {outcome.reason}")
        _statuses_apply(account, linked, statuses, at=at, report=report)
        AdAccount.objects.filter(pk=account.pk).update(last_sync_at=at)
        account_health_set(account, error=None, at=at)
    return report


def _statuses_apply(
    account: AdAccount,
    linked: Sequence[_Linked],
    statuses: dict[str, PlatformStatus],
    *,
    at: datetime,
    report: SyncReport,
) -> None:
    with transaction.atomic():
        # Under the brand lock the engine cannot move these campaigns meanwhile, so "we hold
        # it paused" is still true when the repair is queued.
        brands_lock([account.brand_id])
        ours = dict(
            Campaign.objects.filter(pk__in=[c.campaign_id for c in linked]).values_list(
                "pk", "status"
            )
        )
        in_flight = set(
            PlatformDelivery.objects.filter(
                account=account, state__in=(DeliveryState.PENDING, DeliveryState.SENDING)
            ).values_list("campaign_id", flat=True)
        )
        rows: list[tuple[int, str, bool, int]] = []
        repairs: list[tuple[int, str]] = []
        for campaign in linked:
            seen = statuses.get(campaign.platform_campaign_id, PlatformStatus.REMOVED)
            held = ours.get(campaign.campaign_id)
            settled = campaign.campaign_id not in in_flight
            drift = settled and held == CampaignStatus.PAUSED and seen == PlatformStatus.RUNNING
            elsewhere = settled and held == CampaignStatus.RUNNING and seen == PlatformStatus.PAUSED
            if drift:
                repairs.append((campaign.campaign_id, CampaignStatus.PAUSED))
                logger.warning(
                    "campaign %s runs on %s although paused here: pausing it again",
                    campaign.campaign_id,
                    account.platform,
                    extra={
                        "campaign_id": campaign.campaign_id,
                        "ad_account_id": account.pk,
                        "platform_campaign_id": campaign.platform_campaign_id,
                    },
                )
            if elsewhere:
                report.paused_elsewhere += 1
            rows.append((campaign.campaign_id, seen, elsewhere, 1 if drift else 0))
        _platform_state_seen(rows, at=at)
        enqueue_locked(repairs, at=at)
        report.drift_repaired += len(repairs)


def _platform_state_seen(rows: Sequence[tuple[int, str, bool, int]], *, at: datetime) -> None:
    if not rows:
        return
    cte, params = rows_cte(
        "v",
        (
            ("campaign_id", "bigint"),
            ("status", "text"),
            ("elsewhere", "boolean"),
            ("drift", "integer"),
        ),
        rows,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO ads_campaignplatformstate
                (campaign_id, platform_status, platform_status_at, paused_elsewhere,
                 last_error, drift_repairs, last_drift_at)
            SELECT campaign_id, status, %s, elsewhere, '', drift,
                CASE WHEN drift > 0 THEN %s ELSE NULL END
            FROM v WHERE 1 = 1
            ON CONFLICT (campaign_id) DO UPDATE SET
                platform_status = excluded.platform_status,
                platform_status_at = excluded.platform_status_at,
                paused_elsewhere = excluded.paused_elsewhere,
                drift_repairs = ads_campaignplatformstate.drift_repairs + excluded.drift_repairs,
                last_drift_at = COALESCE(excluded.last_drift_at,
                    ads_campaignplatformstate.last_drift_at)""",
            params + [adapt(at), adapt(at)],
        )
