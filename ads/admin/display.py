"""How the staff console shows money, time and budget use: formatting only, no rules."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ads.core.currency import minor_units
from ads.core.periods import zone

# Bars turn amber at WARN % of a budget and red at FULL % (where the engine pauses).
WARN = 80
FULL = 100


def money(amount: Decimal | None, currency: str) -> str:
    """``1,234.50 USD``, ``12,345 JPY``: rounded half-even to the currency's minor units
    (the ledger keeps six places; staff read the currency's own)."""
    if amount is None:
        return "—"
    places = minor_units(currency)
    shown = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return f"{shown:,.{places}f} {currency}"


def money_cell(amount: Decimal | None, currency: str) -> SafeString:
    """``money`` kept on one line in a table cell (a narrow column would break it)."""
    return format_html('<span style="white-space:nowrap">{}</span>', money(amount, currency))


def amount(value: Decimal, currency: str) -> str:
    """``money`` without the code, where the same code follows at once."""
    return money(value, currency).rsplit(" ", 1)[0]


def local_time(value: datetime | None, tz_name: str) -> str:
    """An instant on the brand's wall clock, zone named: ``2026-06-10 14:00 CEST
    (Europe/Berlin)``."""
    if value is None:
        return "—"
    local = value.astimezone(zone(tz_name))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({tz_name})"


def server_time(value: datetime | None) -> str:
    """An instant of the system's own (jobs, deliveries) on the server's clock, zone named:
    ``2026-11-25 18:56:47 UTC``. Jobs belong to no brand, so no brand's zone applies."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def percent(spend: Decimal, budget: Decimal | None) -> Decimal | None:
    if not budget:
        return None
    return (spend * 100 / budget).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)


def level(pct: Decimal | None) -> str:
    if pct is None or pct < WARN:
        return "ok"
    return "full" if pct >= FULL else "warn"


_COLOURS = {"ok": "#3c8a3c", "warn": "#d08c00", "full": "#c0392b"}


def bar(spend: Decimal, budget: Decimal | None, currency: str) -> SafeString:
    """A bar of ``spend`` against ``budget`` with the %, then both amounts below it; amber
    from 80 %, red from 100 %."""
    pct = percent(spend, budget)
    if pct is None:
        return format_html("{} <small>(no cap)</small>", money(spend, currency))
    state = level(pct)
    return format_html(
        '<span class="budget budget-{}" title="{} of {}">'
        '<span style="white-space:nowrap"><span style="display:inline-block;width:90px;'
        "height:10px;background:#ddd;border-radius:3px;vertical-align:middle;"
        'overflow:hidden"><span style="display:block;height:10px;width:{}%;background:{}">'
        "</span></span> <strong>{}&nbsp;%</strong></span><br>"
        '<span style="white-space:nowrap">{} / {}</span></span>',
        state,
        money(spend, currency),
        money(budget, currency),
        min(int(pct), 100),
        _COLOURS[state],
        pct,
        amount(spend, currency),
        money(budget, currency),
    )


_BADGES = {"running": "#3c8a3c", "paused": "#c0392b"}


def badge(status: str, label: str) -> SafeString:
    return format_html(
        '<span class="status-badge status-{}" style="background:{};color:#fff;'
        'padding:1px 6px;border-radius:8px;font-size:11px;white-space:nowrap">{}</span>',
        status,
        _BADGES.get(status, "#666"),
        label,
    )


def request_now(request: HttpRequest) -> datetime:
    """One instant per request, so every figure on a page is of the same moment."""
    now = getattr(request, "_console_now", None)
    if now is None:
        now = timezone.now()
        request._console_now = now  # type: ignore[attr-defined]
    return now
