"""Meta (Facebook and Instagram ads), through the official ``facebook-business`` SDK.

Pushes: the Graph API's batch requests, up to 50 campaign status updates per HTTP call
(``POST /<campaign id>`` with ``status=PAUSED|ACTIVE`` each). Reads: the account's campaigns
(``status``) and campaign-level insights with ``time_increment=1``, field ``spend`` (dates in
the ad account's own time zone).

Credentials JSON (see README): ``access_token`` (a system user's token), optional
``app_secret`` (then every call carries an appsecret_proof) and ``app_id``. ``graph_url``
points the SDK at another server (the local fake of the tests and ``make run``); it is
honoured only for hosts in OUTBOUND_ALLOWED_NETWORKS.

Every call goes through the egress policy (``ads.core.http``'s session replaces the SDK's);
what Meta answered reaches staff as the HTTP status, Meta's numeric error code and a fixed
message, never its text (that goes to the DEBUG log). Per-campaign refusals inside a batch
keep Meta's message, cut to printable text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

import requests
from facebook_business.adobjects.adaccount import AdAccount as MetaAdAccount
from facebook_business.adobjects.campaign import Campaign as MetaCampaign
from facebook_business.api import FacebookAdsApi, FacebookResponse
from facebook_business.exceptions import FacebookError, FacebookRequestError
from facebook_business.session import FacebookSession

from ads.core import egress, http
from ads.models import CampaignStatus, PlatformStatus
from ads.platforms.base import (
    BudgetPush,
    DailySpend,
    PlatformError,
    PushFailure,
    StatusPush,
)

logger = logging.getLogger(__name__)

API_VERSION = "v26.0"
TIMEOUT_SECONDS = 30
PAGE_SIZE = 500
# Graph API error codes: throttling (app, user, account, ads-management limits) and
# temporary failures are retried; token and permission problems fail the account.
_THROTTLED = {1, 2, 4, 17, 32, 341, 613} | set(range(80000, 80015))
_AUTH = {10, 102, 190} | set(range(200, 300))


def _retry_hint(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds until the platform lets us in again: ``Retry-After``, or the minutes in
    ``X-Business-Use-Case-Usage``'s ``estimated_time_to_regain_access``."""
    if not headers:
        return None
    lowered = {str(key).lower(): value for key, value in headers.items()}
    try:
        if "retry-after" in lowered:
            return max(0.0, float(lowered["retry-after"]))
        usage = json.loads(lowered.get("x-business-use-case-usage", "{}"))
        minutes = [
            entry.get("estimated_time_to_regain_access", 0)
            for entries in usage.values()
            for entry in entries
        ]
        return max(minutes) * 60.0 if minutes and max(minutes) else None
    except (ValueError, TypeError, AttributeError):
        return None


def _code(error: FacebookRequestError) -> int | None:
    try:
        return int(error.api_error_code())
    except (TypeError, ValueError):
        return None


def _classify(error: FacebookRequestError) -> PlatformError:
    """A refused call as the HTTP status, Meta's error code and a fixed message."""
    code = _code(error)
    status = int(error.http_status() or 0)
    logger.debug("Meta answered %s (code %s): %s", status, code, error.api_error_message())
    fixed = http.status_failure(status) if status else http.invalid_answer(status)
    text = f"Meta {fixed.message}" + (f" (error code {code})" if code is not None else "")
    if code in _AUTH or status in (401, 403):
        return PlatformError(text, retryable=False, auth=True)
    if code in _THROTTLED or status == 429 or status >= 500 or error.api_transient_error():
        return PlatformError(text, retryable=True, retry_after=_retry_hint(error.http_headers()))
    return PlatformError(text, retryable=False)


def _unreachable(exc: Exception) -> PlatformError:
    failure = http.exception_failure(exc)
    return PlatformError(f"Meta {failure.message}", retryable=failure.retryable, auth=failure.auth)


_CALL_FAILED = (requests.RequestException, FacebookError, egress.EgressError)

# Marketing API, "Currency codes" (developers.facebook.com/docs/marketing-api/currencies):
# budgets are amounts times the currency's offset, 100 for every currency but these, whose
# offset is 1. Not ISO 4217's minor units: HUF, TWD, COP, CRC and IDR have two decimals
# there and offset 1 here; BHD, JOD and KWD three there and offset 100 here.
META_OFFSET_ONE = frozenset("CLP COP CRC HUF IDR ISK JPY KRW PYG TWD VND".split())


def meta_budget_units(amount: Decimal, currency: str) -> int:
    """A budget as Meta's ``daily_budget`` takes it: times the currency's offset, rounded
    down (never more than decided)."""
    offset = 1 if currency.upper() in META_OFFSET_ONE else 100
    return int((amount * offset).to_integral_value(rounding=ROUND_FLOOR))


