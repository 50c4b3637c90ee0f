"""One timeline per campaign: the engine's transitions and the staff's edits together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ads.admin.display import local_time, money
from ads.core.money import parse_money
from ads.models import Campaign, CampaignStatusChange, PauseReason, SpendCorrection, Trigger

HISTORY_LIMIT = 50

# Snapshot keys (written by the engine, amounts as strings) as staff read them.
_SNAPSHOT_ROWS = [
    ("Brand, today", "brand_day_spend", "brand_daily_budget"),
    ("Brand, this month", "brand_month_spend", "brand_monthly_budget"),
    ("Campaign, today", "campaign_day_spend", "campaign_daily_budget"),
    ("Campaign, this month", "campaign_month_spend", "campaign_monthly_budget"),
]


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str
    what: SafeString | str
    details: SafeString | str


def _amount(value: Any, currency: str) -> str:
    return "—" if value in (None, "") else money(parse_money(value), currency)


def snapshot_table(snapshot: dict[str, Any], currency: str) -> SafeString:
    """The figures the engine saw, as a small table (never raw JSON)."""
    rows = [
        (label, _amount(snapshot.get(spend), currency), _amount(snapshot.get(cap), currency))
        for label, spend, cap in _SNAPSHOT_ROWS
        if snapshot.get(spend) is not None or snapshot.get(cap) is not None
    ]
    schedule = snapshot.get("schedule_open")
    footer = (
        ""
        if schedule is None
        else format_html(
            "<tr><td>Schedule</td><td colspan=2>{}</td></tr>",
            "open" if schedule else "closed",
        )
    )
    return format_html(
        '<table class="snapshot"><tr><th></th><th>Spend</th><th>Budget</th></tr>{}{}</table>',
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        footer,
    )


def _reason(value: str | None) -> str:
    return PauseReason(value).label if value else "running"


def campaign_history(campaign: Campaign) -> list[Entry]:
    """The latest transitions, staff edits and spend corrections of ``campaign``, newest
    first (three queries)."""
    currency = campaign.brand.currency
    entries = [
        Entry(
            at=change.at,
            who=change.actor,
            what=format_html(
                "{}: {} → {}",
                Trigger(change.trigger).label,
                _reason(change.from_reason),
                _reason(change.reason),
            ),
            details=snapshot_table(change.snapshot or {}, currency),
        )
        for change in CampaignStatusChange.objects.filter(campaign=campaign).order_by("-at", "-id")[
            :HISTORY_LIMIT
        ]
    ]
    content_type = ContentType.objects.get_for_model(Campaign)
    entries += [
        Entry(
            at=log.action_time,
            who=log.user.get_username(),
            what="Staff edit",
            details=log.get_change_message() or str(log),
        )
        for log in LogEntry.objects.filter(
            content_type=content_type, object_id=str(campaign.pk)
        ).select_related("user")[:HISTORY_LIMIT]
    ]
    entries += [
        Entry(
            at=correction.at,
            who=correction.actor,
            what=format_html(
                "Spend correction: {} for {}",
                money(correction.spend_event.amount, currency),
                correction.spend_event.local_date,
            ),
            details=correction.note,
        )
        for correction in SpendCorrection.objects.filter(campaign=campaign).select_related(
            "spend_event"
        )[:HISTORY_LIMIT]
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:HISTORY_LIMIT]


def history_table(campaign: Campaign) -> SafeString:
    entries = campaign_history(campaign)
    if not entries:
        return format_html("<p>{}</p>", "No transitions or edits yet.")
    tz_name = campaign.brand.timezone
    return format_html(
        '<table class="history"><tr><th>When ({})</th><th>Who</th><th>What</th>'
        "<th>Figures</th></tr>{}</table>",
        tz_name,
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            [(local_time(e.at, tz_name), e.who, e.what, e.details) for e in entries],
        ),
    )
