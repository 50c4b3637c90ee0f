"""sync_platforms: spend restated from the platforms, statuses compared, drift repaired."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

from django.core.management import call_command

from ads.models import (
    AdAccount,
    Campaign,
    CampaignPlatformState,
    CampaignStatus,
    PlatformDelivery,
    ReportedDailyTotal,
)
from ads.platforms.outbox import deliveries_push
from ads.platforms.sync import platforms_sync
from ads.services.campaigns import campaigns_set_enabled
from devtools.fakes.google_ads import Failure, FakeGoogleAdsServer
from devtools.fakes.meta import FakeMetaServer
from tests.platforms.conftest import linked_campaigns, platform_id

AT = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
TODAY, YESTERDAY = date(2026, 6, 10), date(2026, 6, 9)


def status(campaign: Campaign) -> str:
    campaign.refresh_from_db()
    return campaign.status


def test_spend_is_restated_from_google_ads_and_a_lower_total_resumes_the_campaign(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    campaign, quiet = linked_campaigns(google_account, 2)
    fake = google.fake
    fake.statuses.update({platform_id(campaign): "ENABLED", platform_id(quiet): "ENABLED"})
    fake.spend[(platform_id(campaign), YESTERDAY)] = 10_000_000
    fake.spend[(platform_id(campaign), TODAY)] = 120_500_000  # over the brand's 100 a day
    report = platforms_sync(at=AT)
    assert (report.accounts, report.campaigns, report.totals, report.applied) == (1, 2, 4, 2)
    totals = dict(ReportedDailyTotal.objects.filter(campaign=campaign).values_list("day", "total"))
    assert totals == {YESTERDAY: Decimal("10"), TODAY: Decimal("120.5")}
    assert ReportedDailyTotal.objects.get(campaign=quiet, day=TODAY).total == 0
    assert ReportedDailyTotal.objects.get(campaign=campaign, day=TODAY).source == "google_ads"
    assert status(campaign) == CampaignStatus.PAUSED and status(quiet) == CampaignStatus.PAUSED
    deliveries_push(at=AT)
    assert fake.statuses[platform_id(campaign)] == "PAUSED"

    # The platform restates the day lower (invalid clicks refunded): both run again.
    fake.spend[(platform_id(campaign), TODAY)] = 40_000_000
    later = AT + timedelta(minutes=15)
    assert platforms_sync(at=later).applied == 1
    assert status(campaign) == CampaignStatus.RUNNING
    assert deliveries_push(at=later).delivered == 2
    assert fake.statuses[platform_id(campaign)] == "ENABLED"


def test_a_campaign_running_on_the_platform_while_paused_here_is_paused_again(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    campaign = linked_campaigns(google_account, 1)[0]
    google.fake.statuses[platform_id(campaign)] = "ENABLED"
    campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=False, at=AT, actor="staff")
    deliveries_push(at=AT)
    google.fake.statuses[platform_id(campaign)] = "ENABLED"  # someone switched it back on
    report = platforms_sync(at=AT + timedelta(minutes=1))
    assert report.drift_repaired == 1
    assert deliveries_push(at=AT + timedelta(minutes=1)).delivered == 1
    assert google.fake.statuses[platform_id(campaign)] == "PAUSED"
    state = CampaignPlatformState.objects.get(campaign=campaign)
    assert state.drift_repairs == 1 and state.last_drift_at == AT + timedelta(minutes=1)
    # Repaired: the next pass finds nothing to do.
    assert platforms_sync(at=AT + timedelta(minutes=2)).drift_repaired == 0


def test_a_campaign_paused_on_the_platform_by_someone_else_is_flagged_not_resumed(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    campaign = linked_campaigns(google_account, 1)[0]
    google.fake.statuses[platform_id(campaign)] = "PAUSED"
    report = platforms_sync(at=AT)
    assert report.paused_elsewhere == 1 and report.drift_repaired == 0
    state = CampaignPlatformState.objects.get(campaign=campaign)
    assert state.paused_elsewhere and state.platform_status == "paused"
    assert not PlatformDelivery.objects.exists()
    assert status(campaign) == CampaignStatus.RUNNING
    assert google.fake.mutate_calls == 0


def test_a_campaign_whose_push_is_still_queued_is_not_drift(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    campaign = linked_campaigns(google_account, 1)[0]
    google.fake.statuses[platform_id(campaign)] = "ENABLED"
    campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=False, at=AT, actor="staff")
    report = platforms_sync(at=AT)
    assert report.drift_repaired == 0 and PlatformDelivery.objects.count() == 1


def test_meta_spend_comes_from_daily_campaign_insights(
    meta_account: AdAccount, meta: FakeMetaServer
) -> None:
    campaigns = linked_campaigns(meta_account, 3)
    meta.fake.statuses.update({platform_id(c): "ACTIVE" for c in campaigns})
    meta.fake.spend[(platform_id(campaigns[0]), TODAY)] = "12.34"
    meta.fake.spend[(platform_id(campaigns[1]), YESTERDAY)] = "5.00"
    report = platforms_sync(at=AT)
    assert (report.totals, report.applied, report.errors) == (6, 2, [])
    assert ReportedDailyTotal.objects.get(campaign=campaigns[0], day=TODAY).total == Decimal(
        "12.34"
    )
    assert ReportedDailyTotal.objects.get(campaign=campaigns[0], day=TODAY).source == "meta"


def test_a_failing_read_is_reported_and_changes_nothing(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    linked_campaigns(google_account, 1)
    google.fake.script = [Failure("auth")]
    report = platforms_sync(at=AT)
    assert "UNAUTHENTICATED" in report.errors[0] and "revoked" not in report.errors[0]
    assert not ReportedDailyTotal.objects.exists()
    google_account.refresh_from_db()
    assert google_account.health == "failing"


def test_the_command_dry_run_reads_but_writes_nothing(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    campaign = linked_campaigns(google_account, 1)[0]
    google.fake.statuses[platform_id(campaign)] = "ENABLED"
    google.fake.spend[(platform_id(campaign), TODAY)] = 1_000_000
    out = StringIO()
    call_command("sync_platforms", "--dry-run", f"--account={google_account.pk}", stdout=out)
    assert "1 campaign(s)" in out.getvalue() and "dry run" in out.getvalue()
    assert not ReportedDailyTotal.objects.exists()
    assert google.fake.search_calls == 2


def test_the_task_syncs_like_the_command(
    google_account: AdAccount, google: FakeGoogleAdsServer
) -> None:
    from ads.tasks import sync_platforms

    campaign = linked_campaigns(google_account, 1)[0]
    google.fake.statuses[platform_id(campaign)] = "ENABLED"
    result = sync_platforms.apply().get()
    assert (result["accounts"], result["campaigns"], result["errors"]) == (1, 1, [])
