"""Currencies' minor units: how many decimals an amount of a currency can have. Budgets
staff plan (flights, shared budgets, the calendar) are refused with more decimals than
their currency has; spend keeps the ledger's six places (platforms report micros)."""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 minor units where they are not 2 (the table changes perhaps once a decade).
_MINOR_UNITS = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def budget_problem(amount: Decimal, currency: str) -> str | None:
    """Why ``amount`` cannot be a planned budget in ``currency``, or None: it must be above
    zero and have no more decimals than the currency has."""
    if amount <= 0:
        return "must be above zero"
    places = minor_units(currency)
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        unit = "no decimals" if places == 0 else f"at most {places} decimals"
        return f"{currency} amounts have {unit} ({amount} has more)"
    return None
