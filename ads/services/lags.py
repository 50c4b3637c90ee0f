"""Reporting lags: how late each brand's spend sources report, learned from the ledger.

Every ledger row keeps when it occurred and when it was received (``recorded_at``). For an
event the lag is the difference. For a restated daily total the adjustment's ``occurred_at``
is clamped to the reported day (``ads.services.daily_totals``), so the same difference says
how long after the day ended the day's total still grew: one formula for both kinds.

The ``learn_lags`` job reads the rows received over the last ``LAG_WINDOW`` (7 days) and,
per brand and source, takes the p50 and p95 **weighted by amount**: the lag by which half,
and 95 %, of the source's spend had arrived. That is the figure the expected-spend stop needs
(how much spend is still on its way), and a flood of tiny rows cannot hide one large late
one. Left out: backfills (``import_spend``, marked on the ledger row), rows that arrived more
than ``MAX_LAG_MINUTES`` (48 h) after they occurred (late loads, not reporting lag),
corrections by staff and negative restatements (spend taken back is not spend arriving).
Fewer than ``LAG_MIN_SAMPLES`` rows learn nothing: the figures stay null. A source with
nothing in the window is cleared. An operator's ``lag_minutes`` wins over what is learned.

Set-based: one statement measures every brand and source (window functions, both
databases), one writes the figures, one clears the silent sources. Safe to run twice: a run
at the same instant writes the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from ads.core.sql import adapt, in_ids, rows_cte, seconds_between
from ads.models import MAX_LAG_MINUTES, ConfigAction, SpendKind, SpendSource
from ads.services.config_audit import config_change_record
from ads.services.job_runs import JobFigures
from ads.services.plan_checks import brand_enforce
from ads.services.rule import Transition
from ads.services.spend_events import MAX_SOURCE_LENGTH, key_text_problem

LAG_WINDOW = timedelta(days=7)
LAG_MIN_SAMPLES = 20
MAX_LAG_SECONDS = MAX_LAG_MINUTES * 60


@dataclass(frozen=True)
class LearnedLag:
    """What the ledger says of one brand's source over the window."""

    brand_id: int
    source: str
    samples: int
    p50_minutes: int | None
    p95_minutes: int | None
    min_minutes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "brand": self.brand_id,
            "source": self.source,
            "samples": self.samples,
            "p50_minutes": self.p50_minutes,
            "p95_minutes": self.p95_minutes,
            "min_minutes": self.min_minutes,
        }


@dataclass(frozen=True)
class LagReport:
    at: datetime
    learned: list[LearnedLag]
    cleared: int
    dry_run: bool

    def line(self) -> str:
        known = sum(1 for lag in self.learned if lag.p95_minutes is not None)
        verb = "would learn" if self.dry_run else "learned"
        cleared = "" if self.dry_run else f"; {self.cleared} silent source(s) cleared"
        return (
            f"learn_lags: {verb} the lags of {len(self.learned)} source(s) with rows in the "
            f"last {LAG_WINDOW.days} days, {known} with enough ({LAG_MIN_SAMPLES}+ rows)"
            f"{cleared}."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "sources": len(self.learned),
            "known": sum(1 for lag in self.learned if lag.p95_minutes is not None),
            "cleared": self.cleared,
            "dry_run": self.dry_run,
        }


def lags_figures(report: LagReport) -> JobFigures:
    """What a run writes into its job-run row."""
    return JobFigures(detail=report.as_dict())


def _minutes_up(seconds: float) -> int:
    # Up: a lag of 61 seconds is not "1 minute" to a brake that must not stop late.
    return max(0, math.ceil(round(seconds, 3) / 60))


