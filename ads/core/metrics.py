"""Prometheus counters and histograms: the series counted as things happen, and the one
place each is counted (the figures read at scrape time are in ``ads.services.metrics_scrape``).

They live in the process that counts them. Under gunicorn (several processes) set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder shared by the web processes:
prometheus-client then writes each process's values there and ``/metrics`` sums them.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import Counter, Histogram

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
