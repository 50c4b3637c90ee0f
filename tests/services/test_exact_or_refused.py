"""Every amount exact or refused at the service level: totals that cannot overflow, resends
that disagree, and a ledger the database itself keeps append-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from ads.core.money import MAX_AMOUNT, MAX_TOTAL_MICROS
from ads.models import BrandPeriodSpend, CampaignPeriodSpend, SpendEvent
from ads.models.ledger_guard import ledger_maintenance
from ads.services.daily_totals import TotalStatus, daily_totals_ingest
from ads.services.spend import spend_record
from ads.services.spend_events import EventStatus, SpendEventInput
from tests.factories import make_brand, make_campaign, state

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def _event(campaign_id: int, amount: object, key: str, **extra: object) -> SpendEventInput:
    fields: dict[str, object] = {
        "campaign_id": campaign_id,
        "amount": amount,
        "occurred_at": NOON,
        "source": "test",
        "external_id": key,
    }
    fields.update(extra)
    return SpendEventInput(**fields)  # type: ignore[arg-type]


def _raw_totals(table: str) -> list[object]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT amount FROM {table}")
        return [row[0] for row in cursor.fetchall()]


def test_an_event_that_would_overflow_a_period_total_is_refused_and_totals_stay_integers() -> None:
    campaign = make_campaign(make_brand(daily=str(MAX_AMOUNT), monthly=str(MAX_AMOUNT)))
    fits = MAX_TOTAL_MICROS // 10**18  # maximal amounts (10**18 micros each) that fit: 9

    first = spend_record(
        events=[_event(campaign.pk, MAX_AMOUNT, f"max-{n}") for n in range(fits)], at=NOON
    )
    assert first.accepted == fits

    result = spend_record(
        events=[
            _event(campaign.pk, MAX_AMOUNT, "one-too-many"),
            _event(campaign.pk, "1.00", "small"),
            _event(campaign.pk, MAX_AMOUNT, "max-0"),  # a duplicate adds nothing: not refused
        ],
        at=NOON,
    )

    statuses = [o.status for o in result.outcomes]
    assert statuses == [EventStatus.REJECTED, EventStatus.ACCEPTED, EventStatus.DUPLICATE]
    reason = result.outcomes[0].reason or ""
    assert f"campaign {campaign.pk}'s daily total for 2026-06-10 past" in reason
    assert "9223372036854.775807" in reason
    for table in ("ads_campaignperiodspend", "ads_brandperiodspend"):
        assert all(type(value) is int for value in _raw_totals(table))
    expected = MAX_AMOUNT * fits + Decimal("1")
    assert CampaignPeriodSpend.objects.get(campaign=campaign, period="day").amount == expected
    assert BrandPeriodSpend.objects.get(brand=campaign.brand, period="month").amount == expected
    assert SpendEvent.objects.filter(external_id="one-too-many").count() == 0
    # Later events of the same period still work.
    assert spend_record(events=[_event(campaign.pk, "2", "later")], at=NOON).accepted == 1


def test_a_daily_total_whose_adjustment_would_overflow_is_rejected() -> None:
    brand = make_brand(daily=str(MAX_AMOUNT), monthly=str(MAX_AMOUNT))
    campaigns = [make_campaign(brand) for _ in range(10)]
    items = [
        {
            "campaign": campaign.pk,
            "date": "2026-06-10",
            "total": str(MAX_AMOUNT),
            "reported_at": NOON.isoformat(),
            "source": "google-ads",
        }
        for campaign in campaigns
    ]

    result = daily_totals_ingest(items=items, at=NOON)

    statuses = [o.status for o in result.outcomes]
    assert statuses.count(TotalStatus.APPLIED) == 9
    assert statuses.count(TotalStatus.REJECTED) == 1
    assert all(type(value) is int for value in _raw_totals("ads_brandperiodspend"))
    brand_day = BrandPeriodSpend.objects.get(brand=brand, period="day").amount
    assert brand_day == MAX_AMOUNT * 9
    assert sum(SpendEvent.objects.values_list("amount", flat=True), Decimal(0)) == brand_day


def test_a_dry_run_reports_a_conflict_and_a_pause_and_keeps_nothing() -> None:
    brand = make_brand(daily="10", monthly="100")
    campaign = make_campaign(brand)
    spend_record(events=[_event(campaign.pk, "4", "k")], at=NOON)

    result = spend_record(
        events=[_event(campaign.pk, "5", "k"), _event(campaign.pk, "6", "new")],
        at=NOON,
        dry_run=True,
    )

    assert [o.status for o in result.outcomes] == [EventStatus.CONFLICT, EventStatus.ACCEPTED]
    assert result.outcomes[0].differs == ("amount",)
    assert [t.kind for t in result.transitions] == ["paused"]
    assert SpendEvent.objects.count() == 1
    assert state(campaign) == ("running", None)


def test_a_resend_at_the_same_instant_in_another_offset_is_a_duplicate() -> None:
    campaign = make_campaign(make_brand(daily="100", monthly="1000"))
    spend_record(events=[_event(campaign.pk, "4.50", "k")], at=NOON)
    same_instant = NOON.astimezone(UTC).replace(tzinfo=UTC) + timedelta(0)

    result = spend_record(
        events=[_event(campaign.pk, "4.5", "k", occurred_at=same_instant.astimezone())],
        at=NOON,
    )

    assert result.outcomes[0].status == EventStatus.DUPLICATE


@pytest.mark.parametrize(
    "statement", ["DELETE FROM ads_spendevent", "UPDATE ads_spendevent SET amount = 0"]
)
def test_the_database_refuses_to_change_or_remove_ledger_rows(statement: str) -> None:
    campaign = make_campaign(make_brand(daily="100", monthly="1000"))
    spend_record(events=[_event(campaign.pk, "4", "k")], at=NOON)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)

    assert SpendEvent.objects.get().amount == Decimal("4")


def test_the_orm_cannot_delete_or_update_ledger_rows_either() -> None:
    campaign = make_campaign(make_brand(daily="100", monthly="1000"))
    spend_record(events=[_event(campaign.pk, "4", "k")], at=NOON)
    row = SpendEvent.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        row.delete()
    row.amount = Decimal("1")
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()

    assert SpendEvent.objects.get().amount == Decimal("4")


@pytest.mark.drift  # it removes ledger rows behind the totals' back, on purpose
def test_ledger_maintenance_lets_the_system_remove_its_own_rows() -> None:
    campaign = make_campaign(make_brand(daily="100", monthly="1000"))
    spend_record(events=[_event(campaign.pk, "4", "k")], at=NOON)

    with ledger_maintenance():
        SpendEvent.objects.all().delete()

    assert not SpendEvent.objects.exists()
    # ...and only inside it.
    spend_record(events=[_event(campaign.pk, "4", "k2")], at=NOON)
    with pytest.raises(IntegrityError), transaction.atomic():
        SpendEvent.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_flush_still_empties_the_whole_database() -> None:
    campaign = make_campaign(make_brand(daily="100", monthly="1000"))
    spend_record(events=[_event(campaign.pk, "4", "k")], at=NOON)

    call_command("flush", "--no-input", verbosity=0)

    assert not SpendEvent.objects.exists()


@pytest.mark.drift  # it removes its ledger rows at the end, on purpose
@pytest.mark.django_db(transaction=True)
def test_migrate_puts_back_triggers_that_a_table_rebuild_dropped() -> None:
    # SQLite drops a table's triggers when a migration rebuilds it; the next migrate (and
    # every later one) installs them again.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER ads_spendevent_append_only ON ads_spendevent")
        else:
            cursor.execute("DROP TRIGGER ads_spendevent_no_delete")
            cursor.execute("DROP TRIGGER ads_spendevent_no_update")

    call_command("migrate", verbosity=0)

    campaign = make_campaign(make_brand(daily="100", monthly="1000"))
    spend_record(events=[_event(campaign.pk, "4", "k")], at=NOON)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        SpendEvent.objects.all().delete()
    with ledger_maintenance():  # leave the database empty for the flush after this test
        SpendEvent.objects.all().delete()
