"""Money: the one place that states precision and rounding.

Amounts are ``Decimal`` everywhere in Python and exact to ``MONEY_DECIMAL_PLACES`` (6, the
"micros" ad platforms report in). The database stores them as whole micro-units in a
BIGINT column: SQLite has no exact decimal type (it would store REAL), and integer sums are
exact and fast on every backend. Input with more decimal places than that is rejected, never
rounded. Figures the system derives (projections) are rounded half-even to the same places.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
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
_CENT = Decimal("0.01")


class MoneyError(ValueError):
    """A value that is not an acceptable amount of money."""


def parse_money(value: object) -> Decimal:
    """Return ``value`` as an exact Decimal, or raise MoneyError saying why not.

    Accepts Decimal, int and decimal strings; refuses floats (their binary value is not the
    amount that was meant), NaN and infinities, more than six decimal places, and magnitudes
    above MAX_AMOUNT. Sign is not checked here; callers state their own rule.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError("amount must be a decimal string such as '12.50', not a float")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise MoneyError(f"amount {value!r} is not a number") from None
    else:
        raise MoneyError(f"amount must be a decimal string, not {type(value).__name__}")
    if not amount.is_finite():
        raise MoneyError(f"amount {value!r} is not a finite number")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_DECIMAL_PLACES:
        if amount != amount.quantize(QUANTUM, rounding=ROUND_HALF_EVEN):
            raise MoneyError(
                f"amount {value!r} has more than {MONEY_DECIMAL_PLACES} decimal places"
            )
    if abs(amount) > MAX_AMOUNT:
        raise MoneyError(f"amount {value!r} is out of range (at most {MAX_AMOUNT})")
    return amount


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
