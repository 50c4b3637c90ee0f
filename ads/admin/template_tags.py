"""The staff console's template tags (library ``console``, registered in the settings'
TEMPLATES options, so they live with the admin they serve): the dashboard on the admin index,
computed for the user looking at it, and the beat watchdog's banner on every admin page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from ads.admin.dashboard import dashboard_context
from ads.services.job_runs import STALE_AFTER_INTERVALS, beat_stale_jobs

register = template.Library()


@register.simple_tag(takes_context=True)
def console_dashboard(context: dict[str, Any]) -> dict[str, Any]:
    return dashboard_context(context["request"])


@register.inclusion_tag("admin/ads/beat_banner.html")
def beat_banner() -> dict[str, Any]:
    """The stale watched jobs, if any: a red banner on every admin page."""
    at = timezone.now()
    try:
        stale = beat_stale_jobs(at=at)
    except Exception:  # no job table yet (before migrate): the page itself must still load
        stale = []
    return {
        "stale": [f"{fresh.job}: {fresh.describe(at)}" for fresh in stale],
        "intervals": STALE_AFTER_INTERVALS,
    }
