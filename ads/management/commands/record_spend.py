import uuid
from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ads.core.money import parse_money
from ads.core.transactions import entry_point
from ads.services.selectors.explain import spend_effect
from ads.services.spend import spend_record
from ads.services.spend_events import EventStatus, SpendEventInput


def _instant(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--at {value!r} is not an ISO-8601 date and time") from None


class Command(BaseCommand):
    help = "Record one spend event (as the API would) and enforce budgets at once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--campaign", type=int, required=True, help="Campaign id.")
        parser.add_argument("--amount", required=True, help="Decimal amount, e.g. 12.50.")
        parser.add_argument("--at", help="When it was spent, ISO-8601 with offset (default: now).")
        parser.add_argument("--source", default="manual", help="Who reports it (default: manual).")
        parser.add_argument(
            "--event-id", help="Idempotency key within the source (default: a new UUID)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Store nothing; say whether it would be taken and which budgets it would reach.",
        )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        event_id = options["event_id"] or uuid.uuid4().hex
        event = SpendEventInput(
            campaign_id=options["campaign"],
            amount=options["amount"],
            occurred_at=_instant(options["at"]) if options["at"] else now,
            source=options["source"],
            external_id=event_id,
        )
        dry_run = options["dry_run"]
        result = spend_record(
            events=[event], at=now, actor="manage.py record_spend", dry_run=dry_run
        )
        outcome = result.outcomes[0]
        if outcome.status in (EventStatus.REJECTED, EventStatus.CONFLICT):
            raise CommandError(f"{outcome.status.value}: {outcome.reason}")
        prefix = "dry run, nothing stored: would be " if dry_run else ""
        self.stdout.write(f"{prefix}{outcome.status.value}: {options['source']}:{event_id}")
        if dry_run and outcome.status == EventStatus.ACCEPTED:
            self._effects(event, now)
        for transition in result.transitions:
            after = transition.to_reason or transition.to_status
            would = "would be " if dry_run else ""
            self.stdout.write(
                f"  campaign {transition.campaign_id} ({transition.campaign_name}) "
                f"{would}{transition.kind}: {after}"
            )

    def _effects(self, event: SpendEventInput, now: datetime) -> None:
        assert event.occurred_at is not None  # accepted events have one
        for effect in spend_effect(
            campaign_id=event.campaign_id,
            amount=parse_money(event.amount),
            occurred_at=event.occurred_at,
            at=now,
        ):
            line = effect.line
            verdict = " -> reaches it: campaigns would pause" if effect.reaches else ""
            self.stdout.write(
                f"  {line.scope} {line.period} {line.period_start}: {line.spend} -> "
                f"{effect.after} of {line.budget}{verdict}"
            )