def lags_measure(*, at: datetime, brand_ids: Sequence[int] | None = None) -> list[LearnedLag]:
    """Per brand and source, the weighted p50 and p95 lag of the rows received in the
    window before ``at`` (one query)."""
    lag = seconds_between("e.recorded_at", "e.occurred_at")
    since = at - LAG_WINDOW
    scope, params = ("", []) if brand_ids is None else in_ids("c.brand_id", list(brand_ids))
    # The local date bound only lets PostgreSQL skip the ledger's older monthly partitions:
    # a row received in the window occurred at most 48 h before it (a day more for zones).
    earliest_day = (since - timedelta(hours=48) - timedelta(days=1)).astimezone(UTC).date()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH r AS (
                SELECT c.brand_id AS brand_id, e.source AS source,
                    CAST(e.amount AS DOUBLE PRECISION) AS weight, {lag} AS raw_s
                FROM ads_spendevent e JOIN ads_campaign c ON c.id = e.campaign_id
                WHERE e.recorded_at > %s AND e.recorded_at <= %s AND e.local_date >= %s
                    AND e.kind IN (%s, %s) AND e.amount > 0 AND NOT e.backfill
                    {"AND " + scope if scope else ""}
            ),
            s AS (
                SELECT brand_id, source, weight, raw_s,
                    CASE WHEN raw_s < 0 THEN 0 ELSE raw_s END AS lag_s
                FROM r WHERE raw_s <= {MAX_LAG_SECONDS}
            ),
            w AS (
                SELECT brand_id, source, lag_s, raw_s,
                    SUM(weight) OVER (PARTITION BY brand_id, source ORDER BY lag_s) AS running,
                    SUM(weight) OVER (PARTITION BY brand_id, source) AS total,
                    COUNT(*) OVER (PARTITION BY brand_id, source) AS n
                FROM s
            )
            SELECT brand_id, source, MAX(n),
                MIN(CASE WHEN running * 2 >= total THEN lag_s END),
                MIN(CASE WHEN running * 20 >= total * 19 THEN lag_s END),
                MIN(raw_s)
            FROM w GROUP BY brand_id, source ORDER BY brand_id, source""",
            [
                adapt(since),
                adapt(at),
                adapt(earliest_day),
                SpendKind.EVENT.value,
                SpendKind.ADJUSTMENT.value,
                *params,
            ],
        )
        rows = cursor.fetchall()
    learned = []
    for brand_id, source, samples, p50, p95, least in rows:
        enough = int(samples) >= LAG_MIN_SAMPLES
        learned.append(
            LearnedLag(
                brand_id=int(brand_id),
                source=source,
                samples=int(samples),
                p50_minutes=_minutes_up(float(p50)) if enough else None,
                p95_minutes=_minutes_up(float(p95)) if enough else None,
                # Signed and rounded toward zero: a clock a few minutes ahead shows as -N.
                min_minutes=int(round(float(least), 3) / 60),
            )
        )
    return learned


def lags_learn(
    *, at: datetime, brand_ids: Sequence[int] | None = None, dry_run: bool = False
) -> LagReport:
    """Learn every source's lag from the ledger (or only these brands') and store it on
    its ``SpendSource`` (created for a source seen the first time); clear the figures of
    sources with nothing in the window. ``dry_run`` measures and stores nothing."""
    learned = lags_measure(at=at, brand_ids=brand_ids)
    if dry_run:
        return LagReport(at=at, learned=learned, cleared=0, dry_run=True)
    cte, params = rows_cte(
        "v",
        (
            ("brand_id", "bigint"),
            ("source", "text"),
            ("samples", "bigint"),
            ("p50", "bigint"),
            ("p95", "bigint"),
            ("least_minutes", "bigint"),
        ),
        [
            (
                lag.brand_id,
                lag.source,
                lag.samples,
                lag.p50_minutes,
                lag.p95_minutes,
                lag.min_minutes,
            )
            for lag in learned
        ],
    )
    scope, scope_params = ("", []) if brand_ids is None else in_ids("brand_id", list(brand_ids))
    with transaction.atomic(), connection.cursor() as cursor:
        if learned:
            # `WHERE 1 = 1` resolves SQLite's parsing ambiguity of INSERT ... SELECT ... ON.
            cursor.execute(
                f"""WITH {cte}
                INSERT INTO ads_spendsource (brand_id, source, lag_minutes,
                    learned_p50_minutes, learned_p95_minutes, learned_min_minutes, samples,
                    learned_at)
                SELECT brand_id, source, NULL, p50, p95, least_minutes, samples, %s
                FROM v WHERE 1 = 1
                ON CONFLICT (brand_id, source) DO UPDATE SET
                    learned_p50_minutes = excluded.learned_p50_minutes,
                    learned_p95_minutes = excluded.learned_p95_minutes,
                    learned_min_minutes = excluded.learned_min_minutes,
                    samples = excluded.samples, learned_at = excluded.learned_at""",
                params + [adapt(at)],
            )
        # Every source learned above now has learned_at = at; the others were silent.
        cursor.execute(
            f"""UPDATE ads_spendsource SET learned_p50_minutes = NULL,
                learned_p95_minutes = NULL, learned_min_minutes = NULL, samples = 0,
                learned_at = %s
            WHERE samples > 0 AND (learned_at IS NULL OR learned_at <> %s)
                {"AND " + scope if scope else ""}""",
            [adapt(at), adapt(at), *scope_params],
        )
        cleared = cursor.rowcount
    return LagReport(at=at, learned=learned, cleared=cleared, dry_run=False)


def source_problem(source: object) -> str | None:
    """Why ``source`` cannot name a spend source (the rules of the spend endpoints)."""
    return key_text_problem("source", source, MAX_SOURCE_LENGTH)


def lag_problem(lag_minutes: object) -> str | None:
    """Why ``lag_minutes`` cannot be an operator's lag (None is fine: learn it)."""
    if lag_minutes is None:
        return None
    if isinstance(lag_minutes, bool) or not isinstance(lag_minutes, int):
        return "lag_minutes must be a whole number of minutes, or null to learn it"
    if not 0 <= lag_minutes <= MAX_LAG_MINUTES:
        return (
            f"lag_minutes must be from 0 to {MAX_LAG_MINUTES} (48 hours), got {lag_minutes}: "
            "spend later than that is a backfill, not reporting lag"
        )
    return None


