"""Google Ads, through the official ``google-ads`` library (gRPC).

Pushes: one ``CampaignService.MutateCampaigns`` call per batch, status only (update mask
``status``), with ``partial_failure`` so one bad campaign does not sink the others.
Reads: GAQL through ``GoogleAdsService.SearchStream``, statuses from ``campaign`` and spend
from ``metrics.cost_micros`` by ``segments.date`` (the account's own time zone).

Credentials JSON (see README): ``developer_token``, ``client_id``, ``client_secret``,
``refresh_token`` and optional ``login_customer_id`` (a manager account). Two endpoint
overrides, honoured only for hosts in OUTBOUND_ALLOWED_NETWORKS: ``endpoint`` (TLS) and
``insecure_endpoint`` (plain gRPC, the local fake of the tests and ``make run``).

The channel goes through the egress policy: the endpoint's name is resolved and checked once
(``ads.core.egress``) and gRPC connects to those addresses, naming the host only in TLS and
``:authority``; the OAuth token refresh goes through ``ads.core.http``'s session. What Google
answered reaches staff as the gRPC status and the error kinds (a fixed vocabulary of the
API's own enums), never its text; per-campaign refusals of a mutate keep their message, cut to
printable text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from importlib import import_module
from typing import Any

import grpc
from google.ads.googleads.client import GoogleAdsClient
from google.ads.googleads.errors import GoogleAdsException
from google.ads.googleads.interceptors import ExceptionInterceptor, MetadataInterceptor
from google.api_core.exceptions import GoogleAPICallError
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.grpc import AuthMetadataPlugin
from google.auth.transport.requests import Request as AuthRequest
from google.oauth2.credentials import Credentials as OAuth2Credentials

from ads.core import egress, http
from ads.core.currency import minor_units
from ads.core.money import from_micros
from ads.models import CampaignStatus, PlatformStatus
from ads.platforms.base import (
    BudgetPush,
    DailySpend,
    PlatformError,
    PushFailure,
    StatusPush,
    minor_units_floor,
)

logger = logging.getLogger(__name__)

API_VERSION = "v26"
DEFAULT_ENDPOINT = "googleads.googleapis.com:443"
TOKEN_URI = "https://oauth2.googleapis.com/token"
FAILURE_KEY = f"google.ads.googleads.{API_VERSION}.errors.googleadsfailure-bin"
_errors: Any = import_module(f"google.ads.googleads.{API_VERSION}.errors.types.errors")

_RETRYABLE_CODES = {
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.ABORTED,
}
_AUTH_CODES = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}
_AUTH_ERRORS = ("authentication_error", "authorization_error")
_RETRYABLE_ERRORS = ("quota_error", "internal_error")
TIMEOUT_SECONDS = 60.0

STATUS_QUERY = "SELECT campaign.id, campaign.status FROM campaign"
BUDGET_QUERY = (
    "SELECT campaign.id, campaign.campaign_budget, campaign_budget.reference_count "
    "FROM campaign WHERE campaign.id IN ({ids})"
)
SPEND_QUERY = (
    "SELECT campaign.id, campaign.status, metrics.cost_micros, segments.date FROM campaign "
    "WHERE segments.date BETWEEN '{first}' AND '{last}'"
)


def _failure_from(call: Any) -> Any | None:
    """The GoogleAdsFailure in a failed call's trailing metadata, if any."""
    try:
        metadata = call.trailing_metadata() or ()
    except Exception:  # a call that never reached the server has none
        return None
    for key, value in metadata:
        if key == FAILURE_KEY:
            return _errors.GoogleAdsFailure.deserialize(value)
    return None


_CALL_ERRORS = (GoogleAdsException, GoogleAPICallError, grpc.RpcError)


