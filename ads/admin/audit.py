"""The configuration audit (``ConfigChange``): who set what, when, field by field, before
and after. Read only: written by the services in the transaction of each change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ads.admin.access import BrandScoped
from ads.admin.common import ReadOnlyAdmin
from ads.admin.display import local_time, money
from ads.admin.plan_filters import BrandFilter
from ads.core.money import MoneyError, parse_money
from ads.models import BudgetTarget, Campaign, ConfigChange, SharedBudget

MONEY_FIELDS = frozenset({"budget", "daily_budget", "monthly_budget"})
CAMPAIGN_LISTS = frozenset({"campaign_ids", "campaigns"})
# Fields recorded by id, shown by name (from ``related_names``).
CAMPAIGN_FIELDS = frozenset({"campaign"})
SHARED_FIELDS = frozenset({"shared_budget"})
OBJECT_TYPES = {
    "brand": "Brand",
    "campaign": "Campaign",
    "flight": "Flight",
    "shared_budget": "Shared budget",
    "budget_change": "Budget change",
}
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


Names = dict[tuple[str, int], str]


def _value(field: str, value: Any, currency: str, names: Names) -> str:
    """One recorded value as staff read it: money in the brand's currency, campaigns by
    name, nothing as a dash; never JSON."""
    if value is None or value == "" or value == []:
        return "—"
    if field in MONEY_FIELDS:
        try:
            return money(parse_money(value), currency)
        except MoneyError:
            return str(value)
    if field in CAMPAIGN_FIELDS | SHARED_FIELDS and isinstance(value, int):
        return names.get((field, value), f"#{value}")
    if field == "target" and value in BudgetTarget.values:
        return str(BudgetTarget(value).label)
    if field in CAMPAIGN_LISTS and isinstance(value, list):
        return ", ".join(
            sorted(names.get(("campaign", v), f"#{v}") if isinstance(v, int) else str(v)
                   for v in value)
        )  # fmt: skip
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, dict)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def changes_table(change: ConfigChange, names: Names) -> SafeString:
    recorded = change.changes if isinstance(change.changes, dict) else {}
    if not recorded:
        return format_html("<small>{}</small>", "no fields recorded")
    currency = change.brand.currency
    rows = []
    for field, pair in sorted(recorded.items()):
        before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        if _empty(before) and _empty(after):
            continue  # a field the object does not use (a brand's change names no campaign)
        # Amounts and dates on one line; names and lists may wrap.
        wrap = "nowrap" if field in MONEY_FIELDS or field.endswith("_on") else "normal"
        rows.append(
            (
                _label(field),
                wrap,
                _value(field, before, currency, names),
                wrap,
                _value(field, after, currency, names),
            )
        )
    return format_html(
        '<table class="config-changes"><tr><th>Field</th><th>Before</th><th>After</th></tr>'
        "{}</table>",
        format_html_join(
            "",
            '<tr><td>{}</td><td style="white-space:{}">{}</td>'
            '<td style="white-space:{}">{}</td></tr>',
            rows,
        ),
    )


def related_names(changes: list[ConfigChange]) -> Names:
    """The campaigns and shared budgets named by id in a page of audit rows, by name (two
    queries at most)."""
    wanted: dict[str, set[int]] = {"campaign": set(), "shared_budget": set()}
    for change in changes:
        recorded = change.changes if isinstance(change.changes, dict) else {}
        for field, pair in recorded.items():
            sides = pair if isinstance(pair, list) else [pair]
            for side in sides:
                values = side if isinstance(side, list) else [side]
                ints = {v for v in values if isinstance(v, int) and not isinstance(v, bool)}
                if field in CAMPAIGN_LISTS or field in CAMPAIGN_FIELDS:
                    wanted["campaign"] |= ints
                elif field in SHARED_FIELDS:
                    wanted["shared_budget"] |= ints
    names: Names = {}
    if wanted["campaign"]:
        found = Campaign.objects.filter(pk__in=wanted["campaign"]).values_list("pk", "name")
        names.update({("campaign", pk): name for pk, name in found})
    if wanted["shared_budget"]:
        pots = SharedBudget.objects.filter(pk__in=wanted["shared_budget"])
        names.update({("shared_budget", pk): name for pk, name in pots.values_list("pk", "name")})
    return names


class ObjectTypeFilter(admin.SimpleListFilter):
    title = "what"
    parameter_name = "object_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(OBJECT_TYPES.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset if value is None else queryset.filter(object_type=value)


class AuditChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        names = related_names(list(self.result_list))
        for change in self.result_list:
            change.related_names = names


@admin.register(ConfigChange)
class ConfigChangeAdmin(BrandScoped, ReadOnlyAdmin):
    list_display = ["when", "brand", "actor", "what", "action", "before_after"]
    list_filter = [BrandFilter, ObjectTypeFilter, "action"]
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
        kind = OBJECT_TYPES.get(obj.object_type, obj.object_type.replace("_", " "))
        return f"{kind}: {obj.object_name}"

    @admin.display(description="Fields: before → after")
    def before_after(self, obj: ConfigChange) -> SafeString:
        names = getattr(obj, "related_names", None)
        if names is None:
            names = related_names([obj])
        return changes_table(obj, names)
