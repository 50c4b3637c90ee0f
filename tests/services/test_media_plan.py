"""The media plan compared with what is stored: names resolved within the caller's brands,
every rule checked by line and column, the changes in words, and the export that reads
back to no change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pytest_django import DjangoAssertNumQueries

from ads.models import Brand, BudgetChange, BudgetTarget, Campaign, Flight, FlightCampaign
from ads.services.media_plan import MediaPlan, media_plan_export, media_plan_read
from ads.services.media_plan_csv import PlanInvalid
from ads.services.media_plan_summary import plan_summary
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db

# Wednesday 2026-06-10, noon UTC.
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
HEADER = "brand,campaign,flight,starts_on,ends_on,budget,month,monthly_budget\n"


def read(body: str, brand_ids: list[int] | None = None) -> MediaPlan:
    return media_plan_read(data=(HEADER + body).encode(), at=NOON, brand_ids=brand_ids)


def errors_of(body: str, brand_ids: list[int] | None = None) -> list[str]:
    with pytest.raises(PlanInvalid) as raised:
        read(body, brand_ids)
    return [str(error) for error in raised.value.errors]


def stored_flight(brand: Brand, name: str, starts: str, ends: str, *campaigns: Campaign) -> Flight:
    flight = Flight.objects.create(
        brand=brand,
        name=name,
        starts_on=date.fromisoformat(starts),
        ends_on=date.fromisoformat(ends),
        budget=Decimal("1000.00"),
    )
    for campaign in campaigns:
        FlightCampaign.objects.create(flight=flight, campaign=campaign)
    return flight


def stored_change(
    brand: Brand,
    on: str,
    *,
    monthly: str | None,
    daily: str | None = None,
    campaign: Campaign | None = None,
) -> BudgetChange:
    return BudgetChange.objects.create(
        brand=brand,
        target=BudgetTarget.CAMPAIGN if campaign else BudgetTarget.BRAND,
        campaign=campaign,
        effective_on=date.fromisoformat(on),
        daily_budget=Decimal(daily) if daily else None,
        monthly_budget=Decimal(monthly) if monthly else None,
        created_by="planner",
        created_at=NOON,
        updated_at=NOON,
    )


@pytest.fixture
def acme() -> Brand:
    brand = make_brand("Acme", timezone="Europe/Berlin")
    make_campaign(brand, "Search")
    make_campaign(brand, "Social")
    return brand


def test_a_new_flight_and_a_new_monthly_budget_are_described_before_anything_changes(
    acme: Brand,
) -> None:
    plan = read(
        "acme,search,Black Friday,2026-11-20,2026-12-01,40000,,\n"
        "Acme,Social,Black Friday,2026-11-20,2026-12-01,40000,,\n"
        "Acme,,,,,,2026-07,12000\n"
    )
    summary = plan_summary(plan)

    assert summary.changes == [
        "lines 2-3: Acme: new flight 'Black Friday', 2026-11-20 to 2026-12-01, budget "
        "40,000.00 USD, campaigns: Search, Social",
        "line 4: Acme's monthly budget from 2026-07-01: 12,000.00 USD (new budget change)",
    ]
    assert summary.headline() == (
        "flights: 1 new, 0 changed, 0 unchanged; monthly budgets: 1 new, 0 changed, 0 unchanged"
    )
    assert not Flight.objects.exists() and not BudgetChange.objects.exists()


def test_a_stored_flight_named_in_the_sheet_is_compared_field_by_field(acme: Brand) -> None:
    search, social = acme.campaigns.order_by("name")
    stored_flight(acme, "Summer", "2026-07-01", "2026-07-31", search)

    plan = read(
        "Acme,Social,summer,2026-07-01,2026-08-15,1500,,\n"
    )  # renamed by case, longer, more money, Social instead of Search

    assert plan_summary(plan).changes == [
        "line 2: Acme: flight 'summer': renamed from 'Summer'; dates 2026-07-01 to 2026-07-31 "
        "→ 2026-07-01 to 2026-08-15; budget 1,000.00 USD → 1,500.00 USD; adds Social; "
        "removes Search"
    ]
    assert plan.flights[0].campaign_ids == [social.pk]


def test_a_campaign_monthly_cap_change_is_described_against_the_stored_one(acme: Brand) -> None:
    search = acme.campaigns.get(name="Search")
    stored_change(acme, "2026-08-01", monthly="400", campaign=search)

    summary = plan_summary(read("Acme,Search,,,,,2026-08,450\n"))

    assert summary.changes == [
        "line 2: Acme / Search's monthly cap from 2026-08-01: 400.00 USD → 450.00 USD"
    ]
    assert summary.calendar_changed == 1


def test_unknown_brands_and_campaigns_are_refused_by_line_and_column(acme: Brand) -> None:
    assert errors_of(
        "Acne,Search,June,2026-07-01,2026-07-31,100,,\nAcme,Serch,,,,,2026-07,9\n"
    ) == [
        "line 2, column brand: no brand named 'Acne'",
        "line 3, column campaign: Acme has no campaign named 'Serch'",
    ]


def test_a_campaign_of_another_brand_is_refused(acme: Brand) -> None:
    make_campaign(make_brand("Globex"), "Their search")

    found = errors_of("Acme,Their search,June,2026-07-01,2026-07-31,100,,\n")

    assert found == [
        "line 2, column campaign: campaign 'Their search' is of brand Globex, not of Acme: a "
        "flight or budget of one brand cannot include another brand's campaign"
    ]


def test_a_brand_the_caller_may_not_see_is_unknown_and_never_named(acme: Brand) -> None:
    globex = make_brand("Globex")
    make_campaign(globex, "Their search")

    assert errors_of("Globex,,,,,,2026-07,100\n", brand_ids=[acme.pk]) == [
        "line 2, column brand: no brand named 'Globex'"
    ]
    assert errors_of("Acme,Their search,,,,,2026-07,100\n", brand_ids=[acme.pk]) == [
        "line 2, column campaign: Acme has no campaign named 'Their search'"
    ]


def test_amounts_with_more_decimals_than_the_currency_are_refused() -> None:
    sakura = make_brand("Sakura", currency="JPY", daily="10000", monthly="100000")
    make_campaign(sakura, "Search")

    found = errors_of(
        "Sakura,Search,Spring,2027-03-01,2027-03-31,5000.5,,\nSakura,,,,,,2027-04,90000.25\n"
    )

    assert found == [
        "line 2, column budget: the amount JPY amounts have no decimals (5000.5 has more)",
        "line 3, column monthly_budget: the amount JPY amounts have no decimals (90000.25 has "
        "more)",
    ]


def test_a_campaigns_flights_may_not_overlap_in_the_sheet(acme: Brand) -> None:
    found = errors_of(
        "Acme,Search,June,2026-07-01,2026-07-31,100,,\n"
        "Acme,Search,Late June,2026-07-31,2026-08-10,100,,\n"
        "Acme,Social,Late June,2026-07-31,2026-08-10,100,,\n"
    )

    assert found == [
        "line 3, column campaign: campaign 'Search' would be in flights 'June' (2026-07-01 to "
        "2026-07-31) and 'Late June' (2026-07-31 to 2026-08-10), whose dates overlap: a "
        "campaign's flights may not"
    ]


def test_nor_with_a_stored_flight_the_sheet_leaves_as_it_is(acme: Brand) -> None:
    stored_flight(
        acme, "Back to school", "2026-08-20", "2026-09-10", acme.campaigns.get(name="Search")
    )

    found = errors_of("Acme,Search,Late summer,2026-09-01,2026-09-30,100,,\n")

    assert len(found) == 1
    assert found[0].startswith("line 2, column campaign: campaign 'Search' would be in flights")


def test_a_stored_flight_the_sheet_moves_no_longer_counts_as_overlapping(acme: Brand) -> None:
    search = acme.campaigns.get(name="Search")
    stored_flight(acme, "One", "2026-08-01", "2026-08-31", search)

    # "One" moves to September and "Two" takes August: fine once both are applied.
    plan = read(
        "Acme,Search,One,2026-09-01,2026-09-30,100,,\nAcme,Search,Two,2026-08-01,2026-08-31,100,,\n"
    )

    assert len(plan.flights) == 2


def test_a_month_that_has_begun_cannot_be_planned(acme: Brand) -> None:
    found = errors_of("Acme,,,,,,2026-06,5000\nAcme,,,,,,2026-05,5000\n")

    assert found == [
        "line 2, column month: 2026-06 has begun for Acme (today is 2026-06-10 in "
        "Europe/Berlin): a budget change from 2026-06-01 would change the past (budget "
        "changes in force are history); plan a later month",
        "line 3, column month: 2026-05 has begun for Acme (today is 2026-06-10 in "
        "Europe/Berlin): a budget change from 2026-05-01 would change the past (budget "
        "changes in force are history); plan a later month",
    ]


def test_a_month_that_has_begun_is_fine_where_the_sheet_repeats_what_is_stored(
    acme: Brand,
) -> None:
    stored_change(acme, "2026-06-01", monthly="5000")

    summary = plan_summary(read("Acme,,,,,,2026-06,5000.00\n"))

    assert summary.nothing and summary.calendar_unchanged == 1


def test_the_first_of_a_month_is_today_where_the_brand_already_is_there() -> None:
    # 2026-06-30 23:30 UTC is already 1 July at UTC+14 (Kiritimati): July has begun there.
    kiribati = make_brand("Line Islands", timezone="Pacific/Kiritimati")
    at = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    stored_change(kiribati, "2026-07-01", monthly="100")

    with pytest.raises(PlanInvalid) as raised:
        media_plan_read(data=(HEADER + "Line Islands,,,,,,2026-07,200\n").encode(), at=at)

    assert "today is 2026-07-01 in Pacific/Kiritimati" in str(raised.value.errors[0])


def test_a_new_change_from_the_first_of_the_month_today_is_allowed() -> None:
    kiribati = make_brand("Line Islands", timezone="Pacific/Kiritimati")
    at = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)

    plan = media_plan_read(data=(HEADER + "Line Islands,,,,,,2026-07,200\n").encode(), at=at)

    assert plan.calendar[0].brand == kiribati and plan.calendar[0].stored is None


def test_the_export_reads_back_to_no_change(acme: Brand) -> None:
    search, social = acme.campaigns.order_by("name")
    stored_flight(acme, "Summer", "2026-07-01", "2026-07-31", search, social)
    stored_flight(acme, "Empty", "2026-09-01", "2026-09-30")
    stored_change(acme, "2026-07-01", monthly="12000.50", daily="500")
    stored_change(acme, "2026-08-01", monthly="450", campaign=search)
    stored_change(acme, "2026-06-01", monthly="9000")  # in force: history, but the same
    stored_change(acme, "2026-07-15", monthly="11000")  # not a first: not in the sheet

    export = media_plan_export(brand_id=acme.pk)
    plan = media_plan_read(data=export.text.encode(), at=NOON)
    summary = plan_summary(plan)

    assert export.text.splitlines()[1:] == [
        "Acme,Search,Summer,2026-07-01,2026-07-31,1000.00,,",
        "Acme,Social,Summer,2026-07-01,2026-07-31,1000.00,,",
        "Acme,,Empty,2026-09-01,2026-09-30,1000.00,,",
        "Acme,,,,,,2026-06,9000.00",
        "Acme,,,,,,2026-07,12000.50",
        "Acme,Search,,,,,2026-08,450.00",
    ]
    assert export.left_out == [
        "brand from 2026-07-01: its daily budget (the sheet has no column)",
        "brand from 2026-07-15",
    ]
    assert summary.nothing
    assert summary.flights_unchanged == 2 and summary.calendar_unchanged == 3


def test_the_plan_is_read_in_a_fixed_number_of_queries(
    acme: Brand, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    rows = "".join(
        f"Acme,{name},Flight {index},2027-{index:02d}-01,2027-{index:02d}-20,100,,\n"
        for index in range(1, 13)
        for name in ("Search", "Social")
    ) + "".join(f"Acme,,,,,,2027-{month:02d},900\n" for month in range(1, 13))

    with django_assert_max_num_queries(6):
        plan = read(rows)

    assert len(plan.flights) == 12 and len(plan.calendar) == 12
