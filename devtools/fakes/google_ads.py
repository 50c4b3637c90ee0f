"""A local Google Ads API for the tests, the benchmark and the demo: a gRPC server on
127.0.0.1 that answers ``CampaignService.MutateCampaigns``,
``CampaignBudgetService.MutateCampaignBudgets`` and ``GoogleAdsService.Search``/
``SearchStream`` with the library's own message types, so the real client library talks to
it unchanged.

Nothing here is used in production. ``script`` makes the next calls fail the way the real
API does (quota with a retry delay, internal errors, authentication), carrying a
``GoogleAdsFailure`` in the trailing metadata as the API does.
"""

from __future__ import annotations

import logging
import re
import threading
from concurrent import futures
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import import_module
from typing import Any

import grpc

from ads.platforms.google_ads import API_VERSION, FAILURE_KEY

# One line per mutate call (counts only: the bench sends thousands a call), so the demo's
# pushes show in `make run`'s output as they arrive.
logger = logging.getLogger(__name__)

_SERVICES = f"google.ads.googleads.{API_VERSION}.services"
_campaign_service: Any = import_module(f"{_SERVICES}.types.campaign_service")
_budget_service: Any = import_module(f"{_SERVICES}.types.campaign_budget_service")
_ads_service: Any = import_module(f"{_SERVICES}.types.google_ads_service")
_errors: Any = import_module(f"google.ads.googleads.{API_VERSION}.errors.types.errors")
_enums: Any = import_module(
    f"google.ads.googleads.{API_VERSION}.enums.types.campaign_status"
).CampaignStatusEnum.CampaignStatus
_quota: Any = import_module(f"google.ads.googleads.{API_VERSION}.errors.types.quota_error")
_internal: Any = import_module(f"google.ads.googleads.{API_VERSION}.errors.types.internal_error")
_auth: Any = import_module(f"google.ads.googleads.{API_VERSION}.errors.types.authentication_error")
_request_error: Any = import_module(
    f"google.ads.googleads.{API_VERSION}.errors.types.request_error"
)

_BETWEEN = re.compile(r"segments\.date BETWEEN '(\d{4}-\d{2}-\d{2})' AND '(\d{4}-\d{2}-\d{2})'")
_RESOURCE = re.compile(r"^customers/(\d+)/campaigns/(\d+)$")
_BUDGET = re.compile(r"^customers/(\d+)/campaignBudgets/(\d+)$")
# The smallest budget amount the fake takes, and the unit amounts come in (a cent).
MIN_BUDGET_MICROS, BUDGET_UNIT_MICROS = 1_000_000, 10_000
# Rows per SearchStream message, as the API batches them.
STREAM_BATCH = 10_000


def _serialize(message: Any) -> bytes:
    return bytes(message.SerializeToString())


def _operation_error(index: int, message: str) -> Any:
    """The error of one operation of a mutate, located as the API locates it."""
    error = _errors.GoogleAdsError(message=message)
    error.error_code.request_error = _request_error.RequestErrorEnum.RequestError.RESOURCE_NOT_FOUND
    error.location.field_path_elements.append(
        _errors.ErrorLocation.FieldPathElement(field_name="operations", index=index)
    )
    return error


def _with_partial_failure(response: Any, errors: list[Any]) -> Any:
    """A mutate's answer carrying its refused operations, as ``partial_failure`` asks."""
    if errors:
        detail = response.partial_failure_error.details.add()
        detail.type_url = (
            f"type.googleapis.com/google.ads.googleads.{API_VERSION}.errors.GoogleAdsFailure"
        )
        detail.value = _errors.GoogleAdsFailure.serialize(_errors.GoogleAdsFailure(errors=errors))
        response.partial_failure_error.code = 3  # INVALID_ARGUMENT
        response.partial_failure_error.message = f"{len(errors)} operation(s) failed"
    return response


@dataclass
class Failure:
    """A scripted failure of the next call: ``quota`` (with ``retry_seconds``), ``internal``
    or ``auth``."""

    kind: str
    retry_seconds: int = 0


