"""The ledger's monthly partitions (PostgreSQL): created ahead, append-only on every one,
archived past the retention; and the key table that keeps idempotency global."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from ads.models import JobRun, LedgerArchive, SpendEvent, SpendEventKey, SpendKind
from ads.services import ledger_partitions as lp
from ads.services.health import check_ledger_partitions
from ads.services.ledger import LedgerRow, ledger_and_totals_add
from ads.services.ledger_partitions import (
    ArchiveRefused,
    check_retention,
    ledger_archive,
    partitions_ensure,
)
from ads.services.verify import totals_verify
from tests.factories import make_brand, make_campaign, spend

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


needs_postgres = pytest.mark.postgres("the ledger is partitioned only there")


def row(
    campaign_id: int, brand_id: int, day: date, external_id: str, micros: int = 1_000_000
) -> LedgerRow:
    return LedgerRow(
        campaign_id=campaign_id,
        brand_id=brand_id,
        micros=micros,
        occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        local_date=day,
        source="test",
        external_id=external_id,
        kind=SpendKind.EVENT,
    )


def record(day: date, external_id: str) -> SpendEvent:
    """A ledger row (with its key and totals) on any date, past the API's age bound."""
    campaign = make_campaign(make_brand())
    with transaction.atomic():
        inserted, _ = ledger_and_totals_add(
            [row(campaign.pk, campaign.brand_id, day, external_id)], AT
        )
    assert inserted == {("test", external_id, "event")}
    return SpendEvent.objects.get(external_id=external_id)


def partition_of(event: SpendEvent) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM ads_spendevent WHERE id = %s", [event.pk]
        )
        found = cursor.fetchone()
    assert found is not None
    return str(found[0])


# The key table: one code path on both databases.


def test_a_resend_is_decided_by_the_key_table_and_adds_nothing() -> None:
    campaign = make_campaign(make_brand())
    first = spend(campaign, "2.00", at=AT, event_id="k-1")
    again = spend(campaign, "2.00", at=AT, event_id="k-1")
    other = spend(campaign, "3.00", at=AT, event_id="k-1")

    assert (first.accepted, again.duplicates, other.conflicts) == (1, 1, 1)
    key = SpendEventKey.objects.get()
    event = SpendEvent.objects.get()
    assert (key.event_id, key.local_date) == (event.pk, event.local_date)


@pytest.mark.parametrize("statement", ["UPDATE", "DELETE"])
def test_the_key_table_refuses_update_and_delete(statement: str) -> None:
    spend(make_campaign(make_brand()), "2.00", at=AT, event_id="k-2")
    sql = {
        "UPDATE": "UPDATE ads_spendeventkey SET external_id = 'other'",
        "DELETE": "DELETE FROM ads_spendeventkey",
    }[statement]

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)

    assert SpendEventKey.objects.get().external_id == "k-2"


def test_on_sqlite_the_partition_commands_say_there_is_nothing_to_do() -> None:
    if on_postgres():
        pytest.skip("SQLite's answer")
    out = StringIO()
    call_command("ledger_partitions", stdout=out)
    assert "not partitioned (SQLite): nothing to do" in out.getvalue()
    with pytest.raises(CommandError, match="not partitioned"):
        call_command("ledger_archive")
    assert check_ledger_partitions(at=AT).ok


@pytest.mark.parametrize("months", [1, 13])
def test_a_retention_shorter_than_the_age_bound_of_events_is_refused(months: int) -> None:
    with pytest.raises(ImproperlyConfigured, match="at least 14"):
        check_retention(months)


def test_the_shortest_retention_covering_the_age_bound_is_accepted() -> None:
    check_retention(14)  # 14 months hold at least 424 days > 400 + a day
    assert lp.min_days_in_months(14) > 401


# PostgreSQL: the partitions.


@needs_postgres
def test_the_migrated_ledger_is_partitioned_by_month_with_a_default_partition() -> None:
    with connection.cursor() as cursor:
        assert lp.is_partitioned(cursor)
        attached = lp.attached_months(cursor)
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [lp.DEFAULT_PARTITION])
        assert cursor.fetchone() == (True,)
    assert date(2026, 11, 1) in attached


@needs_postgres
@pytest.mark.parametrize("statement", ["UPDATE", "DELETE"])
def test_a_partition_created_ahead_refuses_update_and_delete_on_itself(statement: str) -> None:
    result = partitions_ensure(at=AT, ahead=12)
    assert "ads_spendevent_y2027m11" in result.created
    event = record(date(2027, 11, 3), "ahead-1")
    assert partition_of(event) == "ads_spendevent_y2027m11"
    sql = {
        "UPDATE": "UPDATE ads_spendevent_y2027m11 SET amount = 1",
        "DELETE": "DELETE FROM ads_spendevent_y2027m11",
    }[statement]

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)

    assert SpendEvent.objects.get(pk=event.pk).amount == event.amount


def missing_names(at: datetime, ahead: int) -> list[str]:
    """The partitions ``ahead`` months from ``at`` that the database lacks now. The migration
    made its own from the real clock when the test database was created, so what is missing
    depends on that day, not on the test's."""
    with connection.cursor() as cursor:
        attached = lp.attached_months(cursor)
    return [lp.partition_name(m) for m in lp.months_wanted(at, ahead) if m not in attached]


@needs_postgres
def test_creating_partitions_ahead_is_safe_to_run_twice() -> None:
    expected = missing_names(AT, 12)
    first = partitions_ensure(at=AT, ahead=12)
    second = partitions_ensure(at=AT, ahead=12)

    assert first.created == expected and len(expected) >= 4
    assert "ads_spendevent_y2027m11" in first.created
    assert second.created == [] and second.existing == first.existing + len(expected)
    assert missing_names(AT, 12) == []