def _classify(exc: Exception) -> PlatformError:
    """A failed call as a PlatformError. The library raises GoogleAdsException when the API
    explained itself, and (through google-api-core) GoogleAPICallError for INTERNAL and
    RESOURCE_EXHAUSTED, which it leaves undecoded; both carry the gRPC call."""
    call: Any = exc
    if isinstance(exc, GoogleAdsException):
        call, failure = exc.error, exc.failure
    else:
        if isinstance(exc, GoogleAPICallError):
            call = next((e for e in exc.errors if isinstance(e, grpc.Call)), exc.response)
        failure = _failure_from(call)
    code = call.code() if isinstance(call, grpc.Call) else None
    if code is None and isinstance(exc, GoogleAPICallError):
        code = exc.grpc_status_code
    errors = list(failure.errors) if failure is not None else []
    kinds = {_errors.ErrorCode.pb(error.error_code).WhichOneof("error_code") for error in errors}
    logger.debug(
        "Google Ads answered %s: %s",
        code,
        "; ".join(error.message for error in errors)
        or (call.details() if isinstance(call, grpc.Call) else str(exc)),
    )
    message = f"Google Ads call failed with {code.name if code else 'an error'}"
    if kinds - {None}:
        message += f" ({', '.join(sorted(k for k in kinds if k))})"
    retry_after = None
    for error in errors:
        # proto-plus gives the Duration as a timedelta
        delay = error.details.quota_error_details.retry_delay
        if delay:
            retry_after = delay.total_seconds()
    if code in _AUTH_CODES or kinds & set(_AUTH_ERRORS):
        return PlatformError(message, retryable=False, auth=True)
    if code in _RETRYABLE_CODES or kinds & set(_RETRYABLE_ERRORS):
        return PlatformError(message, retryable=True, retry_after=retry_after)
    return PlatformError(message, retryable=False)


def _failed_operations(response: Any) -> dict[int, str]:
    """The operations a partial-failure answer refused, by index, with Google's words."""
    status = response.partial_failure_error
    if not status.code:
        return {}
    failures: dict[int, list[str]] = {}
    for detail in status.details:
        failure = _errors.GoogleAdsFailure.deserialize(detail.value)
        for error in failure.errors:
            elements = error.location.field_path_elements
            if elements and elements[0].field_name == "operations":
                failures.setdefault(elements[0].index, []).append(error.message)
    return {
        index: http.printable("; ".join(messages)) for index, messages in sorted(failures.items())
    }