@dataclass
class FakeGoogleAds:
    customer_id: str = "1234567890"
    statuses: dict[str, str] = field(default_factory=dict)  # campaign id -> ENABLED/PAUSED
    spend: dict[tuple[str, date], int] = field(default_factory=dict)  # micros
    script: list[Failure] = field(default_factory=list)
    # Campaign ids that do not exist (a mutate of one fails inside the batch).
    unknown: set[str] = field(default_factory=set)
    # Campaign id -> its budget's resource name (several campaigns: a shared budget), and
    # each budget's amount in micros.
    campaign_budgets: dict[str, str] = field(default_factory=dict)
    budgets: dict[str, int] = field(default_factory=dict)
    budget_calls: int = 0
    mutate_calls: int = 0
    mutated: int = 0
    search_calls: int = 0
    developer_tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the two services ------------------------------------------------------------------

    def _fail_if_scripted(self, context: grpc.ServicerContext) -> None:
        with self.lock:
            failure = self.script.pop(0) if self.script else None
        if failure is None:
            return
        error = _errors.GoogleAdsError()
        if failure.kind == "quota":
            error.error_code.quota_error = _quota.QuotaErrorEnum.QuotaError.RESOURCE_EXHAUSTED
            error.message = "Too many requests. Retry in a while."
            error.details.quota_error_details.retry_delay = timedelta(seconds=failure.retry_seconds)
            code = grpc.StatusCode.RESOURCE_EXHAUSTED
        elif failure.kind == "internal":
            error.error_code.internal_error = (
                _internal.InternalErrorEnum.InternalError.INTERNAL_ERROR
            )
            error.message = "An internal error has occurred."
            code = grpc.StatusCode.INTERNAL
        else:
            error.error_code.authentication_error = (
                _auth.AuthenticationErrorEnum.AuthenticationError.OAUTH_TOKEN_REVOKED
            )
            error.message = "The OAuth token has been revoked."
            code = grpc.StatusCode.UNAUTHENTICATED
        failure_message = _errors.GoogleAdsFailure(errors=[error])
        context.set_trailing_metadata(
            ((FAILURE_KEY, _errors.GoogleAdsFailure.serialize(failure_message)),)
        )
        context.abort(code, error.message)

    def mutate_campaigns(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._fail_if_scripted(context)
        metadata = dict(context.invocation_metadata())
        response = _campaign_service.MutateCampaignsResponse()
        errors = []
        results = []
        with self.lock:
            self.mutate_calls += 1
            self.developer_tokens.add(str(metadata.get("developer-token")))
            for index, operation in enumerate(request.operations):
                match = _RESOURCE.match(operation.update.resource_name)
                campaign_id = match.group(2) if match else ""
                if not match or match.group(1) != self.customer_id or campaign_id in self.unknown:
                    errors.append(_operation_error(index, "Resource was not found."))
                    results.append(_campaign_service.MutateCampaignResult())
                    continue
                self.statuses[campaign_id] = _enums(operation.update.status).name
                self.mutated += 1
                results.append(
                    _campaign_service.MutateCampaignResult(
                        resource_name=operation.update.resource_name
                    )
                )
        logger.info(
            "fake Google Ads: MutateCampaigns for customer %s: %s set, %s not found",
            self.customer_id,
            len(results) - len(errors),
            len(errors),
        )
        response.results.extend(results)
        return _with_partial_failure(response, errors)

    def budget_for(self, campaign_id: str, budget_id: str, micros: int) -> None:
        """Give a campaign a budget (shared when several campaigns name the same id)."""
        resource = f"customers/{self.customer_id}/campaignBudgets/{budget_id}"
        self.campaign_budgets[campaign_id] = resource
        self.budgets.setdefault(resource, micros)

    def mutate_campaign_budgets(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._fail_if_scripted(context)
        response = _budget_service.MutateCampaignBudgetsResponse()
        errors, results = [], []
        with self.lock:
            self.budget_calls += 1
            for index, operation in enumerate(request.operations):
                resource = operation.update.resource_name
                amount = operation.update.amount_micros
                match = _BUDGET.match(resource)
                problem = None
                if not match or match.group(1) != self.customer_id or resource not in self.budgets:
                    problem = "Resource was not found."
                elif amount < MIN_BUDGET_MICROS or amount % BUDGET_UNIT_MICROS:
                    problem = "The budget amount is too small or not a whole currency unit."
                if problem is not None:
                    errors.append(_operation_error(index, problem))
                    results.append(_budget_service.MutateCampaignBudgetResult())
                    continue
                self.budgets[resource] = amount
                results.append(_budget_service.MutateCampaignBudgetResult(resource_name=resource))
        response.results.extend(results)
        return _with_partial_failure(response, errors)

    def _rows(self, query: str) -> list[Any]:
        # Plain protobuf rows (not proto-plus wrappers): the fake shares the benchmark's
        # process, and must not be what its figures measure.
        row_class = _ads_service.GoogleAdsRow.pb()
        with self.lock:
            self.search_calls += 1
            between = _BETWEEN.search(query)
            rows = []
            if "campaign.campaign_budget" in query:
                users: dict[str, int] = {}
                for resource in self.campaign_budgets.values():
                    users[resource] = users.get(resource, 0) + 1
                for campaign_id, resource in sorted(self.campaign_budgets.items()):
                    row = row_class()
                    row.campaign.id = int(campaign_id)
                    row.campaign.campaign_budget = resource
                    row.campaign_budget.reference_count = users[resource]
                    rows.append(row)
                return rows
            if between is None:
                for campaign_id, status in self.statuses.items():
                    row = row_class()
                    row.campaign.id = int(campaign_id)
                    row.campaign.status = _enums[status]
                    rows.append(row)
                return rows
            first, last = (date.fromisoformat(value) for value in between.groups())
            for (campaign_id, day), micros in sorted(self.spend.items()):
                if first <= day <= last:
                    row = row_class()
                    row.campaign.id = int(campaign_id)
                    row.campaign.status = _enums[self.statuses.get(campaign_id, "ENABLED")]
                    row.metrics.cost_micros = micros
                    row.segments.date = day.isoformat()
                    rows.append(row)
            return rows

    def search(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._fail_if_scripted(context)
        response = _ads_service.SearchGoogleAdsResponse.pb()()
        response.results.extend(self._rows(request.query))
        return response

    def search_stream(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._fail_if_scripted(context)
        rows = self._rows(request.query)
        for start in range(0, max(len(rows), 1), STREAM_BATCH):
            response = _ads_service.SearchGoogleAdsStreamResponse.pb()()
            response.results.extend(rows[start : start + STREAM_BATCH])
            yield response

    # --- the server ------------------------------------------------------------------------

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        campaign = grpc.method_handlers_generic_handler(
            f"{_SERVICES}.CampaignService",
            {
                "MutateCampaigns": grpc.unary_unary_rpc_method_handler(
                    self.mutate_campaigns,
                    request_deserializer=_campaign_service.MutateCampaignsRequest.deserialize,
                    response_serializer=_campaign_service.MutateCampaignsResponse.serialize,
                )
            },
        )
        search = grpc.method_handlers_generic_handler(
            f"{_SERVICES}.GoogleAdsService",
            {
                "Search": grpc.unary_unary_rpc_method_handler(
                    self.search,
                    request_deserializer=_ads_service.SearchGoogleAdsRequest.deserialize,
                    response_serializer=_serialize,
                ),
                "SearchStream": grpc.unary_stream_rpc_method_handler(
                    self.search_stream,
                    request_deserializer=_ads_service.SearchGoogleAdsStreamRequest.deserialize,
                    response_serializer=_serialize,
                ),
            },
        )
        budgets = grpc.method_handlers_generic_handler(
            f"{_SERVICES}.CampaignBudgetService",
            {
                "MutateCampaignBudgets": grpc.unary_unary_rpc_method_handler(
                    self.mutate_campaign_budgets,
                    request_deserializer=_budget_service.MutateCampaignBudgetsRequest.deserialize,
                    response_serializer=_budget_service.MutateCampaignBudgetsResponse.serialize,
                )
            },
        )
        return [campaign, search, budgets]


class FakeGoogleAdsServer:
    """Runs a FakeGoogleAds on 127.0.0.1 while in a ``with`` block: on ``port``, or a free
    one (0). A port already in use raises RuntimeError (gRPC's "Failed to bind")."""

    def __init__(self, fake: FakeGoogleAds, *, port: int = 0) -> None:
        self.fake = fake
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=4),
            options=[
                ("grpc.max_send_message_length", -1),
                ("grpc.max_receive_message_length", -1),
                # gRPC shares a port with another gRPC server by default (SO_REUSEPORT): a
                # second demo would then silently take half of the first one's calls.
                ("grpc.so_reuseport", 0),
            ],
        )
        self.server.add_generic_rpc_handlers(fake.handlers())
        self.port = self.server.add_insecure_port(f"127.0.0.1:{port}")
        self.endpoint = f"127.0.0.1:{self.port}"

    def __enter__(self) -> FakeGoogleAdsServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop(grace=None)
