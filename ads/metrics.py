"""Prometheus metrics: every series this project exports, and the one place each is counted.

Counters and histograms live in the process that counts them. Under gunicorn (several
processes) set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder shared by the web processes:
prometheus-client then writes each process's values there and ``/metrics`` sums them.
Figures that the database already knows (seconds since each job's last success, campaigns
paused by reason, each outbox's backlog) are read at scrape time, so they are right whichever
process answers; so is whether the broker answers.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Count
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:  # the services count with this module; importing them here would be circular
    from ads.services.outbox_backlog import OutboxBacklog

EVENTS = Counter(
    "ads_spend_events",
    "Spend events by outcome (accepted, duplicate, rejected) and by source.",
    ["source", "status"],
)
TRANSITIONS = Counter(
    "ads_campaign_transitions",
    "Campaign status changes by kind (paused, resumed, reason_changed), reason and trigger.",
    ["kind", "reason", "trigger"],
)
JOB_DURATION = Histogram(
    "ads_job_duration_seconds",
    "Duration of periodic job runs, by job and outcome.",
    ["job", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
ALERTS = Counter(
    "ads_alert_deliveries",
    "Alert deliveries by channel and result (sent, failed).",
    ["channel", "result"],
)
HTTP_LATENCY = Histogram(
    "ads_http_request_duration_seconds",
    "Latency of HTTP API requests, by route, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# A source name is chosen by the sender; anything that is not a plausible name is folded
# into one label value so a bad sender cannot create unbounded series.
_MAX_SOURCE_LABEL = 64


def _source_label(source: object) -> str:
    if isinstance(source, str) and 0 < len(source) <= _MAX_SOURCE_LABEL and source.isprintable():
        return source
    return "invalid"


def spend_counted(*, events: Sequence[Any], outcomes: Sequence[Any]) -> None:
    """Count one spend batch: ``outcomes[i]`` (with a ``status``) is the fate of
    ``events[i]`` (with a ``source``)."""
    # Summed first: a batch of 1,000 events touches a label set or two (a labels() lookup
    # per event cost 5-10 ms a batch).
    counts = collections.Counter(
        (
            _source_label(getattr(event, "source", None)),
            getattr(outcome.status, "value", outcome.status),
        )
        for event, outcome in zip(events, outcomes)
    )
    for (source, status), count in counts.items():
        EVENTS.labels(source=source, status=status).inc(count)


def transitions_counted(transitions: Iterable[Any], *, trigger: str) -> None:
    # Summed first: a sweep moving 27,000 campaigns touches a handful of label sets.
    counts = collections.Counter((t.kind, t.to_reason or t.from_reason or "") for t in transitions)
    for (kind, reason), count in counts.items():
        TRANSITIONS.labels(kind=kind, reason=reason, trigger=trigger).inc(count)


def job_finished(*, job: str, outcome: str, seconds: float) -> None:
    JOB_DURATION.labels(job=job, outcome=outcome).observe(seconds)


def alert_delivered(*, channel: str, ok: bool) -> None:
    ALERTS.labels(channel=channel, result="sent" if ok else "failed").inc()


class DatabaseCollector(Collector):
    """Figures read from the database (and the broker's reachability) at scrape time."""

    def collect(self) -> Iterable[Metric]:
        from django.utils import timezone

        from ads.models import Campaign, CampaignStatus
        from ads.services.health import check_broker
        from ads.services.job_runs import jobs_freshness
        from ads.services.outbox_backlog import OUTBOXES

        at = timezone.now()
        age = GaugeMetricFamily(
            "ads_job_last_success_age_seconds",
            "Seconds since each job last succeeded (since installation if it never did).",
            labels=["job"],
        )
        stale = GaugeMetricFamily(
            "ads_job_stale",
            "1 when a job's last success is older than three of its intervals.",
            labels=["job"],
        )
        for fresh in jobs_freshness(at=at):
            if fresh.since is not None:
                age.add_metric([fresh.job], (at - fresh.since).total_seconds())
            stale.add_metric([fresh.job], 1.0 if fresh.stale else 0.0)
        yield age
        yield stale
        paused = GaugeMetricFamily(
            "ads_campaigns_paused", "Campaigns paused now, by reason.", labels=["reason"]
        )
        # One query: a GROUP BY over the campaigns.
        rows = (
            Campaign.objects.filter(status=CampaignStatus.PAUSED)
            .values_list("pause_reason")
            .order_by()
            .annotate(n=Count("id"))
        )
        for reason, count in rows:
            paused.add_metric([reason or ""], float(count))
        yield paused
        yield from _outbox_metrics([figures(at=at) for figures in OUTBOXES.values()])
        broker = GaugeMetricFamily(
            "ads_broker_up", "1 when the broker accepted a connection at scrape time (2 s limit)."
        )
        broker.add_metric([], 1.0 if check_broker().ok else 0.0)
        yield broker


def _outbox_metrics(backlogs: Sequence[OutboxBacklog]) -> Iterable[Metric]:
    """Each outbox's figures, as /status and doctor report them (outbox_backlog)."""
    waiting = GaugeMetricFamily(
        "ads_outbox_backlog", "Rows each outbox still has to deliver.", labels=["outbox"]
    )
    age = GaugeMetricFamily(
        "ads_outbox_oldest_due_age_seconds",
        "Seconds the longest-waiting due row of each outbox has been due (0 when none is).",
        labels=["outbox"],
    )
    failed = GaugeMetricFamily(
        "ads_outbox_failed", "Rows of each outbox that failed for good.", labels=["outbox"]
    )
    for backlog in backlogs:
        waiting.add_metric([backlog.outbox], float(backlog.backlog))
        oldest = backlog.oldest_due_age
        age.add_metric([backlog.outbox], oldest.total_seconds() if oldest is not None else 0.0)
        failed.add_metric([backlog.outbox], float(backlog.failed))
    yield waiting
    yield age
    yield failed


def exposition() -> tuple[bytes, str]:
    """The text of ``/metrics`` and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    scrape = CollectorRegistry()
    scrape.register(DatabaseCollector())
    return generate_latest(registry) + generate_latest(scrape), CONTENT_TYPE_LATEST
