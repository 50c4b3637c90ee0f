import uuid
from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ads.services.spend import EventStatus, SpendEventInput, spend_record


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
        result = spend_record(events=[event], at=now, actor="manage.py record_spend")
        outcome = result.outcomes[0]
        if outcome.status in (EventStatus.REJECTED, EventStatus.CONFLICT):
            raise CommandError(f"{outcome.status.value}: {outcome.reason}")
        self.stdout.write(f"{outcome.status.value}: {options['source']}:{event_id}")
        for transition in result.transitions:
            after = transition.to_reason or transition.to_status
            self.stdout.write(
                f"  campaign {transition.campaign_id} ({transition.campaign_name}) "
                f"{transition.kind}: {after}"
            )
