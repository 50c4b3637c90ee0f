"""The planner's sheet as CSV: reading it into typed rows, and writing one back. Pure: no
database, so every rule of the file's shape is tested alone; names are resolved and the
plan compared with the stored one in ``ads.services.media_plan``.

Columns (a header row, names in any order and case): ``brand``, ``campaign``, ``flight``,
``starts_on``, ``ends_on``, ``budget``, and optionally ``month``, ``monthly_budget``.

- A *flight row* names a flight (``flight``, ``starts_on``, ``ends_on``, ``budget``) and one
  of its campaigns: a flight of several campaigns takes one row per campaign, each with the
  same dates and budget. A row with no campaign lists a flight of no campaigns.
- A *calendar row* (``month`` as ``YYYY-MM``, ``monthly_budget``) plans the brand's monthly
  budget from the first of that month, or the campaign's monthly cap if it names one.

A row is one or the other. Dates are ISO (``2026-11-20``), amounts plain decimals
(``40000.00``); lines are the file's own (the header is line 1), so a planner finds them in
the spreadsheet they came from.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ads.core.money import MoneyError, parse_money

FLIGHT_COLUMNS = ("brand", "campaign", "flight", "starts_on", "ends_on", "budget")
CALENDAR_COLUMNS = ("month", "monthly_budget")
COLUMNS = FLIGHT_COLUMNS + CALENDAR_COLUMNS
# A plan is a few hundred rows; this bounds what one upload can make the server hold. 3 MB:
# the admin's confirmation posts the sheet back base64-encoded (4 MB), under Django's 5 MB
# DATA_UPLOAD_MAX_MEMORY_SIZE.
MAX_ROWS = 20_000
MAX_BYTES = 3 * 1024 * 1024
# Errors listed before "... and N more": enough to fix a sheet, not a megabyte of text.
SHOWN_ERRORS = 50

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


@dataclass(frozen=True)
class PlanError:
    """What is wrong, where: the file's line (None: the file as a whole) and column."""

    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [] if self.line is None else [f"line {self.line}"]
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


def _position(error: PlanError) -> tuple[int, int]:
    return (error.line or 0, COLUMNS.index(error.column) if error.column in COLUMNS else -1)


class PlanInvalid(Exception):
    """The plan cannot be applied; nothing of it was."""

    def __init__(self, errors: Iterable[PlanError]) -> None:
        self.errors = sorted(errors, key=_position)
        super().__init__("; ".join(str(e) for e in self.errors[:SHOWN_ERRORS]))

    def lines(self) -> list[str]:
        """The errors in words, at most SHOWN_ERRORS of them, then how many more."""
        shown = [str(error) for error in self.errors[:SHOWN_ERRORS]]
        hidden = len(self.errors) - len(shown)
        return shown + ([f"... and {hidden} more"] if hidden > 0 else [])


@dataclass(frozen=True)
class FlightRow:
    line: int
    brand: str
    campaign: str | None
    flight: str
    starts_on: date
    ends_on: date
    budget: Decimal


@dataclass(frozen=True)
class CalendarRow:
    line: int
    brand: str
    campaign: str | None
    month: date  # the first of the month
    monthly_budget: Decimal


@dataclass
class PlanRows:
    flights: list[FlightRow] = field(default_factory=list)
    calendar: list[CalendarRow] = field(default_factory=list)


