"""Platform daily totals: "campaign X spent T on brand-local date D, as of report time R".

The latest report per (campaign, source, date) wins. Applying one records, in the ledger, the
difference between T and what that source already holds for that campaign and day (its
events and earlier adjustments), as an adjustment (positive or negative). So restated totals
correct the day without losing history, and an older report than the one applied changes
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from pydantic import ValidationError

from ads.core.money import MoneyError, from_micros, parse_money, to_micros
from ads.core.periods import day_bounds, local_date
from ads.core.sql import adapt, rows_cte
from ads.core.transactions import run_with_retry
from ads.models import ReportedDailyTotal, SpendEvent, SpendKind, Trigger
from ads.services.alerts import alerts_record_locked
from ads.services.ingest import CampaignInfo, CampaignResolver, parse_instant
from ads.services.ledger import LedgerRow, TotalsOverflow, ledger_and_totals_add, totals_room
from ads.services.ledger_reads import LedgerKey
from ads.services.locks import brands_lock
from ads.services.reconcile import SYSTEM_ACTOR, log_transitions, reconcile_locked
from ads.services.rule import Scope, Transition
from ads.services.spend_events import MAX_FUTURE_SKEW, MAX_SPEND_AGE, currency_problem
from ads.services.spend_input import DailyTotalPayload, describe_errors


class TotalStatus(StrEnum):
    APPLIED = "applied"  # the day now matches the reported total (an adjustment was recorded)
    UNCHANGED = "unchanged"  # newer report, same total: nothing to adjust
    STALE = "stale"  # not newer than the report already applied: changes nothing
    REJECTED = "rejected"


@dataclass(frozen=True)
class TotalOutcome:
    index: int
    status: TotalStatus
    reason: str | None = None
    adjustment: Decimal | None = None


@dataclass
class DailyTotalsResult:
    outcomes: list[TotalOutcome]
    transitions: list[Transition] = field(default_factory=list)

    def count(self, status: TotalStatus) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)


@dataclass(frozen=True)
class _Report:
    index: int
    campaign: CampaignInfo
    source: str
    day: date
    micros: int
    reported_at: datetime

    @property
    def key(self) -> tuple[int, str, date]:
        return (self.campaign.id, self.source, self.day)


def _check(payload: DailyTotalPayload, info: CampaignInfo, at: datetime) -> _Report | str:
    try:
        day = date.fromisoformat(payload.date.strip())
    except ValueError:
        return f"date {payload.date!r} is not a date (YYYY-MM-DD)"
    try:
        total = parse_money(payload.total)
    except MoneyError as exc:
        return str(exc).replace("amount", "total", 1)
    if total < 0:
        return f"total must not be negative, got {total}"
    reported_at = parse_instant(payload.reported_at, "reported_at")
    if isinstance(reported_at, str):
        return reported_at
    if reported_at > at + MAX_FUTURE_SKEW:
        return f"reported_at {reported_at.isoformat()} is in the future"
    today = local_date(at, info.timezone)
    if day > today:
        return f"date {day} has not begun yet in {info.timezone}"
    if day < today - MAX_SPEND_AGE:
        return f"date {day} is more than {MAX_SPEND_AGE.days} days ago; it cannot be restated"
    if reported_at < day_bounds(day, info.timezone)[0]:
        return f"reported_at {reported_at.isoformat()} is before {day} began in {info.timezone}"
    mismatch = currency_problem(payload.currency, info.currency)
    if mismatch is not None:
        return mismatch
    return _Report(
        index=-1,
        campaign=info,
        source=payload.source,
        day=day,
        micros=to_micros(total),
        reported_at=reported_at,
    )


def _load(
    reports: Sequence[_Report],
) -> tuple[dict[tuple[int, str, date], datetime], dict[tuple[int, str, date], int]]:
    """For the reports' keys: when the applied report was made, and what each source holds
    (micros) for that campaign and day."""
    keys = {report.key for report in reports}
    campaign_ids = {campaign_id for campaign_id, _, _ in keys}
    days = {day for _, _, day in keys}
    rows = ReportedDailyTotal.objects.filter(campaign_id__in=campaign_ids, day__in=days)
    applied: dict[tuple[int, str, date], datetime] = {}
    for campaign_id, source, day, reported_at in rows.values_list(
        "campaign_id", "source", "day", "reported_at"
    ):
        if (campaign_id, source, day) in keys:
            applied[(campaign_id, source, day)] = reported_at
    sums = (
        SpendEvent.objects.filter(campaign_id__in=campaign_ids, local_date__in=days)
        .values_list("campaign_id", "source", "local_date")
        .annotate(held=Sum("amount"))
    )
    held = {
        (campaign_id, source, day): to_micros(amount)
        for campaign_id, source, day, amount in sums
        if (campaign_id, source, day) in keys
    }
    return applied, held


def _save_reports(latest: dict[tuple[int, str, date], _Report], at: datetime) -> None:
    cte, params = rows_cte(
        "v",
        (
            ("campaign_id", "bigint"),
            ("source", "text"),
            ("day", "date"),
            ("total", "bigint"),
            ("reported_at", "timestamptz"),
        ),
        [(r.campaign.id, r.source, r.day, r.micros, r.reported_at) for r in latest.values()],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO ads_reporteddailytotal
                (campaign_id, source, day, total, reported_at, recorded_at)
            SELECT campaign_id, source, day, total, reported_at, %s FROM v WHERE 1 = 1
            ON CONFLICT (campaign_id, source, day) DO UPDATE SET total = excluded.total,
                reported_at = excluded.reported_at, recorded_at = excluded.recorded_at""",
            params + [adapt(at)],
        )


