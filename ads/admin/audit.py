"""The configuration audit (``ConfigChange``): who set what, when, field by field, before
and after. Read only: written by the services in the transaction of each change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped
from ads.admin.common import ReadOnlyAdmin
from ads.admin.display import local_time, money
from ads.admin.plan_filters import BrandFilter
from ads.core.money import MoneyError, parse_money
from ads.models import Campaign, ConfigChange

MONEY_FIELDS = frozenset({"budget", "daily_budget", "monthly_budget"})
CAMPAIGN_LISTS = frozenset({"campaign_ids", "campaigns"})
LABELS = {
    "campaign_ids": "Campaigns",
    "starts_on": "Starts on",
    "ends_on": "Ends on",
    "effective_on": "Effective on",
    "daily_budget": "Daily budget",
    "monthly_budget": "Monthly budget",
    "shared_budget": "Shared budget",
    "created_by": "Planned by",
}


def _label(field: str) -> str:
    return LABELS.get(field, field.replace("_", " ").capitalize())


def _value(field: str, value: Any, currency: str, names: dict[int, str]) -> str:
    """One recorded value as staff read it: money in the brand's currency, campaigns by
    name, nothing as a dash; never JSON."""
    if value is None or value == "" or value == []:
        return "—"
    if field in MONEY_FIELDS:
        try:
            return money(parse_money(value), currency)
        except MoneyError:
            return str(value)
    if field in CAMPAIGN_LISTS and isinstance(value, list):
        return ", ".join(sorted(names.get(v, f"#{v}") if isinstance(v, int) else str(v)
                                for v in value))  # fmt: skip
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, dict)):
        return ", ".join(str(v) for v in value)
    return str(value)


def changes_table(change: ConfigChange, names: dict[int, str]) -> SafeString:
    recorded = change.changes if isinstance(change.changes, dict) else {}
    if not recorded:
        return format_html("<small>{}</small>", "no fields recorded")
    currency = change.brand.currency
    rows = []
    for field, pair in sorted(recorded.items()):
        before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        rows.append(
            (
                _label(field),
                _value(field, before, currency, names),
                _value(field, after, currency, names),
            )
        )
    return format_html(
        '<table class="config-changes"><tr><th>Field</th><th>Before</th><th>After</th></tr>'
        "{}</table>",
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
    )


def campaign_names(changes: list[ConfigChange]) -> dict[int, str]:
    """The campaigns named in a page of audit rows, in one query."""
    ids = {
        value
        for change in changes
        if isinstance(change.changes, dict)
        for field, pair in change.changes.items()
        if field in CAMPAIGN_LISTS and isinstance(pair, list)
        for side in pair
        if isinstance(side, list)
        for value in side
        if isinstance(value, int)
    }
    return dict(Campaign.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


class AuditChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        names = campaign_names(list(self.result_list))
        for change in self.result_list:
            change.campaign_names = names


@admin.register(ConfigChange)
class ConfigChangeAdmin(BrandScoped, ReadOnlyAdmin):
    list_display = ["when", "brand", "actor", "what", "action", "before_after"]
    list_filter = [BrandFilter, "object_type", "action"]
    list_select_related = ["brand"]
    search_fields = ["actor", "object_name", "brand__name"]
    date_hierarchy = "at"
    fields = ["when", "brand", "actor", "what", "action", "before_after"]
    readonly_fields = ["when", "brand", "actor", "what", "action", "before_after"]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return AuditChangeList

    @admin.display(description="When (brand-local)", ordering="at")
    def when(self, obj: ConfigChange) -> str:
        return local_time(obj.at, obj.brand.timezone)

    @admin.display(description="What", ordering="object_type")
    def what(self, obj: ConfigChange) -> str:
        kind = obj.object_type.replace("_", " ")
        return f"{kind} {obj.object_name}"

    @admin.display(description="Fields: before → after")
    def before_after(self, obj: ConfigChange) -> SafeString:
        names = getattr(obj, "campaign_names", None)
        if names is None:
            names = campaign_names([obj])
        return changes_table(obj, names)
