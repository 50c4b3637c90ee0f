"""Budget alerts: the rule, the outbox and the delivery.

When a brand's totals change, ``alerts_record_locked`` (inside the spend's transaction, under
the brand locks) compares the brand-local day and month of ``at`` with their budgets:

* a *threshold* alert when spend reaches a percentage of a budget (ALERT_THRESHOLDS, default
  80 and 100, or the brand's own list);
* a *pacing* alert when the straight-line projection to the end of the period exceeds the
  budget by more than a margin (ALERT_PACING_MARGIN, default 10 %), once a tenth of the
  period has passed (earlier, one event projects to nonsense).

Each alert is a row with a unique key (brand, kind, period, period start, threshold),
inserted with ``ON CONFLICT DO NOTHING``: whichever writer crosses first records it, and
every other writer, concurrent or later, inserts nothing. The deliveries (email, webhook)
are rows in the same transaction: an outbox that the ``deliver_alerts`` job sends
(``ads.notifications.alerts``), nudged after commit; a crash or a broker outage can delay
a delivery but never lose or duplicate an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction

from ads.core import nudge
from ads.core.money import MAX_TOTAL_MICROS, from_micros, to_micros
from ads.core.pacing import elapsed_share, projected_spend
from ads.core.percentages import parse_percentage_list
from ads.core.periods import day_bounds, local_period, month_bounds
from ads.core.sql import adapt, rows_cte
from ads.models import (
    AlertChannel,
    AlertDelivery,
    AlertDeliveryState,
    AlertKind,
    Brand,
    BrandAlertSettings,
    BrandPeriodSpend,
    SpendPeriod,
)

logger = logging.getLogger(__name__)

# Pacing is judged only once this share of the period has passed.
PACING_MIN_ELAPSED = Decimal("0.1")
# The beat job that delivers the alert outbox (ads.notifications.alerts).
DELIVER_TASK = "ads.deliver_alerts"


@dataclass(frozen=True)
class _Candidate:
    brand_id: int
    kind: str
    period: str
    period_start: date
    threshold: Decimal
    spend: int  # micros
    budget: int
    projected: int | None


def _thresholds(brand_settings: BrandAlertSettings | None) -> tuple[Decimal, ...]:
    if brand_settings is not None and brand_settings.thresholds.strip():
        try:
            return parse_percentage_list(brand_settings.thresholds)
        except Exception:  # a bad per-brand value falls back to the global list
            logger.warning("brand %s has invalid alert thresholds", brand_settings.brand_id)
    return tuple(settings.ALERT_THRESHOLDS)


def _margin(brand_settings: BrandAlertSettings | None) -> Decimal:
    if brand_settings is not None and brand_settings.pacing_margin is not None:
        return Decimal(brand_settings.pacing_margin)
    return Decimal(settings.ALERT_PACING_MARGIN)


def _candidates(brand_ids: list[int], at: datetime) -> list[_Candidate]:
    brands = list(Brand.objects.filter(pk__in=brand_ids).select_related("alert_settings"))
    periods = {b.pk: local_period(at, b.timezone) for b in brands}
    starts = {p.day for p in periods.values()} | {p.month for p in periods.values()}
    totals = {
        (row.brand_id, row.period, row.period_start): to_micros(row.amount)
        for row in BrandPeriodSpend.objects.filter(brand_id__in=brand_ids, period_start__in=starts)
    }
    found: list[_Candidate] = []
    for brand in brands:
        local = periods[brand.pk]
        found += _brand_candidates(
            brand_id=brand.pk,
            zone=brand.timezone,
            daily_budget=brand.daily_budget,
            monthly_budget=brand.monthly_budget,
            own=getattr(brand, "alert_settings", None),
            day_total=totals.get((brand.pk, SpendPeriod.DAY.value, local.day), 0),
            month_total=totals.get((brand.pk, SpendPeriod.MONTH.value, local.month), 0),
            at=at,
        )
    return found


@dataclass(frozen=True)
class _ZoneClock:
    """The brand-local day and month of ``at`` in one zone, their bounds, and the share of
    each that has passed: the same for every brand of the zone, so a batch spread over a
    thousand brands computes them once per zone."""

    day: date
    month: date
    day_bounds: tuple[datetime, datetime]
    month_bounds: tuple[datetime, datetime]
    day_elapsed: Decimal
    month_elapsed: Decimal


def _zone_clock(at: datetime, zone: str) -> _ZoneClock:
    local = local_period(at, zone)
    days, months = day_bounds(local.day, zone), month_bounds(local.month, zone)
    return _ZoneClock(
        day=local.day,
        month=local.month,
        day_bounds=days,
        month_bounds=months,
        day_elapsed=elapsed_share(bounds=days, at=at),
        month_elapsed=elapsed_share(bounds=months, at=at),
    )


def _brand_candidates(
    *,
    brand_id: int,
    zone: str,
    daily_budget: Decimal,
    monthly_budget: Decimal,
    own: BrandAlertSettings | None,
    day_total: int | None,
    month_total: int | None,
    at: datetime,
    clock: _ZoneClock | None = None,
) -> list[_Candidate]:
    """The alerts one brand's totals of the brand-local day and month of ``at`` call for
    (micros; None: that period's total did not change, so it is not judged). ``clock``:
    the zone's ``_zone_clock(at, zone)``, if the caller has it."""
    if clock is None:
        clock = _zone_clock(at, zone)
    found: list[_Candidate] = []
    for period, start, budget, bounds, elapsed, spend in (
        (
            SpendPeriod.DAY,
            clock.day,
            daily_budget,
            clock.day_bounds,
            clock.day_elapsed,
            day_total,
        ),
        (
            SpendPeriod.MONTH,
            clock.month,
            monthly_budget,
            clock.month_bounds,
            clock.month_elapsed,
            month_total,
        ),
    ):
        if spend is None:
            continue
        budget_micros = to_micros(budget)
        for threshold in _thresholds(own):
            if spend * 100 >= budget_micros * threshold:
                found.append(
                    _Candidate(
                        brand_id,
                        AlertKind.THRESHOLD,
                        period,
                        start,
                        threshold,
                        spend,
                        budget_micros,
                        None,
                    )
                )
        # The status API's projection (one rule), judged once it means something.
        if spend > 0 and elapsed >= PACING_MIN_ELAPSED:
            projection = projected_spend(spend=from_micros(spend), bounds=bounds, at=at)
            projected = to_micros(projection) if projection is not None else 0
            # A projection is a multiple of the spend so far and can pass what the
            # column (a BIGINT of micros) holds; it is shown, so it is capped, not refused.
            projected = min(projected, MAX_TOTAL_MICROS)
            margin = _margin(own)
            if projected * 100 > budget_micros * (100 + margin):
                found.append(
                    _Candidate(
                        brand_id,
                        AlertKind.PACING,
                        period,
                        start,
                        100 + margin,
                        spend,
                        budget_micros,
                        projected,
                    )
                )
    return found


def alerts_record_for_totals(
    *,
    brand_id: int,
    zone: str,
    daily_budget: Decimal,
    monthly_budget: Decimal,
    own: BrandAlertSettings | None,
    day_total: int | None,
    month_total: int | None,
    at: datetime,
) -> list[int]:
    """``alerts_record_locked`` for one brand whose new totals the caller already holds
    (the single-event statement returns them): no query at all unless an alert is due, then
    one transaction of its own for the alert and its deliveries. Safe to run twice."""
    candidates = _brand_candidates(
        brand_id=brand_id,
        zone=zone,
        daily_budget=daily_budget,
        monthly_budget=monthly_budget,
        own=own,
        day_total=day_total,
        month_total=month_total,
        at=at,
    )
    if not candidates:
        return []
    with transaction.atomic():
        return _record(candidates, at)


@dataclass(frozen=True)
class AlertBrand:
    """What the alert rule needs of a brand, read by the caller with the brand's lock
    (budgets in micro-units; ``own`` None: the global settings apply)."""

    brand_id: int
    zone: str
    daily_budget: int
    monthly_budget: int
    own: BrandAlertSettings | None


def alerts_record_for_totals_locked(
    *, brands: Iterable[AlertBrand], totals: Mapping[tuple[int, str, date], int], at: datetime
) -> list[int]:
    """``alerts_record_locked`` for brands whose new totals the caller holds (a spend
    batch's statement returns them, keyed (brand id, period, period start)): no query
    unless an alert is due. As on the single-event path, only the brand-local day and month
    of ``at`` are judged, and only if their totals are among ``totals`` (changed). Runs
    inside the caller's transaction, under the brand locks. Safe to run twice."""
    clocks: dict[str, _ZoneClock] = {}
    candidates: list[_Candidate] = []
    day, month = SpendPeriod.DAY.value, SpendPeriod.MONTH.value
    global_rule = _Screen(None)
    for brand in brands:
        clock = clocks.get(brand.zone)
        if clock is None:
            clock = clocks[brand.zone] = _zone_clock(at, brand.zone)
        day_total = totals.get((brand.brand_id, day, clock.day))
        month_total = totals.get((brand.brand_id, month, clock.month))
        screen = global_rule if brand.own is None else _Screen(brand.own)
        if not (
            screen.may_alert(day_total, brand.daily_budget, clock.day_elapsed)
            or screen.may_alert(month_total, brand.monthly_budget, clock.month_elapsed)
        ):
            continue
        candidates += _brand_candidates(
            brand_id=brand.brand_id,
            zone=brand.zone,
            daily_budget=from_micros(brand.daily_budget),
            monthly_budget=from_micros(brand.monthly_budget),
            own=brand.own,
            day_total=day_total,
            month_total=month_total,
            at=at,
            clock=clock,
        )
    return _record(candidates, at)


class _Screen:
    """A quick float test that lets through every period ``_brand_candidates`` could find
    an alert for (and a few more): judging a thousand brands a batch exactly, in Decimal,
    cost more than the batch's statement. Its slack (a millionth, plus a micro-unit) is far
    above float rounding, so the exact rule still decides every alert."""

    def __init__(self, own: BrandAlertSettings | None) -> None:
        thresholds = _thresholds(own)
        self.lowest = float(min(thresholds)) if thresholds else None
        self.margin = float(_margin(own))

    def may_alert(self, spend: int | None, budget: int, elapsed: Decimal) -> bool:
        if spend is None:
            return False
        ceiling = (spend + 1) * 100 * (1 + 1e-6)
        if self.lowest is not None and ceiling >= budget * self.lowest:
            return True
        share = float(elapsed)
        return (
            spend > 0
            and elapsed >= PACING_MIN_ELAPSED
            and (spend / share + 1) * 100 * (1 + 1e-6) > budget * (100 + self.margin)
        )


def alerts_record_locked(*, brand_ids: Iterable[int], at: datetime) -> list[int]:
    """Record the alerts the brands' current totals call for, once each, and their
    deliveries; enqueue the sending after commit. Runs inside the caller's transaction,
    after its totals changed and under the brand locks. Returns the new alert ids. Safe to
    run twice: an alert that exists is not inserted again."""
    ids = sorted(set(brand_ids))
    if not ids:
        return []
    return _record(_candidates(ids, at), at)


def _record(candidates: list[_Candidate], at: datetime) -> list[int]:
    """Insert the candidates not recorded yet, their deliveries, and the sending after
    commit. Helper: inside the caller's transaction."""
    if not candidates:
        return []
    cte, params = rows_cte(
        "v",
        (
            ("brand_id", "bigint"),
            ("kind", "text"),
            ("period", "text"),
            ("period_start", "date"),
            ("threshold", "numeric"),
            ("spend", "bigint"),
            ("budget", "bigint"),
            ("projected", "bigint"),
        ),
        [
            (
                c.brand_id,
                c.kind,
                c.period,
                c.period_start,
                str(c.threshold),
                c.spend,
                c.budget,
                c.projected,
            )
            for c in candidates
        ],
    )
    # No conflict target: ``alert_once`` is a partial unique index (underspend alerts have
    # their own, ``ads.services.underspend``), and a target would have to repeat its
    # predicate; every unique index of the table is an "already fired" one.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH {cte}
            INSERT INTO ads_alert (brand_id, kind, period, period_start, threshold, spend,
                budget, projected, created_at)
            SELECT brand_id, kind, period, period_start, threshold, spend, budget, projected, %s
            FROM v WHERE 1 = 1
            ON CONFLICT DO NOTHING
            RETURNING id, brand_id, kind, period, period_start, threshold""",
            params + [adapt(at)],
        )
        new = cursor.fetchall()
    if not new:
        return []
    alert_deliveries_add(alerts=[(row[0], row[1]) for row in new], at=at)
    for row in new:
        logger.info(
            "alert %s: brand %s %s %s %s%%",
            row[0],
            row[1],
            row[2],
            row[3],
            row[5],
            extra={"alert_id": row[0], "brand_id": row[1], "kind": row[2], "period": row[3]},
        )
    return [row[0] for row in new]


def alert_deliveries_add(*, alerts: Sequence[tuple[int, int]], at: datetime) -> int:
    """Write the deliveries of new alerts, (alert id, brand id) pairs, to the outbox (one
    per channel of the brand), and nudge their sending after commit. Helper: inside the
    transaction that inserted the alerts, so an alert never exists without its deliveries.
    How many were written."""
    deliveries = _deliveries_for(alerts, at)
    AlertDelivery.objects.bulk_create(deliveries)
    if deliveries:
        # Best effort: the deliver_alerts beat job sends them whatever happens to the nudge.
        transaction.on_commit(lambda: nudge.request(DELIVER_TASK))
    return len(deliveries)


def _deliveries_for(new: Sequence[tuple[int, int]], at: datetime) -> list[AlertDelivery]:
    brand_ids = {row[1] for row in new}
    own = {s.brand_id: s for s in BrandAlertSettings.objects.filter(brand_id__in=brand_ids)}
    deliveries = []
    for alert_id, brand_id in new:
        channels = channels_for(own.get(brand_id))
        for channel, target in channels:
            deliveries.append(
                AlertDelivery(
                    alert_id=alert_id,
                    channel=channel,
                    target=target,
                    created_at=at,
                    next_attempt_at=at,
                )
            )
    return deliveries


def channels_for(brand_settings: BrandAlertSettings | None) -> list[tuple[str, str]]:
    """(channel, target) pairs for a brand: its own recipients, else the global ones."""
    result: list[tuple[str, str]] = []
    emails = (brand_settings.emails if brand_settings else "").strip() or ",".join(
        settings.ALERT_EMAILS
    )
    if emails and (brand_settings is None or brand_settings.email_enabled):
        result.append((AlertChannel.EMAIL, emails))
    url = (brand_settings.webhook_url if brand_settings else "") or (
        settings.ALERT_WEBHOOK_URL or ""
    )
    if url and (brand_settings is None or brand_settings.webhook_enabled):
        result.append((AlertChannel.WEBHOOK, url))
    return result


def alert_deliveries_retry(*, delivery_ids: Sequence[int], at: datetime) -> int:
    """Queue failed deliveries again (staff, after fixing the cause): due at once, with their
    attempts counted afresh; the next pass sends them. Safe to run twice: only failed rows
    change. How many were queued."""
    with transaction.atomic():
        count = AlertDelivery.objects.filter(
            id__in=delivery_ids, state=AlertDeliveryState.FAILED
        ).update(state=AlertDeliveryState.PENDING, next_attempt_at=at, attempts=0, lease_until=None)
    if count:
        transaction.on_commit(lambda: nudge.request(DELIVER_TASK))
    return count
