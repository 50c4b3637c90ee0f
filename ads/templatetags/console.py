"""The admin index's dashboard, computed for the user looking at it."""

from __future__ import annotations

from typing import Any

from django import template

from ads.admin.dashboard import dashboard_context

register = template.Library()


@register.simple_tag(takes_context=True)
def console_dashboard(context: dict[str, Any]) -> dict[str, Any]:
    return dashboard_context(context["request"])