class GoogleAdsAdapter:
    # The API takes up to 10,000 operations per mutate request; 2,000 keeps each request
    # well inside its size and time limits.
    max_batch = 2_000
    reads = True
    # Google Ads Help, "About overdelivery and your average daily budget" (answer 1704443):
    # a campaign may spend up to 2 times its average daily budget in a day (never more than
    # 30.4 of them in a month).
    overdelivery = Decimal(2)

    def __init__(self, *, customer_id: str, credentials: Mapping[str, Any]) -> None:
        self.customer_id = customer_id.replace("-", "")
        developer_token = credentials.get("developer_token")
        if not developer_token:
            raise PlatformError(
                "Google Ads credentials need a developer_token", retryable=False, auth=True
            )
        insecure, endpoint = credentials.get("insecure_endpoint"), credentials.get("endpoint")
        if insecure and endpoint:
            raise PlatformError(
                "Google Ads credentials name both endpoint and insecure_endpoint; keep one",
                retryable=False,
                auth=True,
            )
        self.insecure_endpoint = str(insecure) if insecure else None
        self.override = bool(insecure or endpoint)
        self.endpoint = str(insecure or endpoint or DEFAULT_ENDPOINT)
        if self.override:
            try:
                egress.check_endpoint(self.endpoint, tls=not insecure, only_allowed=True)
            except egress.EgressError as exc:
                raise PlatformError(
                    f"{'insecure_endpoint' if insecure else 'endpoint'} refused: {exc.reason}",
                    retryable=False,
                    auth=True,
                ) from None
        if self.insecure_endpoint:
            oauth: Any = AnonymousCredentials()  # type: ignore[no-untyped-call]
        else:
            missing = [
                key
                for key in ("client_id", "client_secret", "refresh_token")
                if not credentials.get(key)
            ]
            if missing:
                raise PlatformError(
                    f"Google Ads credentials lack {', '.join(missing)}", retryable=False, auth=True
                )
            oauth = OAuth2Credentials(  # type: ignore[no-untyped-call]
                token=None,
                refresh_token=credentials["refresh_token"],
                client_id=credentials["client_id"],
                client_secret=credentials["client_secret"],
                token_uri=TOKEN_URI,
            )
        self.oauth = oauth
        login = credentials.get("login_customer_id")
        # The client builds requests and enums only: its channels are ours (``_channel``).
        self.client = GoogleAdsClient(
            credentials=oauth,
            developer_token=developer_token,
            login_customer_id=str(login).replace("-", "") if login else None,
            version=API_VERSION,
            use_proto_plus=False,  # plain protobuf: thousands of operations build faster
        )
        self._services: dict[str, Any] = {}

    def _service(self, name: str) -> Any:
        if name not in self._services:
            try:
                self._services[name] = self._service_client(name)
            except egress.EgressError as exc:
                failure = http.exception_failure(exc)
                raise PlatformError(
                    f"Google Ads {failure.message}", retryable=failure.retryable, auth=failure.auth
                ) from None
        return self._services[name]

    def _channel(self) -> grpc.Channel:
        """A channel to the addresses the egress policy checked for the endpoint, with the
        interceptors ``GoogleAdsClient.get_service`` adds (headers, error decoding)."""
        tls = self.insecure_endpoint is None
        destination = egress.check_endpoint(self.endpoint, tls=tls, only_allowed=self.override)
        family = destination.addresses[0].version
        hosts = [a for a in destination.addresses if a.version == family]
        target = (
            "ipv4:" + ",".join(f"{a}:{destination.port}" for a in hosts)
            if family == 4
            else "ipv6:" + ",".join(f"[{a}]:{destination.port}" for a in hosts)
        )
        options: list[tuple[str, Any]] = [
            ("grpc.max_send_message_length", -1),
            ("grpc.max_receive_message_length", -1),
            ("grpc.enable_http_proxy", 0),
            ("grpc.default_authority", destination.authority),
        ]
        if tls:
            options.append(("grpc.ssl_target_name_override", destination.host))
            # The OAuth refresh goes through the egress policy too.
            tokens = grpc.metadata_call_credentials(
                AuthMetadataPlugin(  # type: ignore[no-untyped-call]
                    self.oauth, AuthRequest(session=http.session())
                )
            )
            channel = grpc.secure_channel(
                target,
                grpc.composite_channel_credentials(grpc.ssl_channel_credentials(), tokens),
                options=options,
            )
        else:
            channel = grpc.insecure_channel(target, options=options)
        return grpc.intercept_channel(
            channel,
            MetadataInterceptor(self.client.developer_token, self.client.login_customer_id),
            ExceptionInterceptor(API_VERSION, use_proto_plus=False),
        )

    def _service_client(self, name: str) -> Any:
        """The library's own service client on our channel."""
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
        module = import_module(f"google.ads.googleads.{API_VERSION}.services.services.{snake}")
        client_class = getattr(module, f"{name}Client")
        transport = client_class.get_transport_class("grpc")(channel=self._channel())
        return client_class(transport=transport)

    def _resource(self, campaign_id: str) -> str:
        return f"customers/{self.customer_id}/campaigns/{campaign_id}"

    def push_statuses(self, pushes: Sequence[StatusPush]) -> list[PushFailure]:
        enum = self.client.enums.CampaignStatusEnum
        operations = []
        for push in pushes:
            operation = self.client.get_type("CampaignOperation")
            operation.update.resource_name = self._resource(push.platform_campaign_id)
            operation.update.status = (
                enum.ENABLED if push.status == CampaignStatus.RUNNING else enum.PAUSED
            )
            operation.update_mask.paths.append("status")
            operations.append(operation)
        request = self.client.get_type("MutateCampaignsRequest")
        request.customer_id = self.customer_id
        request.operations.extend(operations)
        request.partial_failure = True
        try:
            response = self._service("CampaignService").mutate_campaigns(
                request=request, timeout=TIMEOUT_SECONDS
            )
        except _CALL_ERRORS as exc:
            raise _classify(exc) from None
        return self._partial_failures(response, pushes)

    def _partial_failures(self, response: Any, pushes: Sequence[StatusPush]) -> list[PushFailure]:
        return [
            PushFailure(pushes[index].platform_campaign_id, message)
            for index, message in _failed_operations(response).items()
            if index < len(pushes)
        ]

    def push_budgets(self, pushes: Sequence[BudgetPush]) -> list[PushFailure]:
        """``CampaignBudgetService.MutateCampaignBudgets`` on each campaign's budget,
        ``amount_micros``. A budget several campaigns share (a shared Google budget) is
        written once, with the sum of theirs, and only when every campaign using it is in
        the call (the budget's ``reference_count``): written from some of them, it would
        drop the others' share, so such a group is refused, each campaign saying why. A
        campaign pushed twice counts once (the last); one without a budget is refused."""
        latest = {push.platform_campaign_id: push for push in pushes}
        ids = sorted(i for i in latest if i.isdigit())
        found: dict[str, tuple[str, int]] = {}
        if ids:
            for row in self._search(BUDGET_QUERY.format(ids=", ".join(ids))):
                found[str(row.campaign.id)] = (
                    row.campaign.campaign_budget,
                    int(row.campaign_budget.reference_count),
                )
        failures = [
            PushFailure(campaign_id, "Google Ads has no budget for this campaign")
            for campaign_id in latest
            if campaign_id not in found
        ]
        groups: dict[str, list[BudgetPush]] = {}
        for campaign_id, push in latest.items():
            if campaign_id in found:
                groups.setdefault(found[campaign_id][0], []).append(push)
        for resource, members in list(groups.items()):
            users = found[members[0].platform_campaign_id][1]
            if users > len(members):
                failures += [
                    PushFailure(
                        push.platform_campaign_id,
                        f"its budget is shared by {users} campaigns; push all of them together",
                    )
                    for push in members
                ]
                del groups[resource]
        if not groups:
            return failures
        request = self.client.get_type("MutateCampaignBudgetsRequest")
        request.customer_id = self.customer_id
        request.partial_failure = True
        resources = sorted(groups)
        for resource in resources:
            operation = self.client.get_type("CampaignBudgetOperation")
            operation.update.resource_name = resource
            # Micros of whole minor units, rounded down (the API takes no fraction of a cent).
            members = groups[resource]
            minor = sum(minor_units_floor(p.daily_budget, p.currency) for p in members)
            operation.update.amount_micros = minor * 10 ** (6 - minor_units(members[0].currency))
            operation.update_mask.paths.append("amount_micros")
            request.operations.append(operation)
        try:
            response = self._service("CampaignBudgetService").mutate_campaign_budgets(
                request=request, timeout=TIMEOUT_SECONDS
            )
        except _CALL_ERRORS as exc:
            raise _classify(exc) from None
        for index, message in _failed_operations(response).items():
            if index < len(resources):
                failures += [
                    PushFailure(p.platform_campaign_id, message) for p in groups[resources[index]]
                ]
        return failures

    def _search(self, query: str) -> Iterable[Any]:
        service = self._service("GoogleAdsService")
        try:
            for batch in service.search_stream(
                customer_id=self.customer_id, query=query, timeout=TIMEOUT_SECONDS
            ):
                yield from batch.results
        except _CALL_ERRORS as exc:
            raise _classify(exc) from None

    def read_statuses(self, platform_campaign_ids: Sequence[str]) -> dict[str, PlatformStatus]:
        enum = self.client.enums.CampaignStatusEnum
        wanted = set(platform_campaign_ids)
        statuses: dict[str, PlatformStatus] = {}
        for row in self._search(STATUS_QUERY):
            campaign_id = str(row.campaign.id)
            if campaign_id in wanted:
                statuses[campaign_id] = (
                    PlatformStatus.RUNNING
                    if row.campaign.status == enum.ENABLED
                    else (
                        PlatformStatus.PAUSED
                        if row.campaign.status == enum.PAUSED
                        else PlatformStatus.REMOVED
                    )
                )
        return statuses

    def read_daily_spend(
        self, platform_campaign_ids: Sequence[str], days: Sequence[date]
    ) -> list[DailySpend]:
        wanted = set(platform_campaign_ids)
        query = SPEND_QUERY.format(first=min(days).isoformat(), last=max(days).isoformat())
        return [
            DailySpend(
                platform_campaign_id=str(row.campaign.id),
                day=date.fromisoformat(row.segments.date),
                amount=from_micros(row.metrics.cost_micros),
            )
            for row in self._search(query)
            if str(row.campaign.id) in wanted
        ]
