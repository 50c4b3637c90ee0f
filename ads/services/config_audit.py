"""The configuration audit trail (``ConfigChange``): every service that creates, changes or
deletes a brand's budgets, campaigns, flights, shared budgets or calendar entries records
one row in its own transaction, so the trail and the change commit together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from ads.models import ConfigAction, ConfigChange


def _plain(value: Any) -> Any:
    """A field's value as JSON: money as its decimal string, dates ISO, objects by id."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted(_plain(item) for item in value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``instance`` as JSON values (``attname``: foreign keys by id)."""
    values: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        values[name] = _plain(getattr(instance, attname))
    return values


def config_change_record(
    *,
    brand_id: int,
    obj: models.Model,
    object_type: str,
    action: ConfigAction,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    actor: str,
    at: datetime,
) -> ConfigChange | None:
    """One audit row with the fields that differ (all given fields on create and delete);
    nothing when a change changed nothing. Helper: inside the caller's transaction."""
    old, new = dict(before or {}), dict(after or {})
    keys = sorted(set(old) | set(new))
    changes = {
        key: [_plain(old.get(key)), _plain(new.get(key))]
        for key in keys
        if action != ConfigAction.CHANGED or _plain(old.get(key)) != _plain(new.get(key))
    }
    if action == ConfigAction.CHANGED and not changes:
        return None
    return ConfigChange.objects.create(
        brand_id=brand_id,
        at=at,
        actor=actor,
        object_type=object_type,
        object_id=obj.pk,
        object_name=str(obj)[:200],
        action=action,
        changes=changes,
    )
