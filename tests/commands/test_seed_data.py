from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from ads.models import (
    Brand,
    BrandPeriodSpend,
    Campaign,
    CampaignStatusChange,
    DaypartSchedule,
    DaypartWindow,
    SpendEvent,
)

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def counts() -> dict[str, object]:
    return {
        "brands": Brand.objects.count(),
        "campaigns": list(
            Campaign.objects.order_by("id").values_list("id", "status", "pause_reason")
        ),
        "schedules": DaypartSchedule.objects.count(),
        "windows": DaypartWindow.objects.count(),
        "events": SpendEvent.objects.count(),
        "totals": list(BrandPeriodSpend.objects.order_by("id").values_list("amount", flat=True)),
        "changes": CampaignStatusChange.objects.count(),
        "users": get_user_model().objects.count(),
    }


@override_settings(DEBUG=True)
def test_seed_data_twice_changes_nothing_the_second_time() -> None:
    out = StringIO()
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", stdout=out)
        first = counts()
        call_command("seed_data", stdout=out)

    assert counts() == first
    assert first["brands"] == 3 and first["schedules"] == 3
    assert len(first["campaigns"]) == 12  # type: ignore[arg-type]
    assert {b.timezone for b in Brand.objects.all()} == {
        "America/New_York",
        "Europe/London",
        "Asia/Tokyo",
    }
    text = out.getvalue()
    assert "3 brands, 12 campaigns, 3 schedules created; 13 spend events recorded." in text
    assert "0 brands, 0 campaigns, 0 schedules created; 0 spend events recorded." in text
    assert "demo superuser created: username 'admin', password 'admin'" in text
    assert get_user_model().objects.get().is_superuser


@override_settings(DEBUG=False)
def test_no_demo_superuser_without_debug() -> None:
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", stdout=StringIO())
    assert not get_user_model().objects.exists()


def test_synthetic_data_in_bulk_and_idempotent() -> None:
    out = StringIO()
    with time_machine.travel(NOON, tick=False):
        call_command("seed_data", "--brands", "30", "--campaigns-per-brand", "7", stdout=out)
        call_command("seed_data", "--brands", "30", "--campaigns-per-brand", "7", stdout=out)

    assert Brand.objects.count() == 30
    assert Campaign.objects.count() == 210
    assert Campaign.objects.filter(schedule__isnull=False).count() == 70
    assert len({b.timezone for b in Brand.objects.all()}) > 5
    text = out.getvalue()
    assert "30 brands, 210 campaigns, 3 schedules created" in text
    assert "0 brands, 0 campaigns, 0 schedules created" in text


def test_synthetic_sizes_must_be_positive() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_data", "--brands", "0")