class MetaAdapter:
    max_batch = 50  # the Graph API's limit of requests in one batch
    reads = True
    # Meta Business Help Center, "About daily budgets": on a given day a campaign may spend
    # up to 75 % more than its daily budget (never more than 7 daily budgets in a calendar
    # week).
    overdelivery = Decimal("1.75")

    def __init__(self, *, account_id: str, credentials: Mapping[str, Any]) -> None:
        token = credentials.get("access_token")
        if not token:
            raise PlatformError("Meta credentials need an access_token", retryable=False, auth=True)
        graph_url = credentials.get("graph_url")
        if graph_url:
            try:
                egress.check_url(str(graph_url), only_allowed=True)
            except egress.EgressError as exc:
                raise PlatformError(
                    f"graph_url refused: {exc.reason}", retryable=False, auth=True
                ) from None
        self.account_id = account_id if account_id.startswith("act_") else f"act_{account_id}"
        session = FacebookSession(
            app_id=credentials.get("app_id"),
            app_secret=credentials.get("app_secret"),
            access_token=token,
            timeout=TIMEOUT_SECONDS,
        )
        if graph_url:
            session.GRAPH = str(graph_url).rstrip("/")
        # The SDK's own session, replaced by one that goes through the egress policy (with the
        # SDK's CA bundle and its appsecret_proof parameter kept).
        guarded = http.session()
        guarded.verify = session.requests.verify
        guarded.params.update(session.requests.params)
        session.requests = guarded
        self.api = FacebookAdsApi(session, api_version=API_VERSION)

    def push_statuses(self, pushes: Sequence[StatusPush]) -> list[PushFailure]:
        return self._updates(
            [
                (
                    push.platform_campaign_id,
                    {"status": "ACTIVE" if push.status == CampaignStatus.RUNNING else "PAUSED"},
                )
                for push in pushes
            ]
        )

    def push_budgets(self, pushes: Sequence[BudgetPush]) -> list[PushFailure]:
        # The campaign's daily_budget in the account currency times Meta's offset for it
        # (``meta_budget_units``), rounded down. Meta refuses one below its minimum for the
        # account, and that refusal is kept for the campaign.
        return self._updates(
            [
                (
                    push.platform_campaign_id,
                    {"daily_budget": meta_budget_units(push.daily_budget, push.currency)},
                )
                for push in pushes
            ]
        )

    def _updates(self, updates: Sequence[tuple[str, dict[str, Any]]]) -> list[PushFailure]:
        """One batch of campaign updates; the campaigns Meta refused, with its words."""
        failures: list[PushFailure] = []
        batch = self.api.new_batch()
        for platform_campaign_id, params in updates:

            def failed(response: FacebookResponse, campaign_id: str = platform_campaign_id) -> None:
                error = response.error()
                classified = _classify(error)
                # A refusal of one campaign inside the batch: Meta's own words are kept.
                message = http.printable(error.api_error_message() or classified.message)
                failures.append(PushFailure(campaign_id, message, classified.retryable))

            MetaCampaign(platform_campaign_id, api=self.api).api_update(
                params=params, batch=batch, failure=failed
            )
        try:
            unanswered = batch.execute()
        except FacebookRequestError as exc:
            raise _classify(exc) from None
        except _CALL_FAILED as exc:
            raise _unreachable(exc) from None
        if unanswered is not None:
            # Calls the batch returned no answer for (Meta's own timeout): try them again.
            ids = {call["relative_url"].split("/")[-1].split("?")[0] for call in unanswered._batch}
            failures += [PushFailure(i, "no answer inside the batch", True) for i in sorted(ids)]
        return failures

    def _pages(self, edge: str, fields: list[str], params: dict[str, Any]) -> list[Any]:
        account = MetaAdAccount(self.account_id, api=self.api)
        try:
            cursor = getattr(account, edge)(fields=fields, params={"limit": PAGE_SIZE, **params})
            return [dict(item) for item in cursor]
        except FacebookRequestError as exc:
            raise _classify(exc) from None
        except _CALL_FAILED as exc:
            raise _unreachable(exc) from None

    def read_statuses(self, platform_campaign_ids: Sequence[str]) -> dict[str, PlatformStatus]:
        wanted = set(platform_campaign_ids)
        statuses: dict[str, PlatformStatus] = {}
        for item in self._pages("get_campaigns", ["id", "status"], {}):
            if str(item.get("id")) in wanted:
                status = item.get("status")
                statuses[str(item["id"])] = (
                    PlatformStatus.RUNNING
                    if status == "ACTIVE"
                    else PlatformStatus.PAUSED if status == "PAUSED" else PlatformStatus.REMOVED
                )
        return statuses

    def read_daily_spend(
        self, platform_campaign_ids: Sequence[str], days: Sequence[date]
    ) -> list[DailySpend]:
        wanted = set(platform_campaign_ids)
        rows = self._pages(
            "get_insights",
            ["campaign_id", "spend", "date_start"],
            {
                "level": "campaign",
                "time_increment": 1,
                "time_range": {"since": min(days).isoformat(), "until": max(days).isoformat()},
            },
        )
        spend = []
        for row in rows:
            if str(row.get("campaign_id")) not in wanted:
                continue
            try:
                amount = Decimal(str(row.get("spend", "0")))
            except InvalidOperation:
                raise PlatformError(
                    "Meta answered spend that is not a number", retryable=False
                ) from None
            spend.append(
                DailySpend(str(row["campaign_id"]), date.fromisoformat(row["date_start"]), amount)
            )
        return spend
