"""Linking campaigns to ad accounts."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ads.models import AdAccount, Campaign, DeliveryState, PlatformDelivery
from ads.services.locks import brands_lock
from ads.services.platform_queue import enqueue_locked


def campaign_platform_link(
    *, campaign_id: int, account: AdAccount | None, platform_campaign_id: str | None, at: datetime
) -> bool:
    """Link a campaign to an account and the platform's id for it (None, None: unlink).

    A newly linked campaign gets its current status queued for the platform, so both agree
    from the start. Writes only the two link columns, never the engine's. Safe to run twice
    (returns whether anything changed).
    """
    platform_campaign_id = (platform_campaign_id or "").strip() or None
    if (account is None) != (platform_campaign_id is None):
        raise ValidationError("Give both an ad account and the platform's campaign id, or neither.")
    with transaction.atomic():
        campaign = Campaign.objects.get(pk=campaign_id)
        brands_lock([campaign.brand_id])
        if account is not None and account.brand_id != campaign.brand_id:
            raise ValidationError({"ad_account": "The ad account belongs to another brand."})
        account_id = account.pk if account is not None else None
        if (campaign.ad_account_id, campaign.platform_campaign_id) == (
            account_id,
            platform_campaign_id,
        ):
            return False
        try:
            with transaction.atomic():
                Campaign.objects.filter(pk=campaign_id).update(
                    ad_account=account_id, platform_campaign_id=platform_campaign_id, updated_at=at
                )
        except IntegrityError:
            raise ValidationError(
                {"platform_campaign_id": "Another campaign of this account has that id."}
            ) from None
        # Pushes still waiting for the old account would now reach the wrong place.
        PlatformDelivery.objects.filter(
            campaign_id=campaign_id, state=DeliveryState.PENDING
        ).update(state=DeliveryState.SUPERSEDED, finished_at=at)
        if account is not None:
            enqueue_locked([(campaign_id, campaign.status)], at=at)
    return True