def _lines(data: bytes, errors: list[PlanError]) -> Iterator[str]:
    """The file's lines decoded one by one, so a bad byte is reported on its line."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(
                PlanError(
                    number,
                    None,
                    f"byte 0x{raw[exc.start]:02x} at position {exc.start + 1} is not UTF-8 "
                    "(save the sheet as CSV UTF-8)",
                )
            )
            yield raw.decode("utf-8", errors="replace")


def _date(text: str, line: int, column: str, errors: list[PlanError]) -> date | None:
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    errors.append(PlanError(line, column, f"{text!r} is not a date such as 2026-11-20"))
    return None


def _month(text: str, line: int, errors: list[PlanError]) -> date | None:
    found = _MONTH.fullmatch(text)
    if found is not None and 1 <= int(found.group(2)) <= 12:
        return date(int(found.group(1)), int(found.group(2)), 1)
    errors.append(PlanError(line, "month", f"{text!r} is not a month such as 2026-07"))
    return None


def _amount(text: str, line: int, column: str, errors: list[PlanError]) -> Decimal | None:
    try:
        amount = parse_money(text)
    except MoneyError as exc:
        errors.append(PlanError(line, column, str(exc)))
        return None
    if amount <= 0:
        errors.append(PlanError(line, column, f"must be above zero ({text} is not)"))
        return None
    return amount


def _header(names: list[str] | None) -> tuple[list[str], list[PlanError]]:
    if not names:
        return [], [PlanError(1, None, "the file is empty: a header row is needed")]
    header = [name.strip().lower() for name in names]
    problems = []
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        problems.append(
            PlanError(
                1,
                None,
                f"unknown column(s) {', '.join(repr(n) for n in unknown)}; the columns are "
                + ", ".join(COLUMNS),
            )
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(PlanError(1, None, f"column(s) {', '.join(repeated)} given twice"))
    needed = ["brand"]
    if "flight" in header:
        needed += list(FLIGHT_COLUMNS)
    if "month" in header:
        needed += list(CALENDAR_COLUMNS)
    if "flight" not in header and "month" not in header:
        problems.append(
            PlanError(1, None, "the header needs the flight columns, the calendar ones, or both")
        )
    missing = [name for name in dict.fromkeys(needed) if name not in header]
    if missing:
        problems.append(PlanError(1, None, f"missing column(s): {', '.join(missing)}"))
    return header, problems


def _row(values: dict[str, str], line: int, rows: PlanRows, errors: list[PlanError]) -> None:
    def given(column: str) -> str | None:
        text = values.get(column, "").strip()
        return text or None

    if not any(values.values()):
        return  # a blank line between blocks of the sheet
    brand, campaign = given("brand"), given("campaign")
    is_flight = any(given(c) for c in ("flight", "starts_on", "ends_on", "budget"))
    is_calendar = any(given(c) for c in CALENDAR_COLUMNS)
    if is_flight and is_calendar:
        errors.append(
            PlanError(
                line,
                None,
                "a row is either a flight row (flight, starts_on, ends_on, budget) or a "
                "calendar row (month, monthly_budget), not both: split it in two",
            )
        )
        return
    if not is_flight and not is_calendar:
        errors.append(
            PlanError(line, None, "neither a flight (flight, ...) nor a calendar row (month, ...)")
        )
        return
    before = len(errors)
    if brand is None:
        errors.append(PlanError(line, "brand", "the brand is required"))
    if is_flight:
        for column in ("flight", "starts_on", "ends_on", "budget"):
            if given(column) is None:
                errors.append(PlanError(line, column, "required on a flight row"))
        starts = _date(s, line, "starts_on", errors) if (s := given("starts_on")) else None
        ends = _date(e, line, "ends_on", errors) if (e := given("ends_on")) else None
        budget = _amount(b, line, "budget", errors) if (b := given("budget")) else None
        if starts is not None and ends is not None and ends < starts:
            errors.append(
                PlanError(line, "ends_on", f"the flight ends ({ends}) before it starts ({starts})")
            )
        flight = given("flight")
        if len(errors) == before:
            assert brand and flight and starts and ends and budget
            rows.flights.append(FlightRow(line, brand, campaign, flight, starts, ends, budget))
        return
    for column in CALENDAR_COLUMNS:
        if given(column) is None:
            errors.append(PlanError(line, column, "required on a calendar row"))
    month = _month(m, line, errors) if (m := given("month")) else None
    monthly = _amount(a, line, "monthly_budget", errors) if (a := given("monthly_budget")) else None
    if len(errors) == before:
        assert brand and month and monthly
        rows.calendar.append(CalendarRow(line, brand, campaign, month, monthly))


def _consistent(rows: PlanRows, errors: list[PlanError]) -> None:
    """A flight's rows agree on its dates and budget; nothing is listed twice."""
    first: dict[tuple[str, str], FlightRow] = {}
    members: dict[tuple[str, str, str | None], int] = {}
    for row in rows.flights:
        key = (row.brand.casefold(), row.flight.casefold())
        seen = first.setdefault(key, row)
        for column in ("starts_on", "ends_on", "budget"):
            if getattr(row, column) != getattr(seen, column):
                errors.append(
                    PlanError(
                        row.line,
                        column,
                        f"flight {row.flight!r} has {column} {getattr(seen, column)} on line "
                        f"{seen.line}: every row of a flight gives the same dates and budget",
                    )
                )
        member = (*key, row.campaign.casefold() if row.campaign else None)
        if member in members:
            errors.append(
                PlanError(
                    row.line,
                    "campaign",
                    f"flight {row.flight!r} lists campaign {row.campaign!r} already on line "
                    f"{members[member]}",
                )
            )
        members.setdefault(member, row.line)
    months: dict[tuple[str, str | None, date], int] = {}
    for entry in rows.calendar:
        target = (entry.brand.casefold(), entry.campaign.casefold() if entry.campaign else None)
        month_key = (*target, entry.month)
        if month_key in months:
            errors.append(
                PlanError(
                    entry.line,
                    "month",
                    f"{entry.month:%Y-%m} is planned for this "
                    f"{'campaign' if entry.campaign else 'brand'} already on line "
                    f"{months[month_key]}",
                )
            )
        months.setdefault(month_key, entry.line)


