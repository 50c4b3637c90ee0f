"""Money: the one place that states precision and rounding.

Amounts are ``Decimal`` everywhere in Python and exact to ``MONEY_DECIMAL_PLACES`` (6, the
"micros" ad platforms report in). The database stores them as whole micro-units in a
BIGINT column: SQLite has no exact decimal type (it would store REAL), and integer sums are
exact and fast on every backend. Input with more decimal places than that is rejected, never
rounded. Figures the system derives (projections) are rounded half-even to the same places.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Combinable, Expression

MONEY_DECIMAL_PLACES = 6
MICROS_PER_UNIT = 10**MONEY_DECIMAL_PLACES
QUANTUM = Decimal(1).scaleb(-MONEY_DECIMAL_PLACES)
# Largest amount any single money value may hold: far above any real budget, and its sum
# over millions of rows still fits a signed 64-bit integer of micros.
MAX_AMOUNT = Decimal("1000000000000")
# What one period total (a BIGINT of micros) can hold. Single amounts are capped far below,
# but about ten maximal ones on one day would pass it: spend that would take a total past
# it is refused (the column would overflow on PostgreSQL and turn into a float on SQLite).
MAX_TOTAL_MICROS = 2**63 - 1
_CENT = Decimal("0.01")


class MoneyError(ValueError):
    """A value that is not an acceptable amount of money."""


# The one accepted syntax for amounts from outside: optional sign, ASCII digits, optionally a
# point and more ASCII digits. No exponents ("1e3" was a typo that paused a brand), no
# underscores, no other scripts' digits, no "12." or ".5" (all of which Decimal() accepts).
_PLAIN_DECIMAL = re.compile(r"[+-]?([0-9]+)(?:\.([0-9]+))?", re.ASCII)
# Digits before the point of MAX_AMOUNT, and a bound on what is even looked at: an amount
# string longer than this cannot be an acceptable amount with its zeros stripped, unless it
# is mostly padding, which is refused too rather than parsed.
_MAX_INTEGER_DIGITS = 13
_MAX_TEXT_LENGTH = 64
_WHITESPACE = " \t\r\n"


def _shown(value: object) -> str:
    """The value as quoted in an error message, cut short: a reason never echoes a megabyte."""
    if isinstance(value, int) and value.bit_length() > 128:
        # repr() of a huge int is slow, and refused past 4,300 digits.
        return f"(an integer of about {int(value.bit_length() * 0.30103)} digits)"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parse_text(value: str) -> Decimal:
    text = value.strip(_WHITESPACE)
    if len(text) > _MAX_TEXT_LENGTH:
        raise MoneyError(
            f"amount {_shown(value)} is too long ({len(text)} characters, at most "
            f"{_MAX_TEXT_LENGTH})"
        )
    match = _PLAIN_DECIMAL.fullmatch(text)
    if match is None:
        if text.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity"):
            raise MoneyError(f"amount {_shown(value)} is not a finite number")
        raise MoneyError(
            f"amount {_shown(value)} is not a number in plain decimal notation: digits "
            "with an optional '.' and up to 6 decimals, such as '12.50' (no exponent, "
            "separator or other characters)"
        )
    integer, fraction = match.group(1).lstrip("0"), (match.group(2) or "").rstrip("0")
    if len(fraction) > MONEY_DECIMAL_PLACES:
        raise MoneyError(
            f"amount {_shown(value)} has more than {MONEY_DECIMAL_PLACES} decimal places"
        )
    if len(integer) > _MAX_INTEGER_DIGITS:
        raise MoneyError(f"amount {_shown(value)} is out of range (at most {MAX_AMOUNT})")
    # Safe now: at most 64 characters of plain digits, so Decimal holds it exactly.
    return Decimal(text)


def _check_decimal(amount: Decimal, value: object) -> Decimal:
    """Range and places of a Decimal, read from its digits and exponent: arithmetic such as
    quantize() fails (InvalidOperation) past 28 significant digits or a huge exponent."""
    if not amount.is_finite():
        raise MoneyError(f"amount {_shown(value)} is not a finite number")
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    if not any(digits):
        return Decimal(0)  # 0E+99999999 is zero too, but arithmetic on it would overflow
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
        exponent += 1
    if exponent < -MONEY_DECIMAL_PLACES:
        raise MoneyError(
            f"amount {_shown(value)} has more than {MONEY_DECIMAL_PLACES} decimal places"
        )
    # copy_abs() and comparison are exact whatever the exponent (abs() rounds, and overflows).
    if amount.copy_abs() > MAX_AMOUNT:
        raise MoneyError(f"amount {_shown(value)} is out of range (at most {MAX_AMOUNT})")
    return amount


def parse_money(value: object) -> Decimal:
    """Return ``value`` as an exact Decimal, or raise MoneyError saying why not.

    The one parser of amounts for every entry point (API, Celery task, CSV, commands,
    admin). Strings must be plain decimal notation (see ``_PLAIN_DECIMAL``); Decimal and int
    are taken as they are. Refuses floats (their binary value is not the amount that was
    meant), NaN and infinities, more than six decimal places (unless only zeros), and
    magnitudes above MAX_AMOUNT. Never raises anything but MoneyError, whatever the input.
    Sign is not checked here; callers state their own rule.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError("amount must be a decimal string such as '12.50', not a float")
    if isinstance(value, int):
        if abs(value) > MAX_AMOUNT:
            raise MoneyError(f"amount {_shown(value)} is out of range (at most {MAX_AMOUNT})")
        return Decimal(value)
    if isinstance(value, Decimal):
        return _check_decimal(value, value)
    if isinstance(value, str):
        return _check_decimal(_parse_text(value), value)
    raise MoneyError(f"amount must be a decimal string, not {type(value).__name__}")


