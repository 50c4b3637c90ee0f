"""Form pieces the console's pages share: the time zone picker and errors in words."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ads.core.currency import budget_problem


@lru_cache(maxsize=1)
def iana_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


class TimezoneInput(forms.TextInput):
    """A text box that suggests IANA names as one types (a datalist: searchable in every
    browser, no script); the model's validator still refuses anything else."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        list_id = f"{name}-iana-names"
        box = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        return format_html(
            '{}<datalist id="{}">{}</datalist>',
            box,
            list_id,
            format_html_join("", '<option value="{}">', ((zone,) for zone in iana_names())),
        )


def positive(value: Decimal | None, what: str) -> Decimal | None:
    """A budget or cap, refused in words at its field (the database's check would only name
    its constraint)."""
    if value is not None and value <= 0:
        raise ValidationError(f"The {what} must be greater than zero.")
    return value


def budgets_in_currency(form: forms.BaseForm, currency: str, fields: tuple[str, ...]) -> None:
    """The API's rule on the form's budget fields: no more decimals than ``currency`` has
    (JPY 100.5 is no budget); each refusal at its field."""
    for field in fields:
        value = form.cleaned_data.get(field)
        if value is not None and (problem := budget_problem(value, currency)):
            form.add_error(field, f"{problem}.")


def move_unique_errors(
    form: forms.ModelForm,  # type: ignore[type-arg]
    messages: dict[tuple[str, ...], tuple[str, str]],
) -> None:
    """Move the form-wide "already exists" errors of multi-column unique constraints to the
    field staff can change, in words: ``messages`` maps the constraint's columns to (field,
    message)."""
    found = form.errors.as_data().get(NON_FIELD_ERRORS, [])
    kept = []
    for error in found:
        columns = tuple((error.params or {}).get("unique_check", ()))
        if error.code == "unique_together" and columns in messages:
            field, message = messages[columns]
            form.errors.setdefault(field, form.error_class()).append(message)
            form.cleaned_data.pop(field, None)
        else:
            kept.append(error)
    if found:
        if kept:
            form.errors[NON_FIELD_ERRORS] = form.error_class(
                [m for e in kept for m in e.messages], error_class="nonfield"
            )
        else:
            del form.errors[NON_FIELD_ERRORS]
