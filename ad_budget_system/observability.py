"""Log format and error reporting, chosen by LOG_FORMAT and SENTRY_DSN."""

from __future__ import annotations

from typing import Any


def logging_config(*, log_format: str) -> dict[str, Any]:
    """The LOGGING dict: key=value lines (default) or one JSON object per line."""
    formatters: dict[str, Any] = {
        "keyvalue": {
            "()": "ad_budget_system.logfmt.KeyValueFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            # Amounts travel as strings already; anything else unusual is written as text.
            "json_default": str,
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "filters": {
            "request_id": {"()": "ad_budget_system.logfmt.RequestIdFilter"},
            "quiet_probes": {"()": "ad_budget_system.logfmt.QuietProbes"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": "INFO"},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Probes and scrapes arrive every few seconds; their request lines are not INFO.
            "django.server": {"filters": ["quiet_probes"]},
        },
    }


def sentry_init(*, dsn: str | None, environment: str, traces_sample_rate: float) -> bool:
    """Start Sentry (Django and Celery integrations) when a DSN is set; nothing otherwise,
    so no event can leave the machine without one. Returns whether it started."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,  # no user names, cookies or bodies (API tokens) in events
    )
    return True
