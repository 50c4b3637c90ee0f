"""The admin's beat watchdog banner (used by the project's admin/base_site.html)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from ads.services.job_runs import STALE_AFTER_INTERVALS, beat_stale_jobs

register = template.Library()


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
