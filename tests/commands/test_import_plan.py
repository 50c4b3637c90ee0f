"""import_plan: the planner's sheet applied all or nothing through the planning services,
described first, errors by line and column; an exported plan imports back to no change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from ads.models import Brand, BudgetChange, ConfigChange, Flight
from ads.services.flights import flight_create
from ads.services.media_plan import media_plan_export
from ads.services.media_plan_apply import (
    PlanChanged,
    media_plan_import,
    summary_fingerprint,
)
from ads.services.media_plan_csv import PlanInvalid
from tests.factories import make_brand, make_campaign, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
HEADER = "brand,campaign,flight,starts_on,ends_on,budget,month,monthly_budget\n"
SHEET = (
    HEADER + "Acme,Search,Black Friday,2026-11-20,2026-12-01,40000,,\n"
    "Acme,Social,Black Friday,2026-11-20,2026-12-01,40000,,\n"
    "Acme,,,,,,2026-07,12000\n"
    "Acme,Search,,,,,2026-08,3000\n"
)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def acme() -> Brand:
    brand = make_brand("Acme", daily="100", monthly="10000")
    make_campaign(brand, "Search")
    make_campaign(brand, "Social")
    return brand


def run(tmp_path: Path, text: str, *args: str) -> str:
    path = tmp_path / "plan.csv"
    path.write_text(text, encoding="utf-8")
    out = StringIO()
    call_command("import_plan", str(path), *args, stdout=out)
    return out.getvalue()


def refused(tmp_path: Path, text: str) -> tuple[str, str]:
    path = tmp_path / "plan.csv"
    path.write_text(text, encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_plan", str(path), stdout=out)
    return out.getvalue(), str(raised.value)


def test_the_sheet_is_applied_through_the_services_and_audited(tmp_path: Path, acme: Brand) -> None:
    out = run(tmp_path, SHEET)

    flight = Flight.objects.get()
    assert (flight.name, flight.starts_on, flight.budget) == (
        "Black Friday",
        date(2026, 11, 20),
        Decimal("40000"),
    )
    assert sorted(c.name for c in flight.campaigns.all()) == ["Search", "Social"]
    changes = BudgetChange.objects.order_by("effective_on")
    assert [(c.target, c.effective_on, c.monthly_budget, c.created_by) for c in changes] == [
        ("brand", date(2026, 7, 1), Decimal("12000"), "manage.py import_plan"),
        ("campaign", date(2026, 8, 1), Decimal("3000"), "manage.py import_plan"),
    ]
    assert ConfigChange.objects.filter(actor="manage.py import_plan").count() == 3
    assert "flights: 1 new, 0 changed, 0 unchanged; monthly budgets: 2 new" in out
    assert "lines 2-3: Acme: new flight 'Black Friday'" in out
    # Before the flight, its campaigns wait outside it.
    assert "enforced at once: 2 campaign(s) moved: Search (outside_flight)" in out
    assert state(acme.campaigns.get(name="Search")) == ("paused", "outside_flight")


def test_a_dry_run_says_what_would_change_and_changes_nothing(tmp_path: Path, acme: Brand) -> None:
    out = run(tmp_path, SHEET, "--dry-run")

    assert "would change:" in out and "dry run: nothing was changed" in out
    assert "line 4: Acme's monthly budget from 2026-07-01: 12,000.00 USD" in out
    assert not Flight.objects.exists() and not BudgetChange.objects.exists()
    assert not ConfigChange.objects.exists()


def test_running_the_same_sheet_again_changes_nothing(tmp_path: Path, acme: Brand) -> None:
    run(tmp_path, SHEET)
    audited = ConfigChange.objects.count()

    out = run(tmp_path, SHEET)

    assert "nothing to change: the stored plan is the sheet's" in out
    assert ConfigChange.objects.count() == audited


def test_one_bad_line_applies_nothing_of_the_file(tmp_path: Path, acme: Brand) -> None:
    out, error = refused(tmp_path, SHEET + "Acme,Search,Cyber Monday,2026-11-30,2026-12-02,0,,\n")

    assert "refused, nothing was changed:" in out
    assert "line 6, column budget: must be above zero (0 is not)" in out
    assert error == "1 error(s) in " + str(tmp_path / "plan.csv") + "; fix them and run it again"
    assert not Flight.objects.exists() and not BudgetChange.objects.exists()


def test_every_rule_is_refused_by_line_and_column(tmp_path: Path, acme: Brand) -> None:
    make_campaign(make_brand("Globex"), "Theirs")
    out, _ = refused(
        tmp_path,
        HEADER + "Acme,Search,June,2026-07-10,2026-07-01,100,,\n"
        "Acme,Theirs,July,2026-07-01,2026-07-31,100,,\n"
        "Acme,Search,A,2026-08-01,2026-08-31,100,,\n"
        "Acme,Search,B,2026-08-31,2026-09-30,100,,\n"
        "Acme,Social,C,2026-10-01,2026-10-31,10.001,,\n"
        "Acme,,,,,,2026-05,100\n"
        "Nobody,,,,,,2026-09,100\n"
        "Acme,Nothing,,,,,2026-09,100\n",
    )

    for expected in (
        "line 2, column ends_on: the flight ends (2026-07-01) before it starts (2026-07-10)",
        "line 3, column campaign: campaign 'Theirs' is of brand Globex, not of Acme",
        "line 5, column campaign: campaign 'Search' would be in flights 'A'",
        "line 6, column budget: the amount USD amounts have at most 2 decimals",
        "line 7, column month: 2026-05 has begun for Acme",
        "line 8, column brand: no brand named 'Nobody'",
        "line 9, column campaign: Acme has no campaign named 'Nothing'",
    ):
        assert expected in out
    assert not Flight.objects.exists()


def test_a_refusal_only_the_service_makes_is_reported_at_its_line_and_undoes_the_rest(
    acme: Brand,
) -> None:
    too_long = "x" * 201
    sheet = HEADER + "Acme,Search,Fine,2026-07-01,2026-07-31,100,,\n"
    sheet += f"Acme,Social,{too_long},2026-07-01,2026-07-31,100,,\n"

    with pytest.raises(PlanInvalid) as raised:
        media_plan_import(data=sheet.encode(), at=NOON, actor="t")

    assert [str(e) for e in raised.value.errors] == [
        "line 3, column flight: A name has at most 200 characters."
    ]
    assert not Flight.objects.exists()  # "Fine" was created, then undone with the rest
    assert not ConfigChange.objects.exists()


def test_a_stored_flight_is_brought_to_the_sheet_and_may_free_its_dates(acme: Brand) -> None:
    search = acme.campaigns.get(name="Search")
    flight_create(
        brand_id=acme.pk,
        name="One",
        starts_on=date(2026, 8, 1),
        ends_on=date(2026, 8, 31),
        budget="100",
        campaign_ids=[search.pk],
        at=NOON,
        actor="t",
    )
    sheet = HEADER + "Acme,Search,Two,2026-08-01,2026-08-31,100,,\n"
    sheet += "Acme,Search,One,2026-09-01,2026-09-30,150,,\n"

    outcome = media_plan_import(data=sheet.encode(), at=NOON, actor="t")

    assert outcome.summary.flights_new == outcome.summary.flights_changed == 1
    spans = {f.name: (f.starts_on, f.budget) for f in Flight.objects.all()}
    assert spans == {
        "One": (date(2026, 9, 1), Decimal("150")),
        "Two": (date(2026, 8, 1), Decimal("100")),
    }


def test_a_confirmation_applies_only_what_its_preview_showed(acme: Brand) -> None:
    preview = media_plan_import(data=SHEET.encode(), at=NOON, actor="t", dry_run=True)
    fingerprint = summary_fingerprint(preview.summary)
    media_plan_import(data=(HEADER + "Acme,,,,,,2026-07,9000\n").encode(), at=NOON, actor="other")

    with pytest.raises(PlanChanged) as raised:
        media_plan_import(data=SHEET.encode(), at=NOON, actor="t", expected=fingerprint)

    assert "9,000.00 USD → 12,000.00 USD" in raised.value.summary.changes[-2]
    assert not Flight.objects.exists()


def test_an_exported_plan_imports_back_to_no_change(tmp_path: Path, acme: Brand) -> None:
    run(tmp_path, SHEET)
    exported = media_plan_export(brand_id=acme.pk).text

    out = run(tmp_path, exported)

    assert "nothing to change" in out
    assert "flights: 0 new, 0 changed, 1 unchanged; monthly budgets: 0 new, 0 changed, 2 " in out


def test_a_file_that_cannot_be_read_is_said_so(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_plan", str(tmp_path / "missing.csv"), stdout=StringIO())
