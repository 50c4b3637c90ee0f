"""Parsing and validation of the environment-driven settings.

Every function here fails with ``ImproperlyConfigured`` naming the variable, so a typo in
``.env`` stops the process at start instead of silently falling back to a default. The
message says what is wrong with the value and how to fix it: ``config_errors`` prints it as
the one line the process shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from celery.schedules import crontab, schedule
from django.core.exceptions import ImproperlyConfigured

from ads.core.periods import is_valid_timezone

# Values that appear in `.env.example` or in tutorials; never acceptable in production.
EXAMPLE_SECRET_KEYS = frozenset({"", "change-me", "your-generated-secret-key-here"})
INSECURE_SECRET_KEY_PREFIX = "django-insecure"


def read(environ: Mapping[str, str], name: str) -> str | None:
    """Return the stripped value of ``name``; an empty value counts as unset."""
    value = environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def parse_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = read(environ, name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use True or False.")


def parse_positive_int(
    environ: Mapping[str, str], name: str, default: int, *, unit: str = "minutes"
) -> int:
    raw = read(environ, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a positive whole number of {unit}; use one, "
            f"e.g. {name}={default} (the default)."
        ) from None
    if value <= 0:
        raise ImproperlyConfigured(
            f"{name}={raw!r} must be a positive whole number of {unit}; use one, "
            f"e.g. {name}={default} (the default)."
        )
    return value


def parse_split_lease(environ: Mapping[str, str], *, intervals: Mapping[str, int]) -> int | None:
    """``SWEEP_SPLIT_LEASE_SECONDS``: how long a split sweep's claim holds without news from
    its ranges, or None when unset (half of each sweep's interval). Refused unless shorter
    than each sweep's interval (``intervals``: variable name to minutes), since a longer
    lease would let a sweep lost with its worker keep the next one from starting."""
    name = "SWEEP_SPLIT_LEASE_SECONDS"
    raw = read(environ, name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a positive whole number of seconds; use one, e.g. "
            f"{name}=20, or leave it unset for half of each sweep's interval."
        )
    for variable, minutes in intervals.items():
        if int(raw) >= minutes * 60:
            raise ImproperlyConfigured(
                f"{name}={raw!r} must be shorter than {variable}={minutes} ({minutes * 60} "
                "seconds), or a sweep lost with its worker keeps the next one from starting; "
                "lower it, or leave it unset for half of each sweep's interval."
            )
    return int(raw)


def parse_budget_check_minutes(environ: Mapping[str, str], default: int) -> int:
    """The budget-check interval, from either of the two names the user's README documents.

    ``DEFAULT_SPEND_CHECK_INTERVAL_MINUTES`` and ``DEFAULT_BUDGET_CHECK_FREQUENCY`` both
    describe "how often budgets are checked"; one value drives the beat entry. Setting both
    to different values is ambiguous, so it is refused rather than one silently winning.
    """
    primary = "DEFAULT_SPEND_CHECK_INTERVAL_MINUTES"
    alias = "DEFAULT_BUDGET_CHECK_FREQUENCY"
    first = parse_positive_int(environ, primary, default)
    second = parse_positive_int(environ, alias, default)
    first_set = read(environ, primary) is not None
    second_set = read(environ, alias) is not None
    if first_set and second_set and first != second:
        raise ImproperlyConfigured(
            f"{primary}={first} and {alias}={second} disagree; they set the same interval, "
            "so set one of them (or both to the same value)."
        )
    return first if first_set else second


def parse_cron(environ: Mapping[str, str], name: str, default: str) -> str:
    raw = read(environ, name) or default
    expression = " ".join(raw.split())
    fields = expression.split(" ")
    if len(fields) != 5:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a cron expression: expected 5 fields "
            f"(minute hour day-of-month month day-of-week), got {len(fields)}; "
            f"use five, e.g. {name}={default} (the default)."
        )
    try:
        crontab.from_string(expression)
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a valid cron expression: {exc} Use minute 0-59, hour "
            f"0-23, day 1-31, month 1-12, weekday 0-6, e.g. {name}={default} (the default)."
        ) from None
    return expression


def parse_timezone(environ: Mapping[str, str], name: str, default: str) -> str:
    raw = read(environ, name) or default
    if not is_valid_timezone(raw):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not an IANA time zone name; use one such as UTC or "
            "Europe/Berlin."
        )
    return raw


def parse_secret_key(environ: Mapping[str, str], *, debug: bool, dev_default: str) -> str:
    raw = read(environ, "DJANGO_SECRET_KEY")
    if debug:
        return raw or dev_default
    if (
        raw is None
        or raw in EXAMPLE_SECRET_KEYS
        or raw.startswith(INSECURE_SECRET_KEY_PREFIX)
        # Django's own deployment check (security.W009): at least 50 characters, 5 distinct.
        or len(raw) < 50
        or len(set(raw)) < 5
    ):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is missing or still the example value (or weak: under 50 "
            "characters or 5 distinct ones), and DJANGO_DEBUG is False. "
            "Generate one with: python -c 'from django.core.management.utils import "
            "get_random_secret_key; print(get_random_secret_key())'"
        )
    return raw


def every_minutes(minutes: int) -> crontab | schedule:
    """A beat schedule firing every ``minutes``.

    Intervals that divide an hour are aligned to the clock (a window opening at 09:00 is acted
    on at 09:00, not at whatever second beat happened to start); others fall back to a plain
    interval from beat's start.
    """
    if 60 % minutes == 0:
        return crontab(minute="*" if minutes == 1 else f"*/{minutes}")
    return schedule(timedelta(minutes=minutes))


def build_beat_schedule(
    *,
    budget_check_minutes: int,
    dayparting_minutes: int,
    daily_reset_cron: str,
    monthly_reset_cron: str,
    split_sweeps: bool = True,
) -> dict[str, dict[str, Any]]:
    """The four periodic jobs. Each expires after one interval, so a backlog built up while
    the worker was down collapses instead of replaying stale sweeps. ``split_sweeps``: the
    two sweeps as chords of one task per brand range (ads.services.sweep_split), each
    sweep still one job run; off, each sweep is one task."""
    suffix = "_split" if split_sweeps else ""

    def every(minutes: int, task: str) -> dict[str, Any]:
        return {
            "task": task,
            "schedule": every_minutes(minutes),
            "options": {"expires": minutes * 60},
        }

    # Each entry is named after its job (JobName, the task, the command and the docs).
    return {
        "check_budget": every(budget_check_minutes, f"ads.check_budget{suffix}"),
        "enforce_dayparting": every(dayparting_minutes, f"ads.enforce_dayparting{suffix}"),
        "reset_spend_daily": {
            "task": "ads.reset_spend_daily",
            "schedule": crontab.from_string(daily_reset_cron),
            "options": {"expires": 3600},
        },
        "reset_spend_monthly": {
            "task": "ads.reset_spend_monthly",
            "schedule": crontab.from_string(monthly_reset_cron),
            "options": {"expires": 3600},
        },
    }


# --- verify_totals: the nightly check that the totals follow the ledger --------------------
def verify_totals_beat_entry(cron: str) -> dict[str, Any]:
    """Checks only (never repairs: a repair is an operator's decision); drift is logged at
    ERROR. Expires after an hour, like the resets, so a backlog does not replay it."""
    return {
        "task": "ads.verify_totals",
        "schedule": crontab.from_string(cron),
        "options": {"expires": 3600},
    }
