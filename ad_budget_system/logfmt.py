"""A console formatter that appends ``extra={...}`` fields as ``key=value`` pairs.

Log calls in this project pass structured fields (campaign_id, brand_id, amounts as strings)
through ``extra``; the default formatter would drop them.
"""

from __future__ import annotations

import logging

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if not extras:
            return line
        pairs = " ".join(f"{key}={value}" for key, value in sorted(extras.items()))
        # Keep a traceback (appended by super().format) after the fields, not before them.
        head, sep, tail = line.partition("\n")
        return f"{head} {pairs}{sep}{tail}"


# Health probes, status checks and metric scrapes: the load balancer and the monitoring call
# these every few seconds; a line for each would drown the real requests.
_PROBE_PATHS = ("/healthz", "/readyz", "/status", "/metrics")


class QuietProbes(logging.Filter):
    """Demotes the request lines of probe endpoints below INFO (errors still show)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        return not any(f" {path} " in message or f" {path}?" in message for path in _PROBE_PATHS)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to lines written while an HTTP request is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        from ads.middleware import REQUEST_ID

        request_id = REQUEST_ID.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True
