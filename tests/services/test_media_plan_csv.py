"""The planner's sheet read alone (no database): its shape, its rows, its errors by line and
column, and a sheet written back reads as the same rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ads.services.media_plan_csv import (
    MAX_BYTES,
    MAX_ROWS,
    SHOWN_ERRORS,
    CalendarRow,
    FlightRow,
    PlanInvalid,
    PlanRows,
    plan_rows_parse,
    plan_rows_write,
)

HEADER = "brand,campaign,flight,starts_on,ends_on,budget,month,monthly_budget\n"


def errors_of(text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(PlanInvalid) as raised:
        plan_rows_parse(data)
    return [str(error) for error in raised.value.errors]


def test_a_flight_of_two_campaigns_takes_a_row_each() -> None:
    rows = plan_rows_parse(
        (
            HEADER + "Acme,Search,Black Friday,2026-11-20,2026-12-01,40000.00,,\n"
            "Acme,Social,Black Friday,2026-11-20,2026-12-01,40000.00,,\n"
        ).encode()
    )

    assert rows.flights == [
        FlightRow(2, "Acme", "Search", "Black Friday", date(2026, 11, 20), date(2026, 12, 1),
                  Decimal("40000.00")),
        FlightRow(3, "Acme", "Social", "Black Friday", date(2026, 11, 20), date(2026, 12, 1),
                  Decimal("40000.00")),
    ]  # fmt: skip
    assert rows.calendar == []


def test_a_calendar_row_plans_a_month_for_the_brand_or_a_campaign() -> None:
    rows = plan_rows_parse(
        (HEADER + "Acme,,,,,,2026-07,12000\nAcme,Search,,,,,2026-08,500.50\n").encode()
    )

    assert rows.calendar == [
        CalendarRow(2, "Acme", None, date(2026, 7, 1), Decimal("12000")),
        CalendarRow(3, "Acme", "Search", date(2026, 8, 1), Decimal("500.50")),
    ]


def test_columns_may_come_in_any_order_and_case_and_the_calendar_ones_are_optional() -> None:
    rows = plan_rows_parse(
        b"Budget, Flight ,BRAND,campaign,ends_on,starts_on\n100,June,Acme,Search,2026-06-30,"
        b"2026-06-01\n"
    )

    assert rows.flights[0].budget == Decimal("100")
    assert rows.flights[0].ends_on == date(2026, 6, 30)


def test_a_calendar_only_sheet_needs_no_flight_columns() -> None:
    rows = plan_rows_parse(b"brand,campaign,month,monthly_budget\nAcme,,2026-07,900\n")

    assert rows.calendar[0].monthly_budget == Decimal("900")


def test_a_byte_order_mark_and_blank_lines_are_ignored() -> None:
    data = b"\xef\xbb\xbf" + HEADER.encode() + b"\n,,,,,,,\nAcme,,,,,,2026-07,900\n"

    assert plan_rows_parse(data).calendar[0].line == 4


def test_a_flight_ending_before_it_starts_is_refused_at_its_line_and_column() -> None:
    found = errors_of(HEADER + "Acme,Search,June,2026-06-30,2026-06-01,100,,\n")

    assert found == [
        "line 2, column ends_on: the flight ends (2026-06-01) before it starts (2026-06-30)"
    ]


@pytest.mark.parametrize(
    ("budget", "why"),
    [
        ("0", "must be above zero (0 is not)"),
        ("-5", "must be above zero (-5 is not)"),
        ("1e3", "not a number in plain decimal notation"),
        ("12.1234567", "more than 6 decimal places"),
        ("1,000", "not a number in plain decimal notation"),
    ],
)
def test_a_bad_budget_is_refused_in_words(budget: str, why: str) -> None:
    found = errors_of(HEADER + f'Acme,Search,June,2026-06-01,2026-06-30,"{budget}",,\n')

    assert len(found) == 1
    assert found[0].startswith("line 2, column budget: ") and why in found[0]


def test_bad_dates_and_months_are_refused_each_at_its_column() -> None:
    found = errors_of(
        HEADER + "Acme,Search,June,2026-02-30,20260630,100,,\nAcme,,,,,,2026-13,100\n"
        "Acme,,,,,,July,100\n"
    )

    assert found == [
        "line 2, column starts_on: '2026-02-30' is not a date such as 2026-11-20",
        "line 2, column ends_on: '20260630' is not a date such as 2026-11-20",
        "line 3, column month: '2026-13' is not a month such as 2026-07",
        "line 4, column month: 'July' is not a month such as 2026-07",
    ]


def test_every_bad_line_is_reported_not_only_the_first() -> None:
    found = errors_of(
        HEADER + "Acme,Search,June,2026-06-01,2026-06-30,100,,\n"
        ",Search,June,2026-06-01,2026-06-30,100,,\n"
        "Acme,Social,Summer,,2026-06-30,100,,\n"
        "Acme,,,,,,2026-07,\n"
    )

    assert found == [
        "line 3, column brand: the brand is required",
        "line 4, column starts_on: required on a flight row",
        "line 5, column monthly_budget: required on a calendar row",
    ]


def test_a_row_that_is_both_a_flight_and_a_calendar_row_is_refused() -> None:
    found = errors_of(HEADER + "Acme,Search,June,2026-06-01,2026-06-30,100,2026-07,900\n")

    assert found[0].startswith("line 2: a row is either a flight row")


def test_the_rows_of_one_flight_must_agree_on_dates_and_budget() -> None:
    found = errors_of(
        HEADER + "Acme,Search,June,2026-06-01,2026-06-30,100,,\n"
        "Acme,Social,june,2026-06-01,2026-06-29,100,,\n"
    )

    assert found == [
        "line 3, column ends_on: flight 'june' has ends_on 2026-06-30 on line 2: every row "
        "of a flight gives the same dates and budget"
    ]


def test_a_campaign_listed_twice_in_a_flight_or_a_month_planned_twice_is_refused() -> None:
    found = errors_of(
        HEADER + "Acme,Search,June,2026-06-01,2026-06-30,100,,\n"
        "Acme,search,June,2026-06-01,2026-06-30,100,,\n"
        "Acme,,,,,,2026-07,900\n"
        "acme,,,,,,2026-07,950\n"
    )

    assert found == [
        "line 3, column campaign: flight 'June' lists campaign 'search' already on line 2",
        "line 5, column month: 2026-07 is planned for this brand already on line 4",
    ]


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("brand,campaign,flight,starts_on,ends_on,budget,colour\n", "unknown column(s) 'colour'"),
        ("brand,campaign,flight,budget\n", "missing column(s): starts_on, ends_on"),
        ("brand,month\n", "missing column(s): monthly_budget"),
        ("brand,campaign\n", "the header needs the flight columns, the calendar ones, or both"),
        ("brand,brand,month,monthly_budget\n", "column(s) brand given twice"),
    ],
)
def test_a_bad_header_is_refused_as_line_1(header: str, why: str) -> None:
    found = errors_of(header + "Acme,,,,,,2026-07,900\n")

    assert any(line.startswith("line 1: ") and why in line for line in found), found


def test_an_empty_file_is_refused() -> None:
    assert errors_of("") == ["line 1: the file is empty: a header row is needed"]


def test_a_byte_that_is_not_utf8_is_reported_on_its_line() -> None:
    found = errors_of(HEADER.encode() + b"Acme,Caf\xe9,,,,,2026-07,900\n")

    assert found == ["line 2: byte 0xe9 at position 9 is not UTF-8 (save the sheet as CSV UTF-8)"]


def test_more_cells_than_columns_is_refused() -> None:
    found = errors_of("brand,month,monthly_budget\nAcme,2026-07,900,extra\n")

    assert found == ["line 2: more cells than the header has columns"]


def test_a_quoted_cell_over_two_lines_keeps_the_numbering_of_the_file() -> None:
    found = errors_of(HEADER + 'Acme,"Two\nlines",June,2026-06-01,2026-06-30,0,,\n')

    assert found == ["line 3, column budget: must be above zero (0 is not)"]


def test_too_many_rows_are_refused() -> None:
    row = "Acme,,,,,,2026-07,900\n"
    found = errors_of(HEADER + "".join(row.replace("07", f"{1 + i % 12:02d}") for i in range(
        MAX_ROWS + 1)))  # fmt: skip

    assert f"line {MAX_ROWS + 2}: more than {MAX_ROWS} rows" in found


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    data = HEADER.encode() + b" " * MAX_BYTES

    assert errors_of(data) == [f"the file is over {MAX_BYTES} bytes"]


def test_the_error_list_stops_after_a_few_dozen_with_a_count() -> None:
    bad = "".join(f"Acme,,,,,,2026-{i:03d},900\n" for i in range(SHOWN_ERRORS + 5))
    with pytest.raises(PlanInvalid) as raised:
        plan_rows_parse((HEADER + bad).encode())

    assert raised.value.lines()[-1] == "... and 5 more"
    assert len(raised.value.lines()) == SHOWN_ERRORS + 1


def test_a_written_sheet_reads_back_as_the_same_rows() -> None:
    rows = PlanRows(
        flights=[
            FlightRow(2, "Acme, Inc.", "Search \"A\"", "Q4", date(2026, 10, 1),
                      date(2026, 12, 31), Decimal("40000.5")),
            FlightRow(3, "Sakura", None, "Spring", date(2027, 3, 1), date(2027, 4, 30),
                      Decimal("5000000")),
        ],
        calendar=[
            CalendarRow(4, "Acme, Inc.", None, date(2027, 1, 1), Decimal("12000.123456")),
            CalendarRow(5, "Sakura", "Brand search", date(2027, 2, 1), Decimal("90000")),
        ],
    )  # fmt: skip

    text = plan_rows_write(rows, places={"Acme, Inc.": 2, "Sakura": 0})

    assert "40000.50" in text and "5000000," in text and "12000.123456" in text
    assert plan_rows_parse(text.encode()) == rows
