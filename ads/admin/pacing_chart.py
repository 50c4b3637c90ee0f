"""Pacing charts drawn on the server as SVG (no JavaScript, nothing to build): cumulative
spend by brand-local day, the ideal line to the budget, the budget, and the straight-line
projection to the end of the period. The figures come from
``ads.services.selectors.pacing``."""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from ads.admin.display import money
from ads.services.selectors.pacing import PacingSeries

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 12, 180, 12, 26  # the right margin holds the labels
SPEND, IDEAL, PROJECTION, BUDGET = "#417690", "#8a8a8a", "#d9822b", "#ba2121"


class _Frame:
    """Where a day's end and an amount fall in the plot."""

    def __init__(self, series: PacingSeries) -> None:
        self.days = series.days
        top = max(series.budget, series.spend, series.projected or Decimal(0))
        self.top = top * Decimal("1.08") or Decimal(1)

    def x(self, days_done: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * days_done / self.days

    def y(self, amount: Decimal) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * float(1 - amount / self.top)


def _n(value: float) -> str:
    return f"{value:.1f}"


def _points(pairs: list[tuple[float, float]]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in pairs)


def pacing_svg(series: PacingSeries) -> SafeString:
    """One period's chart, with its figures also in words (the title and the labels)."""
    frame = _Frame(series)
    # Each day's spend at its end; today's where today stands now.
    done: list[tuple[float, Decimal]] = [(0.0, Decimal(0))] + [
        ((day - series.first).days + (series.today_share if day == series.today else 1), amount)
        for day, amount in series.cumulative
    ]
    spend_line = _points([(frame.x(d), frame.y(a)) for d, a in done])
    end_x, budget_y = frame.x(series.days), frame.y(series.budget)
    last_x, last_y = frame.x(done[-1][0]), frame.y(done[-1][1])
    currency = series.currency
    words = (
        f"{series.title}: {money(series.spend, currency)} spent of "
        f"{money(series.budget, currency)}, projected {money(series.projected, currency)}"
    )
    projection = SafeString("")
    if series.projected is not None and series.today < series.last:
        proj_y = frame.y(series.projected)
        projection = format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" '
            'stroke-dasharray="2 4"/><text x="{}" y="{}" fill="{}">projected {}</text>',
            _n(last_x),
            _n(last_y),
            _n(end_x),
            _n(proj_y),
            PROJECTION,
            _n(end_x + 6),
            _n(proj_y + 4),
            PROJECTION,
            money(series.projected, currency),
        )
    axis = format_html_join(
        "",
        '<text x="{}" y="{}" fill="#666" text-anchor="{}">{}</text>',
        (
            (_n(frame.x(0)), HEIGHT - 8, "start", f"{series.first:%b %d}"),
            (_n(end_x), HEIGHT - 8, "end", f"{series.last:%b %d}"),
        ),
    )
    return format_html(
        '<svg class="pacing-chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'font-size="11" font-family="sans-serif" xmlns="http://www.w3.org/2000/svg">'
        "<title>{words}</title>"
        '<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ddd"/>'
        '<line x1="{left}" y1="{by}" x2="{ex}" y2="{by}" stroke="{budget}" '
        'stroke-width="1"/>'
        '<text x="{lx}" y="{bly}" fill="{budget}">budget {budget_text}</text>'
        '<line x1="{x0}" y1="{y0}" x2="{ex}" y2="{by}" stroke="{ideal}" '
        'stroke-width="1.5" stroke-dasharray="6 4"/>'
        '<polyline points="{spend_line}" fill="none" stroke="{spend}" stroke-width="2.5"/>'
        '<circle cx="{cx}" cy="{cy}" r="3" fill="{spend}"/>'
        '<text x="{lx}" y="{sly}" fill="{spend}">spent {spent_text}</text>'
        "{projection}{axis}</svg>",
        w=WIDTH,
        h=HEIGHT,
        words=words,
        left=LEFT,
        top=TOP,
        pw=WIDTH - LEFT - RIGHT,
        ph=HEIGHT - TOP - BOTTOM,
        by=_n(budget_y),
        ex=_n(end_x),
        lx=_n(end_x + 6),
        bly=_n(budget_y - 4 if budget_y > TOP + 12 else budget_y + 12),
        budget=BUDGET,
        budget_text=money(series.budget, currency),
        x0=_n(frame.x(0)),
        y0=_n(frame.y(Decimal(0))),
        ideal=IDEAL,
        spend_line=spend_line,
        spend=SPEND,
        cx=_n(last_x),
        cy=_n(last_y),
        sly=_n(min(max(last_y, TOP + 24.0), HEIGHT - BOTTOM - 2.0)),
        spent_text=money(series.spend, currency),
        projection=projection,
        axis=axis,
    )


def pacing_charts(charts: list[PacingSeries]) -> SafeString:
    """The month's chart and each running flight's, each under its title, with a legend."""
    legend = mark_safe(
        f'<div class="help">Solid: spent, by brand-local day. <span style="color:{IDEAL}">'
        f"Dashed: an even pace to the budget.</span> "
        f'<span style="color:{PROJECTION}">Dotted: the projection at the pace so far.</span> '
        f'<span style="color:{BUDGET}">Red: the budget in force.</span></div>'
    )
    blocks = format_html_join(
        "",
        '<div class="pacing"><strong>{}</strong><div>{}</div></div>',
        ((series.title, pacing_svg(series)) for series in charts),
    )
    return format_html("{}{}", blocks, legend)
