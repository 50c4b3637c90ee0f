"""What every page of the staff console shares: the actor, the report after a save, and
read-only pages for what only the engine writes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest


def actor(request: HttpRequest) -> str:
    return request.user.get_username() or "staff"


def report(request: HttpRequest, model_admin: admin.ModelAdmin[Any], moved: int) -> None:
    if moved:
        model_admin.message_user(
            request, f"Enforced at once: {moved} campaign(s) changed state.", messages.INFO
        )


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Ledger, totals and audit: visible to staff, written only by the engine."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
