"""Credentials of other systems, read from the environment and bound to brands.

An ad account names the environment variable holding its credentials (JSON in ``NAME``, or
in the file ``NAME_FILE`` names); the secrets never enter the database. Staff choose that
name, so the name alone must not open another brand's secrets: ``PLATFORM_CREDENTIALS`` maps
each variable to the brands that may use it (``["*"]``: every brand), and a variable bound to
none may be used by none. The binding is checked when an account is saved and again each
time the credentials are read, whatever ``DJANGO_DEBUG`` says.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from django.conf import settings

EVERY_BRAND = "*"


class CredentialsError(Exception):
    """Credentials that cannot be used: unbound, missing or malformed. ``reason`` names the
    variable and says what to do, never a secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def bindings() -> Mapping[str, frozenset[str]]:
    return getattr(settings, "PLATFORM_CREDENTIALS", {})


def binding_problem(variable: str, brand_name: str) -> str | None:
    """Why the brand named ``brand_name`` may not use ``variable``, or None when it may."""
    brands = bindings().get(variable, frozenset())
    if EVERY_BRAND in brands or brand_name in brands:
        return None
    # The same words whether the variable is bound elsewhere or nowhere: a staff member
    # learns nothing about other brands' variables by trying names.
    return (
        f"{variable} is not bound to the brand {brand_name!r}; an administrator binds it in "
        f'PLATFORM_CREDENTIALS, e.g. {{"{variable}": ["{brand_name}"]}}'
    )


def credentials_read(
    variable: str, *, brand_name: str, environ: Mapping[str, str] = os.environ
) -> dict[str, Any]:
    """The JSON object in ``variable`` (or the file ``variable_FILE`` names), if the brand
    named ``brand_name`` may use it."""
    problem = binding_problem(variable, brand_name)
    if problem is not None:
        raise CredentialsError(problem)
    raw = environ.get(variable, "").strip()
    path = environ.get(f"{variable}_FILE", "").strip()
    if not raw and path:
        try:
            with open(path, encoding="utf-8") as handle:
                raw = handle.read()
        except OSError as exc:
            raise CredentialsError(
                f"cannot read {variable}_FILE={path!r}: {exc.strerror}"
            ) from None
    if not raw:
        raise CredentialsError(
            f"no credentials: set {variable} (JSON) or {variable}_FILE (a path to JSON)"
        )
    try:
        value = json.loads(raw)
    except ValueError:
        raise CredentialsError(f"credentials in {variable} are not JSON") from None
    if not isinstance(value, dict):
        raise CredentialsError(f"credentials in {variable} must be a JSON object")
    return value
