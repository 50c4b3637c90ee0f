"""import_spend: streamed CSV import with bad rows reported by line number."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Sum

from ads.models import Campaign, SpendEvent
from tests.factories import make_brand, make_campaign, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def campaigns() -> tuple[Campaign, Campaign]:
    brand = make_brand("Acme", daily="100", monthly="1000")
    first = make_campaign(brand, "Search")
    second = make_campaign(brand, "Display")
    second.external_id = "gads-42"
    second.save()
    return first, second


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spend.csv"
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, *args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("import_spend", str(path), *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_good_rows_are_imported_and_bad_rows_reported_by_line(
    tmp_path: Path, campaigns: tuple[Campaign, Campaign]
) -> None:
    first, _ = campaigns
    path = write(
        tmp_path,
        "campaign,campaign_external_id,amount,occurred_at,event_id\n"
        f"{first.pk},,12.50,2026-06-10T09:00:00+00:00,a\n"
        f"{first.pk},,-1,2026-06-10T09:00:00+00:00,b\n"
        ",gads-42,7.25,2026-06-10T10:00:00+02:00,c\n"
        "abc,,1,2026-06-10T09:00:00+00:00,d\n"
        f"{first.pk},,1,2026-06-10T09:00:00,e\n"
        ",unknown-ext,1,2026-06-10T09:00:00+00:00,f\n",
    )

    out, error = run(path)

    assert "imported 2, 0 already recorded, 4 rejected." in out
    assert out.splitlines()[1:] == [
        "  line 3: amount must be greater than zero, got -1",
        "  line 5: campaign 'abc' is not a campaign id",
        "  line 6: occurred_at has no time zone offset; send e.g. 2026-06-10T10:00:00+02:00",
        "  line 7: unknown campaign_external_id 'unknown-ext'",
    ]
    assert error is not None and "4 row(s) rejected" in str(error)
    assert SpendEvent.objects.aggregate(total=Sum("amount"))["total"] == Decimal("19.75")
    assert set(SpendEvent.objects.values_list("source", flat=True)) == {"csv"}


def test_reimporting_the_same_file_adds_nothing_even_without_event_ids(
    tmp_path: Path, campaigns: tuple[Campaign, Campaign]
) -> None:
    first, _ = campaigns
    path = write(
        tmp_path,
        "campaign,amount,occurred_at\n" f"{first.pk},5,2026-06-10T09:00:00+00:00\n"
        # The same spend twice in one file is two events.
        f"{first.pk},5,2026-06-10T09:00:00+00:00\n",
    )

    first_out, first_error = run(path, "--source", "agency-sheet")
    again_out, again_error = run(path, "--source", "agency-sheet")

    assert first_error is None and again_error is None
    assert "imported 2, 0 already recorded, 0 rejected." in first_out
    assert "imported 0, 2 already recorded, 0 rejected." in again_out
    assert SpendEvent.objects.filter(source="agency-sheet").count() == 2


def test_a_row_that_reaches_the_budget_pauses_during_the_import(
    tmp_path: Path, campaigns: tuple[Campaign, Campaign]
) -> None:
    first, second = campaigns
    path = write(
        tmp_path,
        "campaign,amount,occurred_at,event_id\n"
        f"{first.pk},60,2026-06-10T09:00:00+00:00,1\n"
        f"{second.pk},40,2026-06-10T09:30:00+00:00,2\n",
    )
    run(path)
    assert state(first) == ("paused", "brand_daily_budget")


def test_dry_run_checks_every_row_and_writes_nothing(
    tmp_path: Path, campaigns: tuple[Campaign, Campaign]
) -> None:
    first, _ = campaigns
    path = write(
        tmp_path,
        "campaign,amount,occurred_at,event_id\n"
        f"{first.pk},5,2026-06-10T09:00:00+00:00,x\n"
        f"{first.pk},1.0000001,2026-06-10T09:00:00+00:00,y\n",
    )

    out, error = run(path, "--dry-run")

    assert "would import 1, 0 already recorded, 1 rejected." in out
    assert "line 3: amount '1.0000001' has more than 6 decimal places" in out
    assert error is not None and "checked" in str(error)
    assert not SpendEvent.objects.exists()
    run(path)
    again, _ = run(path, "--dry-run")
    assert "would import 0, 1 already recorded, 1 rejected." in again


def test_a_file_without_the_needed_columns_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "campaign,cost,when\n1,2,3\n")
    out, error = run(path)
    assert error is not None and "the header must name amount, occurred_at" in str(error)
    assert "unknown columns: ['cost', 'when']" in str(error)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    _, error = run(tmp_path / "nope.csv")
    assert error is not None and "cannot read" in str(error)


def test_large_files_are_imported_in_batches(
    tmp_path: Path, campaigns: tuple[Campaign, Campaign], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ads.management.commands import import_spend

    monkeypatch.setattr(import_spend, "BATCH", 7)
    first, _ = campaigns
    rows = "".join(f"{first.pk},0.01,2026-06-10T0{n % 10}:00:00+00:00,r{n}\n" for n in range(50))
    path = write(tmp_path, "campaign,amount,occurred_at,event_id\n" + rows)

    out, error = run(path)

    assert error is None and "imported 50," in out
    assert SpendEvent.objects.aggregate(total=Sum("amount"))["total"] == Decimal("0.50")


def test_a_bad_byte_stops_with_its_line_and_the_summary_of_what_was_stored(
    tmp_path: Path, campaigns: tuple[Campaign, Campaign]
) -> None:
    first, second = campaigns
    path = tmp_path / "spend.csv"
    path.write_bytes(
        b"campaign,amount,occurred_at,event_id\n"
        + f"{first.pk},60,2026-06-10T10:00:00+00:00,a\n".encode()
        + f"{first.pk},50,2026-06-10T10:00:00+00:00,b\n".encode()
        + f"{first.pk},5\xff,2026-06-10T10:00:00+00:00,c\n".encode("latin-1")
    )

    out, error = run(path)

    assert error is not None
    assert "line 4: byte 0xff at column" in str(error)
    assert "the rows before it are stored" in str(error)
    assert "imported 2, 0 already recorded, 0 rejected." in out
    # 110 of the brand's daily 100: both of its campaigns paused, and the summary says so.
    assert f"paused 2 campaign(s): {first.pk} (Search), {second.pk} (Display)" in out
    assert SpendEvent.objects.aggregate(total=Sum("amount"))["total"] == Decimal("110")


def test_a_database_failure_half_way_ends_with_the_same_summary(
    tmp_path: Path, campaigns: tuple[Campaign, Campaign], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    from ads.management.commands import import_spend

    first, _ = campaigns
    rows = "".join(f"{first.pk},1,2026-06-10T10:00:00+00:00,e{n}\n" for n in range(5))
    path = write(tmp_path, "campaign,amount,occurred_at,event_id\n" + rows)
    real = import_spend.spend_ingest  # type: ignore[attr-defined]
    calls = []

    def failing_second_batch(**kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(import_spend, "BATCH", 2)
    monkeypatch.setattr(import_spend, "spend_ingest", failing_second_batch)

    out, error = run(path)

    assert error is not None
    assert "lines 4-5: the database failed (OperationalError: server closed" in str(error)
    assert "imported 2, 0 already recorded, 0 rejected." in out
    assert SpendEvent.objects.count() == 2


def test_a_row_that_conflicts_with_a_recorded_event_is_reported_and_changes_nothing(
    tmp_path: Path, campaigns: tuple[Campaign, Campaign]
) -> None:
    first, _ = campaigns
    header = "campaign,amount,occurred_at,event_id\n"
    run(write(tmp_path, header + f"{first.pk},1.00,2026-06-10T10:00:00+00:00,k\n"))

    out, error = run(write(tmp_path, header + f"{first.pk},2.00,2026-06-10T10:00:00+00:00,k\n"))

    assert error is not None
    assert "1 conflicting with recorded events" in out
    assert "line 2: source 'csv' and event_id 'k' were already recorded" in out
    assert SpendEvent.objects.get().amount == Decimal("1.00")
