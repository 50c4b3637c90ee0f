"""What the flight, shared budget and budget calendar pages share: their forms save by
calling the planning service, which validates and writes in one locked transaction.

So the service is called from the form's ``_post_clean`` (after the fields' own checks),
where its ValidationError can still land on the fields staff can change; the admin's
change view runs in a transaction of its own, so anything failing after it undoes the
write too. ``save_model`` then has nothing left to save: the service's object becomes the
form's instance, so the admin's log and redirect name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model, QuerySet

from ads.models import Brand, Campaign, Flight
from ads.services.rule import Transition


def service_errors(
    form: forms.BaseForm, exc: ValidationError, fields: Mapping[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form: each key on the field of that name (or
    the one ``fields`` maps it to), anything else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        name = (fields or {}).get(key, key)
        form.add_error(name if name in form.fields and name != NON_FIELD_ERRORS else None, errors)


def campaigns_field(
    queryset: QuerySet[Campaign], help_text: str, site: admin.AdminSite
) -> forms.ModelMultipleChoiceField:  # type: ignore[type-arg]
    """The campaigns a plan covers, searched as one types (the campaign list's own search,
    so only the user's brands are offered)."""
    return forms.ModelMultipleChoiceField(
        queryset=queryset,
        required=False,
        label="Campaigns",
        widget=AutocompleteSelectMultiple(Flight._meta.get_field("campaigns"), site),
        help_text=help_text,
    )


def other_brands_campaigns(brand: Brand, campaigns: list[Campaign]) -> str | None:
    """Campaigns chosen that are not ``brand``'s, named (the service would give their ids)."""
    foreign = [c for c in campaigns if c.brand_id != brand.pk]
    if not foreign:
        return None
    names = ", ".join(f"{c.name} ({c.brand.name})" for c in foreign)
    return f"Only campaigns of {brand.name} can be included: {names} are of another brand."


class ServiceForm(forms.ModelForm):  # type: ignore[type-arg]
    """A model form whose save is a service call (see the module docstring)."""

    # Service keys that are not the form's field names.
    error_fields: Mapping[str, str] = {"campaign_ids": "campaigns"}
    request_actor = "staff"
    request_at: Any = None
    transitions: list[Transition]

    def apply(self) -> tuple[Model, list[Transition]]:
        raise NotImplementedError

    def _post_clean(self) -> None:
        # The model's own checks (constraints named, not explained) give way to the
        # service's, which say what is wrong in words.
        self.transitions = []
        if self.errors:
            return
        try:
            saved, self.transitions = self.apply()
        except ValidationError as exc:
            service_errors(self, exc, self.error_fields)
        else:
            self.instance = saved


class CampaignSetForm(ServiceForm):
    """A plan form with a set of the brand's campaigns (flights, shared budgets): the set
    shown as stored, and another brand's campaigns refused by name. ``members_field`` is
    the form field holding it."""

    members_field = "campaigns"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and self.members_field in self.fields:
            self.initial[self.members_field] = list(
                self.instance.campaigns.order_by("name").values_list("pk", flat=True)
            )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        brand = self.cleaned_data.get("brand") or getattr(self.instance, "brand", None)
        chosen = list(self.cleaned_data.get(self.members_field) or [])
        if brand is not None:
            problem = other_brands_campaigns(brand, chosen)
            if problem is not None:
                self.add_error(self.members_field, problem)
        return cleaned

    def member_ids(self) -> list[int]:
        return [campaign.pk for campaign in self.cleaned_data.get(self.members_field) or []]