def plan_rows_read(data: bytes) -> tuple[PlanRows, list[PlanError]]:
    """The sheet's good rows, typed, and every error found (by line and column); a file
    that cannot be read at all (a bad header, too large) raises PlanInvalid."""
    if len(data) > MAX_BYTES:
        raise PlanInvalid([PlanError(None, None, f"the file is over {MAX_BYTES} bytes")])
    errors: list[PlanError] = []
    rows = PlanRows()
    reader = csv.reader(_lines(data, errors), strict=True)
    try:
        header, problems = _header(next(reader, None))
        if problems:
            raise PlanInvalid(errors + problems)
        count = 0
        for cells in reader:
            count += 1
            if count > MAX_ROWS:
                errors.append(PlanError(reader.line_num, None, f"more than {MAX_ROWS} rows"))
                break
            if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
                errors.append(
                    PlanError(reader.line_num, None, "more cells than the header has columns")
                )
                continue
            _row(dict(zip(header, cells)), reader.line_num, rows, errors)
    except csv.Error as exc:
        errors.append(PlanError(reader.line_num, None, f"not readable as CSV: {exc}"))
    _consistent(rows, errors)
    return rows, errors


def plan_rows_parse(data: bytes) -> PlanRows:
    """The sheet's rows, typed; PlanInvalid with every error found (by line and column)."""
    rows, errors = plan_rows_read(data)
    if errors:
        raise PlanInvalid(errors)
    return rows


def plan_rows_write(rows: PlanRows, *, places: dict[str, int]) -> str:
    """The sheet for ``rows`` (flights first, then the calendar), amounts with the
    currency's own decimals (``places``: by brand name)."""

    def shown(amount: Decimal, brand: str) -> str:
        # Never fewer decimals than the amount has: the sheet must read back to the same.
        exponent = amount.normalize().as_tuple().exponent
        own = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return f"{amount:.{max(places.get(brand, 2), own)}f}"

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows.flights:
        writer.writerow(
            [
                row.brand,
                row.campaign or "",
                row.flight,
                row.starts_on.isoformat(),
                row.ends_on.isoformat(),
                shown(row.budget, row.brand),
                "",
                "",
            ]
        )
    for entry in rows.calendar:
        writer.writerow(
            [
                entry.brand,
                entry.campaign or "",
                "",
                "",
                "",
                "",
                f"{entry.month:%Y-%m}",
                shown(entry.monthly_budget, entry.brand),
            ]
        )
    return out.getvalue()