def source_lag_set(
    *, brand_id: int, source: str, lag_minutes: int | None, actor: str, at: datetime
) -> SpendSource:
    """Set (or, with None, clear) the operator's lag of a brand's source, creating the
    source if it was never seen; audited. Raises ValidationError and changes nothing on a
    bad source or lag. Helper: inside the caller's transaction, the brand locked (the
    expected-spend stop reads the lag in use)."""
    problems = {
        field: problem
        for field, problem in (
            ("source", source_problem(source)),
            ("lag_minutes", lag_problem(lag_minutes)),
        )
        if problem is not None
    }
    if problems:
        raise ValidationError(problems)
    row, created = SpendSource.objects.get_or_create(brand_id=brand_id, source=source)
    before = None if created else {"lag_minutes": row.lag_minutes}
    if created or row.lag_minutes != lag_minutes:
        row.lag_minutes = lag_minutes
        row.save(update_fields=["lag_minutes"])
    config_change_record(
        brand_id=brand_id,
        obj=row,
        object_type="spend source",
        action=ConfigAction.CREATED if created else ConfigAction.CHANGED,
        before=before,
        after={"lag_minutes": lag_minutes},
        actor=actor,
        at=at,
    )
    return row


def source_lag_change(
    *, brand_id: int, source: str, lag_minutes: int | None, actor: str, at: datetime
) -> tuple[SpendSource, list[Transition]]:
    """``source_lag_set``, then the brand re-evaluated at once (the lag in use feeds the
    expected-spend stop): what the API and the admin both do. Helper: inside the caller's
    transaction, the brand locked (``preconditions.brand_write``)."""
    row = source_lag_set(
        brand_id=brand_id, source=source, lag_minutes=lag_minutes, actor=actor, at=at
    )
    return row, brand_enforce(brand_id, at, actor)


def brand_sources(*, brand_id: int) -> list[SpendSource]:
    """A brand's spend sources by name."""
    return list(SpendSource.objects.filter(brand_id=brand_id).order_by("source"))


def brand_source(*, brand_id: int, source: str) -> SpendSource | None:
    return SpendSource.objects.filter(brand_id=brand_id, source=source).first()
