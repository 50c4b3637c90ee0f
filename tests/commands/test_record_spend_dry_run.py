"""record_spend --dry-run: says what would happen, stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from ads.models import SpendEvent
from tests.factories import make_brand, make_campaign, spend, state

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def test_dry_run_says_the_event_would_reach_the_budget_and_stores_nothing() -> None:
    campaign = make_campaign(make_brand(daily="100", monthly="1000"), daily="50")
    spend(campaign, "40", at=NOON)
    out = StringIO()

    with time_machine.travel(NOON, tick=False):
        call_command(
            "record_spend",
            "--campaign",
            str(campaign.pk),
            "--amount",
            "10",
            "--dry-run",
            stdout=out,
        )

    text = out.getvalue()
    assert text.startswith("dry run, nothing stored: would be accepted: manual:")
    assert "brand day 2026-06-10: 40.00 -> 50.00 of 100.00\n" in text
    assert "campaign day 2026-06-10: 40.00 -> 50.00 of 50.00 -> reaches it" in text
    assert SpendEvent.objects.count() == 1
    assert state(campaign) == ("running", None)
