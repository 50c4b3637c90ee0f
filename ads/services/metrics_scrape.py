"""The figures ``/metrics`` reads at scrape time from the database (seconds since each job's
last success, campaigns paused by reason, each outbox's backlog) and whether the broker
answers: right whichever process answers the scrape. The counters are in ``ads.core.metrics``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from django.db.models import Count
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from ads.models import Campaign, CampaignStatus
from ads.services.health import check_broker
from ads.services.job_runs import jobs_freshness
from ads.services.outbox_backlog import OUTBOXES, OutboxBacklog


class DatabaseCollector(Collector):
    """Figures read from the database (and the broker's reachability) at scrape time."""

    def collect(self) -> Iterable[Metric]:
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
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    scrape = CollectorRegistry()
    scrape.register(DatabaseCollector())
    return generate_latest(registry) + generate_latest(scrape), CONTENT_TYPE_LATEST