def to_micros(amount: Decimal) -> int:
    """Exact conversion to whole micro-units; raises MoneyError if not exact."""
    scaled = amount.scaleb(MONEY_DECIMAL_PLACES)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"amount {amount} has more than {MONEY_DECIMAL_PLACES} decimal places")
    return int(scaled)


def from_micros(micros: int | Decimal) -> Decimal:
    """Micro-units to a Decimal shown with at least two places ('12.50', '0.123456')."""
    amount = Decimal(int(micros)).scaleb(-MONEY_DECIMAL_PLACES)
    as_cents = amount.quantize(_CENT)
    if as_cents == amount:
        return as_cents
    return amount.normalize()


def money_text(micros: int) -> str:
    """``str(from_micros(micros))`` without building a Decimal: the engine writes thousands
    of snapshot amounts per sweep, and this is several times faster."""
    sign = "-" if micros < 0 else ""
    units, fraction = divmod(abs(micros), MICROS_PER_UNIT)
    digits = f"{fraction:0{MONEY_DECIMAL_PLACES}d}".rstrip("0").ljust(2, "0")
    return f"{sign}{units}.{digits}"


def quantize(amount: Decimal) -> Decimal:
    """Round a derived figure to money precision (half-even), shown like stored amounts."""
    return from_micros(to_micros(amount.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)))


def money_str(amount: Decimal | None) -> str | None:
    """Amounts travel as strings in JSON and logs."""
    return None if amount is None else str(amount)


# django-stubs' pattern for custom fields: generic, with the instance types declared below
# (the plugin makes them Optional for null=True fields).
_ST = TypeVar("_ST", contravariant=True)
_GT = TypeVar("_GT", covariant=True)


class MoneyField(models.Field[_ST, _GT]):
    """A Decimal in Python, whole micro-units in a BIGINT column (see module docstring)."""

    _pyi_private_set_type: Decimal | int | str | Combinable
    _pyi_private_get_type: Decimal

    description = "Amount of money (Decimal, stored as integer micro-units)"

    def get_internal_type(self) -> str:
        return "BigIntegerField"

    def from_db_value(
        self, value: int | Decimal | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> Decimal | None:
        return None if value is None else from_micros(value)

    def to_python(self, value: Any) -> Decimal | None:
        if value is None or value == "":
            return None
        try:
            return parse_money(value)
        except MoneyError as exc:
            raise ValidationError(str(exc), code="invalid") from None

    def get_prep_value(self, value: Any) -> int | None:
        if value is None:
            return None
        if hasattr(value, "resolve_expression"):
            return value  # type: ignore[no-any-return]
        return to_micros(parse_money(value))

    def formfield(self, **kwargs: Any) -> forms.Field | None:
        defaults: dict[str, Any] = {
            "form_class": forms.DecimalField,
            "decimal_places": MONEY_DECIMAL_PLACES,
            "max_digits": 13 + MONEY_DECIMAL_PLACES,
        }
        defaults.update(kwargs)
        return super().formfield(**defaults)