def _adjustment_time(report: _Report) -> datetime:
    """An instant inside the reported day: the report time, or the day's last microsecond
    for a report made after the day ended (the usual final total)."""
    start, end = day_bounds(report.day, report.campaign.timezone)
    return min(max(report.reported_at, start), end - timedelta(microseconds=1))


def _replay(
    reports: Sequence[_Report],
    applied: dict[tuple[int, str, date], datetime],
    held: dict[tuple[int, str, date], int],
) -> Iterator[tuple[_Report, datetime | None, LedgerRow | None]]:
    """Each report in the order it takes effect (oldest first, so within one batch the
    latest report is the one that stays), with the applied report's time if it is stale,
    else the adjustment it needs (None: the day already holds its total). Works on copies."""
    applied, held = dict(applied), dict(held)
    for report in sorted(reports, key=lambda r: (r.reported_at, r.index)):
        previous = applied.get(report.key)
        if previous is not None and report.reported_at <= previous:
            yield report, previous, None
            continue
        delta = report.micros - held.get(report.key, 0)
        applied[report.key], held[report.key] = report.reported_at, report.micros
        if delta == 0:
            yield report, None, None
            continue
        yield report, None, LedgerRow(
            campaign_id=report.campaign.id,
            brand_id=report.campaign.brand_id,
            micros=delta,
            occurred_at=_adjustment_time(report),
            local_date=report.day,
            source=report.source,
            # Unique with kind=adjustment: no client event id can take this key.
            external_id=f"daily-total:{report.campaign.id}:{report.day}:"
            f"{report.reported_at.isoformat()}",
            kind=SpendKind.ADJUSTMENT,
        )


def _adjustments(
    reports: Sequence[_Report],
    applied: dict[tuple[int, str, date], datetime],
    held: dict[tuple[int, str, date], int],
) -> list[LedgerRow]:
    return [row for _, _, row in _replay(reports, applied, held) if row is not None]


def daily_totals_ingest(
    *,
    items: Sequence[Mapping[str, Any]],
    at: datetime,
    actor: str = SYSTEM_ACTOR,
    allowed_brand_ids: frozenset[int] | None = None,
) -> DailyTotalsResult:
    """Apply reported daily totals; the latest report per (campaign, source, date) wins.

    Safe to run twice: a report that is not newer than the applied one changes nothing.
    Campaigns whose budgets the adjustments cross (either way) move before this returns.
    """
    outcomes: dict[int, TotalOutcome] = {}
    parsed: list[tuple[int, DailyTotalPayload]] = []
    for index, raw in enumerate(items):
        try:
            parsed.append((index, DailyTotalPayload.model_validate(raw)))
        except ValidationError as exc:
            outcomes[index] = TotalOutcome(index, TotalStatus.REJECTED, describe_errors(exc))
    resolver = CampaignResolver([payload for _, payload in parsed], allowed_brand_ids)
    reports: list[_Report] = []
    for index, payload in parsed:
        info = resolver.resolve(payload)
        checked = info if isinstance(info, str) else _check(payload, info, at)
        if isinstance(checked, str):
            outcomes[index] = TotalOutcome(index, TotalStatus.REJECTED, checked)
        else:
            reports.append(_Report(**{**checked.__dict__, "index": index}))

    def work(careful: bool) -> tuple[dict[int, TotalOutcome], list[Transition]]:
        decided: dict[int, TotalOutcome] = {}
        with transaction.atomic():
            brands_lock(r.campaign.brand_id for r in reports)
            applied, held = _load(reports)
            refused: dict[LedgerKey, str] = {}
            if careful:
                # A total would overflow: find the reports whose adjustment does not fit.
                _, refused = totals_room(_adjustments(reports, applied, held))
            latest: dict[tuple[int, str, date], _Report] = {}
            adjustments: list[LedgerRow] = []
            for report, previous, adjustment in _replay(reports, applied, held):
                if previous is not None:
                    decided[report.index] = TotalOutcome(
                        report.index,
                        TotalStatus.STALE,
                        f"a report made at {previous.isoformat()} is already applied",
                    )
                elif adjustment is not None and adjustment.key in refused:
                    decided[report.index] = TotalOutcome(
                        report.index, TotalStatus.REJECTED, refused[adjustment.key]
                    )
                elif adjustment is None:
                    latest[report.key] = report
                    decided[report.index] = TotalOutcome(report.index, TotalStatus.UNCHANGED)
                else:
                    latest[report.key] = report
                    decided[report.index] = TotalOutcome(
                        report.index, TotalStatus.APPLIED, adjustment=from_micros(adjustment.micros)
                    )
                    adjustments.append(adjustment)
            if latest:
                _save_reports(latest, at)
            # The totals follow exactly the adjustments the ledger took.
            ledger_and_totals_add(adjustments, at)
            transitions: list[Transition] = []
            if adjustments:
                transitions = reconcile_locked(
                    at=at,
                    trigger=Trigger.SPEND,
                    actor=actor,
                    scope=Scope(brand_ids=tuple(sorted({a.brand_id for a in adjustments}))),
                )
            alerts_record_locked(brand_ids={a.brand_id for a in adjustments}, at=at)
        return decided, transitions

    transitions: list[Transition] = []
    if reports:
        try:
            decided, transitions = run_with_retry(lambda: work(careful=False))
        except TotalsOverflow:
            decided, transitions = run_with_retry(lambda: work(careful=True))
        outcomes.update(decided)
    log_transitions(transitions, at=at, trigger=Trigger.SPEND, actor=actor)
    return DailyTotalsResult(
        outcomes=[outcomes[index] for index in range(len(items))], transitions=transitions
    )
