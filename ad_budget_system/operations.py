"""Parsing of the operations settings (job history, health, metrics, alerts, logging).

Kept apart from ``config`` so the two can change independently; every function fails with
``ImproperlyConfigured`` naming the variable, as ``config``'s do.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from ad_budget_system.config import read
from ads.core.percentages import parse_percentage_list


def parse_days(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = read(environ, name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a positive whole number of days.")
    return int(raw)


def parse_choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = (read(environ, name) or choices[0]).lower()
    if raw not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} must be one of: {', '.join(choices)}.")
    return raw


def parse_networks(
    environ: Mapping[str, str], name: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    raw = read(environ, name)
    if raw is None:
        return ()
    try:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in raw.split(",")
            if part.strip()
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a list of IP networks: {exc}") from None


def parse_percentages(
    environ: Mapping[str, str], name: str, default: tuple[Decimal, ...]
) -> tuple[Decimal, ...]:
    """Comma-separated percentages, e.g. ``80,100``, as sorted distinct Decimals."""
    raw = read(environ, name)
    if raw is None:
        return default
    try:
        return parse_percentage_list(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a list of percentages between 0 and 1000 (e.g. 80,100)."
        ) from None


def parse_percentage(environ: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    raw = read(environ, name)
    if raw is None:
        return default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value > 1000:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a percentage between 0 and 1000.")
    return value


def parse_url(environ: Mapping[str, str], name: str) -> str | None:
    """An http(s) URL with a host. Where it may be sent is the egress policy's decision, at
    send time (it resolves names, which startup must not wait on)."""
    raw = read(environ, name)
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not an http(s) URL with a host; use e.g. "
            f"{name}=https://hooks.slack.com/services/..."
        )
    return raw


def parse_list(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = read(environ, name) or ""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def parse_seconds(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = read(environ, name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number of seconds (0 or more).")
    return int(raw)


def parse_fraction(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = read(environ, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a fraction between 0 and 1.")
    return value


_VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def parse_credential_bindings(environ: Mapping[str, str], name: str) -> dict[str, frozenset[str]]:
    """``{"VARIABLE": ["Brand name", ...] or ["*"]}``: which brands may use each credentials
    variable. Unset or empty: none may."""
    raw = read(environ, name)
    if raw is None:
        return {}
    example = '{"ACME_GOOGLE_ADS": ["Acme Coffee"], "AGENCY_WEBHOOK_SECRET": ["*"]}'
    try:
        value = json.loads(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} is not JSON; use e.g. {name}={example}") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(
            f"{name} must be a JSON object mapping each credentials variable to the names of "
            f'the brands that may use it (or ["*"] for all), e.g. {example}'
        )
    bindings: dict[str, frozenset[str]] = {}
    for variable, brands in value.items():
        if not isinstance(variable, str) or not _VARIABLE.match(variable):
            raise ImproperlyConfigured(
                f"{name}: {variable!r} is not a variable name (upper-case letters, digits and "
                "underscores, starting with a letter)"
            )
        if (
            not isinstance(brands, list)
            or not brands
            or not all(isinstance(b, str) and b.strip() for b in brands)
        ):
            raise ImproperlyConfigured(
                f'{name}: {variable} must map to a non-empty list of brand names, or ["*"] '
                f"for every brand, e.g. {example}"
            )
        names = frozenset(b.strip() for b in brands)
        if "*" in names and len(names) > 1:
            raise ImproperlyConfigured(
                f'{name}: {variable} lists "*" with brand names; use ["*"] alone for every brand'
            )
        bindings[variable] = names
    return bindings