@needs_postgres
def test_rows_the_default_partition_caught_move_into_their_new_month() -> None:
    event = record(date(2031, 2, 14), "far-future")
    assert partition_of(event) == lp.DEFAULT_PARTITION
    assert not check_ledger_partitions(at=AT).ok

    result = partitions_ensure(at=AT)

    assert "ads_spendevent_y2031m02" in result.created and result.moved_from_default == 1
    assert partition_of(SpendEvent.objects.get(pk=event.pk)) == "ads_spendevent_y2031m02"
    assert check_ledger_partitions(at=AT).ok


@needs_postgres
def test_the_command_creates_ahead_and_records_its_run() -> None:
    # The command runs at the real clock, like the migration did: two more months ahead than
    # the migration made are the two it creates.
    expected = missing_names(timezone.now(), lp.DEFAULT_AHEAD + 2)
    out = StringIO()
    call_command("ledger_partitions", "--ahead", str(lp.DEFAULT_AHEAD + 2), stdout=out)

    assert len(expected) >= 2
    assert f"created {len(expected)} ({', '.join(expected)})" in out.getvalue()
    assert JobRun.objects.get(job="ledger_partitions").outcome == "succeeded"
    assert missing_names(timezone.now(), lp.DEFAULT_AHEAD + 2) == []


@needs_postgres
def test_the_dry_run_creates_nothing() -> None:
    expected = missing_names(timezone.now(), lp.DEFAULT_AHEAD + 2)
    out = StringIO()
    call_command("ledger_partitions", "--ahead", str(lp.DEFAULT_AHEAD + 2), "--dry-run", stdout=out)

    assert len(expected) >= 2 and f"would create {len(expected)}" in out.getvalue()
    assert missing_names(timezone.now(), lp.DEFAULT_AHEAD + 2) == expected


# PostgreSQL: archiving.


def _old_month_with_a_row() -> SpendEvent:
    event = record(date(2023, 3, 9), "old-1")
    partitions_ensure(at=AT)  # moves it out of the DEFAULT partition into 2023-03
    assert partition_of(SpendEvent.objects.get(pk=event.pk)) == "ads_spendevent_y2023m03"
    return event


@needs_postgres
@override_settings(LEDGER_RETENTION_MONTHS=24)
def test_archiving_detaches_old_months_keeps_totals_and_verify_skips_them() -> None:
    event = _old_month_with_a_row()
    recent = record(date(2026, 11, 2), "recent-1")

    result = ledger_archive(at=AT, older_than_months=24, actor="test")

    assert [m.month for m in result.months] == [date(2023, 3, 1)]
    assert (result.months[0].rows, result.months[0].micros) == (1, 1_000_000)
    assert not SpendEvent.objects.filter(pk=event.pk).exists()
    assert SpendEvent.objects.filter(pk=recent.pk).exists()
    assert not SpendEventKey.objects.filter(external_id="old-1").exists()
    archive = LedgerArchive.objects.get()
    assert archive.table == "ads_archive.ads_spendevent_y2023m03" and archive.rows == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ads_archive.ads_spendevent_y2023m03")
        assert cursor.fetchone() == (1,)
    # The month's totals are kept; verify checks only the attached months.
    verified = totals_verify(at=AT)
    assert verified.since == date(2023, 4, 1) and not verified.differences
    # Safe to run twice, and the archived month is not created again.
    assert ledger_archive(at=AT, older_than_months=24, actor="test").months == []
    assert "ads_spendevent_y2023m03" not in partitions_ensure(at=AT).created


@needs_postgres
@override_settings(LEDGER_RETENTION_MONTHS=24)
def test_an_event_dated_in_an_archived_month_is_refused_with_a_reason() -> None:
    event = _old_month_with_a_row()
    ledger_archive(at=AT, older_than_months=24, actor="test")

    result = spend(event.campaign, "1.00", at=AT, occurred_at=event.occurred_at, event_id="old-1")

    assert result.rejected == 1
    assert "more than 400 days ago" in (result.outcomes[0].reason or "")
    assert not SpendEventKey.objects.filter(external_id="old-1").exists()


@needs_postgres
@override_settings(LEDGER_RETENTION_MONTHS=24)
@pytest.mark.parametrize("months", [0, 1, 2, 23])
def test_archiving_refuses_months_newer_than_the_retention(months: int) -> None:
    _old_month_with_a_row()

    with pytest.raises(ArchiveRefused, match="newer than the retention"):
        ledger_archive(at=AT, older_than_months=months, actor="test")
    with pytest.raises(CommandError, match="newer than the retention"):
        call_command("ledger_archive", "--older-than-months", str(months or 1))

    assert not LedgerArchive.objects.exists()
    assert SpendEvent.objects.filter(external_id="old-1").exists()


@needs_postgres
@override_settings(LEDGER_RETENTION_MONTHS=24)
def test_the_archive_command_dry_run_changes_nothing_then_archives() -> None:
    _old_month_with_a_row()
    dry, real = StringIO(), StringIO()

    call_command("ledger_archive", "--dry-run", stdout=dry)
    assert "would archive 1: 2023-03 (1 rows, 1.00)" in dry.getvalue()
    assert SpendEvent.objects.filter(external_id="old-1").exists()
    assert not LedgerArchive.objects.exists()

    call_command("ledger_archive", stdout=real)
    assert "archived 1: 2023-03" in real.getvalue()
    assert LedgerArchive.objects.get().month == date(2023, 3, 1)
