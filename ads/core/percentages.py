"""Lists of percentages such as ``50,80,100``: the alert thresholds, read from the environment
and from a brand's own alert settings with this one parser, so both accept the same values."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def parse_percentage_list(raw: str) -> tuple[Decimal, ...]:
    """Comma-separated percentages above 0 and up to 1000, as sorted distinct Decimals.

    Raises ValueError when there is none, or one is not such a percentage; each caller words
    the refusal for its own reader (a setting at startup, a field of the admin's form).
    """
    try:
        parsed = [Decimal(part.strip()) for part in raw.split(",") if part.strip()]
    except InvalidOperation:
        parsed = []
    # Finite first: a signalling NaN can be neither compared nor hashed into a set.
    if not parsed or any(not v.is_finite() or v <= 0 or v > 1000 for v in parsed):
        raise ValueError(f"{raw!r} is not a list of percentages above 0 and up to 1000")
    return tuple(sorted(set(parsed)))
