"""Which adapter serves an ad account, with its credentials loaded (refused unless the
credentials variable is bound to the account's brand: ``ads.core.credentials``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ads.core.credentials import CredentialsError, credentials_read
from ads.models import AdAccount, Platform
from ads.platforms.base import Adapter, PlatformError


def account_credentials(account: AdAccount, environ: Mapping[str, str] = os.environ) -> Any:
    """The account's secrets (``ads.core.credentials``): refused unless the variable the
    account names is bound to the account's brand. Never stored in the database."""
    try:
        return credentials_read(
            account.credentials_env, brand_name=account.brand.name, environ=environ
        )
    except CredentialsError as exc:
        raise PlatformError(exc.reason, retryable=False, auth=True) from None


def adapter_for(account: AdAccount) -> Adapter:
    """The adapter of the account's platform, with its credentials loaded."""
    credentials = account_credentials(account)
    # Heavy imports kept off start-up: each platform's client library (google-ads takes
    # seconds to import) is loaded only when an account uses it.
    if account.platform == Platform.WEBHOOK:
        from ads.platforms.webhook import WebhookAdapter

        return WebhookAdapter(url=account.account_id, credentials=credentials)
    if account.platform == Platform.META:
        from ads.platforms.meta import MetaAdapter

        return MetaAdapter(account_id=account.account_id, credentials=credentials)
    if account.platform == Platform.GOOGLE_ADS:
        from ads.platforms.google_ads import GoogleAdsAdapter

        return GoogleAdsAdapter(customer_id=account.account_id, credentials=credentials)
    raise PlatformError(f"unknown platform {account.platform!r}", retryable=False, auth=True)
