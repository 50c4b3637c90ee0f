"""Spend from outside (API, Celery task, CSV): parse raw items, resolve campaigns within a
token's scope, then record through ``spend_record``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from pydantic import ValidationError

from ads.core.periods import instant_problem
from ads.core.sql import in_ids
from ads.services.reconcile import SYSTEM_ACTOR
from ads.services.spend import spend_record
from ads.services.spend_events import EventOutcome, EventStatus, SpendBatchResult, SpendEventInput
from ads.services.spend_input import SpendEventPayload, _CampaignRef, describe_errors


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    brand_id: int
    brand_name: str
    currency: str
    timezone: str


class CampaignResolver:
    """Finds the campaigns a batch names, by id or by external id, in two queries at most,
    and applies a token's brand scope (``allowed`` None: every brand)."""

    def __init__(self, refs: Sequence[_CampaignRef], allowed: frozenset[int] | None) -> None:
        self.allowed = allowed
        ids = sorted({r.campaign for r in refs if r.campaign is not None})
        external = sorted({r.campaign_external_id for r in refs if r.campaign_external_id})
        self.by_id: dict[int, CampaignInfo] = {}
        self.by_external: dict[str, list[CampaignInfo]] = {}
        if ids:
            clause, params = in_ids("c.id", ids)
            for info, _ in self._query(clause, params):
                self.by_id[info.id] = info
        if external:
            clause = f"c.external_id IN ({', '.join(['%s'] * len(external))})"
            for info, external_id in self._query(clause, list(external)):
                self.by_external.setdefault(external_id, []).append(info)

    @staticmethod
    def _query(clause: str, params: list[Any]) -> list[tuple[CampaignInfo, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.id, c.brand_id, b.name, b.currency, b.timezone, c.external_id "
                f"FROM ads_campaign c JOIN ads_brand b ON b.id = c.brand_id WHERE {clause}",
                params,
            )
            return [(CampaignInfo(*row[:5]), row[5]) for row in cursor.fetchall()]

    def resolve(self, ref: _CampaignRef) -> CampaignInfo | str:
        """The campaign, or the reason it cannot be used."""
        if ref.campaign is not None:
            info = self.by_id.get(ref.campaign)
            # Another brand's campaign reads exactly like one that does not exist: a
            # rejection must not tell a token what other brands hold.
            if info is None or (self.allowed is not None and info.brand_id not in self.allowed):
                return f"unknown campaign {ref.campaign}"
            return info
        external_id = ref.campaign_external_id
        candidates = self.by_external.get(external_id or "", [])
        if ref.brand is not None:
            candidates = [
                c
                for c in candidates
                if (
                    c.brand_id == ref.brand
                    if isinstance(ref.brand, int)
                    else c.brand_name == ref.brand
                )
            ]
        in_scope = [c for c in candidates if self.allowed is None or c.brand_id in self.allowed]
        if not in_scope:
            where = f" in brand {ref.brand!r}" if ref.brand is not None else ""
            return f"unknown campaign_external_id {external_id!r}{where}"
        if len(in_scope) > 1:
            names = ", ".join(sorted(repr(c.brand_name) for c in in_scope))
            return (
                f"campaign_external_id {external_id!r} exists in several brands ({names}); "
                'add "brand"'
            )
        return in_scope[0]


def parse_instant(value: str, field: str) -> datetime | str:
    try:
        instant = datetime.fromisoformat(value.strip())
    except ValueError:
        return f"{field} {value!r} is not an ISO-8601 date and time"
    return instant_problem(instant, field) or instant


def spend_ingest(
    *,
    items: Sequence[Mapping[str, Any]],
    at: datetime,
    actor: str = SYSTEM_ACTOR,
    allowed_brand_ids: frozenset[int] | None = None,
    dry_run: bool = False,
    backfill: bool = False,
) -> SpendBatchResult:
    """Validate raw spend items (as JSON gives them), resolve their campaigns within the
    allowed brands, and record the valid ones. Per item: accepted, duplicate, or rejected
    with the reason; rejected items change nothing. Safe to run twice (see spend_record);
    ``dry_run`` writes nothing; ``backfill`` marks the rows as loaded late on purpose."""
    outcomes: dict[int, EventOutcome] = {}
    parsed: list[tuple[int, SpendEventPayload]] = []
    for index, raw in enumerate(items):
        try:
            parsed.append((index, SpendEventPayload.model_validate(raw)))
        except ValidationError as exc:
            outcomes[index] = EventOutcome(index, EventStatus.REJECTED, describe_errors(exc))
    # Ids are checked (existence, scope, currency) by spend_record under its lock, in the
    # query it needs anyway; only external ids need resolving first.
    resolver = CampaignResolver(
        [payload for _, payload in parsed if payload.campaign is None], allowed_brand_ids
    )
    events: list[SpendEventInput] = []
    positions: list[int] = []
    for index, payload in parsed:
        campaign_id = payload.campaign
        if campaign_id is None:
            info = resolver.resolve(payload)
            if isinstance(info, str):
                outcomes[index] = EventOutcome(index, EventStatus.REJECTED, info)
                continue
            campaign_id = info.id
        occurred_at = parse_instant(payload.occurred_at, "occurred_at")
        if isinstance(occurred_at, str):
            outcomes[index] = EventOutcome(index, EventStatus.REJECTED, occurred_at)
            continue
        events.append(
            SpendEventInput(
                campaign_id=campaign_id,
                amount=payload.amount,
                occurred_at=occurred_at,
                source=payload.source,
                external_id=payload.event_id,
                currency=payload.currency,
            )
        )
        positions.append(index)
    recorded = (
        spend_record(
            events=events,
            at=at,
            actor=actor,
            dry_run=dry_run,
            allowed_brand_ids=allowed_brand_ids,
            backfill=backfill,
        )
        if events
        else SpendBatchResult([])
    )
    for position, outcome in zip(positions, recorded.outcomes):
        outcomes[position] = EventOutcome(position, outcome.status, outcome.reason, outcome.differs)
    return SpendBatchResult(
        outcomes=[outcomes[index] for index in range(len(items))],
        transitions=recorded.transitions,
    )
