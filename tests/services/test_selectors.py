"""campaign_states: where campaigns stand, as the sweep commands and seed_data print it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ads.services.campaigns import campaigns_set_enabled
from ads.services.selectors.operators import campaign_states
from tests.factories import make_brand, make_campaign, make_schedule, spend

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def test_counts_running_and_paused_by_reason_of_some_brands_or_all() -> None:
    closed = make_schedule((0, "01:00", "02:00"))
    brand, other = make_brand(daily="50", monthly="1000"), make_brand()
    capped = make_campaign(brand, daily="10")
    make_campaign(brand)
    stopped = make_campaign(brand)
    make_campaign(other, schedule=closed)
    spend(capped, "10", at=NOON)  # pauses `capped` (its cap); `other` is not evaluated
    campaigns_set_enabled(campaign_ids=[stopped.pk], enabled=False, at=NOON, actor="alice")

    ours = campaign_states(brand_ids=[brand.pk])
    everyone = campaign_states()

    assert (ours.total, ours.running, ours.paused) == (3, 1, 2)
    assert ours.paused_by_reason == {"manual": 1, "campaign_daily_budget": 1}
    assert ours.line() == "3 campaigns, 1 running, 2 paused (1 manual, 1 campaign_daily_budget)"
    assert everyone.total == 4
    assert campaign_states(brand_ids=[]).line() == "0 campaigns, 0 running, 0 paused"
