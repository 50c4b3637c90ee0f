"""The pacing picture: the month's and each running flight's cumulative spend by brand-local
day, the ideal line, the projection (the alerts' straight line), drawn as SVG on the brand
page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from ads.admin.pacing_chart import pacing_svg
from ads.services.flights import flight_create
from ads.services.selectors.pacing import PacingSeries, flight_series, month_series
from ads.services.selectors.plans import flight_reports
from tests.admin.conftest import NOON
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db


def test_the_month_is_cumulative_spend_by_brand_local_day() -> None:
    # Tokyo (UTC+9): 20:00 UTC on June 2 is already June 3 there.
    brand = make_brand(timezone="Asia/Tokyo", daily="1000", monthly="3000")
    campaign = make_campaign(brand)
    spend(campaign, "100", at=NOON, occurred_at=datetime(2026, 6, 1, 1, 0, tzinfo=UTC))
    spend(campaign, "50", at=NOON, occurred_at=datetime(2026, 6, 2, 20, 0, tzinfo=UTC))
    spend(campaign, "25", at=NOON)  # 21:00 on June 10 in Tokyo

    series = month_series(brand=brand, at=NOON)

    assert (series.first, series.last, series.today) == (
        date(2026, 6, 1),
        date(2026, 6, 30),
        date(2026, 6, 10),
    )
    assert series.cumulative[0] == (date(2026, 6, 1), Decimal("100"))
    assert series.cumulative[1] == (date(2026, 6, 2), Decimal("100"))
    assert series.cumulative[2] == (date(2026, 6, 3), Decimal("150"))
    assert series.cumulative[-1] == (date(2026, 6, 10), Decimal("175"))
    assert len(series.cumulative) == 10 and series.spend == Decimal("175")
    assert series.budget == Decimal("3000")
    assert series.ideal(date(2026, 6, 30)) == Decimal("3000")
    assert series.ideal(date(2026, 6, 15)) == Decimal("1500")
    # The straight line of the alerts: 175 over 9 days and 21 hours of 30 days.
    assert series.projected == (Decimal(175) * 30 * 24 / (9 * 24 + 21)).quantize(Decimal("1e-6"))


def test_only_running_flights_are_drawn_with_their_members_spend_on_their_dates() -> None:
    brand = make_brand(daily="1000", monthly="30000")
    first, second, other = make_campaign(brand), make_campaign(brand), make_campaign(brand)
    for name, starts, ends, members in (
        ("Now", date(2026, 6, 5), date(2026, 6, 20), [first.pk, second.pk]),
        ("Later", date(2026, 7, 1), date(2026, 7, 5), [other.pk]),
    ):
        flight_create(
            brand_id=brand.pk,
            name=name,
            starts_on=starts,
            ends_on=ends,
            budget="800",
            campaign_ids=members,
            at=NOON - timedelta(days=9),
            actor="t",
        )
    spend(first, "40", at=NOON, occurred_at=NOON.replace(day=4))  # before the flight
    spend(first, "60", at=NOON, occurred_at=NOON.replace(day=6))
    spend(second, "30", at=NOON, occurred_at=NOON.replace(day=8))
    spend(other, "500", at=NOON, occurred_at=NOON.replace(day=8))  # not a member

    charts = flight_series(brand=brand, reports=flight_reports(brand_id=brand.pk, at=NOON), at=NOON)

    assert [chart.title for chart in charts] == ["Flight: Now"]
    (now,) = charts
    assert now.cumulative[0] == (date(2026, 6, 5), Decimal("0"))
    assert now.cumulative[1] == (date(2026, 6, 6), Decimal("60"))
    assert now.cumulative[-1] == (date(2026, 6, 10), Decimal("90"))
    assert now.budget == Decimal("800")


def series(**changes: object) -> PacingSeries:
    values: dict[str, object] = {
        "title": "June 2026",
        "first": date(2026, 6, 1),
        "last": date(2026, 6, 30),
        "today": date(2026, 6, 3),
        "budget": Decimal("3000"),
        "currency": "USD",
        "cumulative": [
            (date(2026, 6, 1), Decimal("100")),
            (date(2026, 6, 2), Decimal("250")),
            (date(2026, 6, 3), Decimal("300")),
        ],
        "projected": Decimal("3600"),
    }
    values.update(changes)
    return PacingSeries(**values)  # type: ignore[arg-type]


def test_the_svg_draws_spend_ideal_budget_and_projection_with_words() -> None:
    svg = str(pacing_svg(series()))

    assert svg.startswith('<svg class="pacing-chart" role="img"')
    assert (
        "<title>June 2026: 300.00 USD spent of 3,000.00 USD, projected 3,600.00 USD</title>" in svg
    )
    points = re.search(r'<polyline points="([^"]+)"', svg)
    assert points is not None and len(points.group(1).split()) == 4  # the start and 3 days
    assert "budget 3,000.00 USD" in svg and "projected 3,600.00 USD" in svg
    assert "spent 300.00 USD" in svg and "Jun 01" in svg and "Jun 30" in svg
    assert 'stroke-dasharray="6 4"' in svg  # the ideal line


def test_an_ended_period_or_no_spend_draws_no_projection_and_no_error() -> None:
    ended = str(pacing_svg(series(today=date(2026, 6, 30))))
    empty = str(pacing_svg(series(cumulative=[], projected=None, budget=Decimal("0.01"))))

    assert "projected" not in ended.split("</title>")[1]
    assert "spent 0.00 USD" in empty


def test_a_name_with_markup_is_escaped() -> None:
    svg = str(pacing_svg(series(title="Flight: <b>Sale</b> & more")))
    assert "<b>" not in svg and "&lt;b&gt;Sale&lt;/b&gt; &amp; more" in svg


def test_the_brand_page_shows_the_months_chart(staff: Client) -> None:
    brand = make_brand("Acme", daily="1000", monthly="3000")
    spend(make_campaign(brand), "120", at=NOON)

    page = staff.get(f"/admin/ads/brand/{brand.pk}/change/").content.decode()

    assert page.count('<svg class="pacing-chart"') == 1
    assert "June 2026: 120.00 USD spent of 3,000.00 USD" in page


def test_todays_spend_stands_where_today_is_now() -> None:
    brand = make_brand(daily="1000", monthly="3000")
    assert month_series(brand=brand, at=NOON).today_share == 0.5  # noon, in UTC

    svg = str(pacing_svg(series(today_share=0.5)))
    points = re.search(r'<polyline points="([^"]+)"', svg)
    assert points is not None
    # Jun 1 and 2 at their ends, Jun 3 half-way: 2.5 of 30 days across the 448 px plot.
    assert points.group(1).split()[-1].split(",")[0] == f"{12 + 448 * 2.5 / 30:.1f}"
