"""Reads for operators' commands: where campaigns stand (the last line of the sweep
commands and of seed_data), and brands named by id or name."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.db.models import (
    Count,
)

from ads.models import (
    Brand,
    Campaign,
    CampaignStatus,
    PauseReason,
)

# --- Where campaigns stand (the last line of the sweep commands and of seed_data) ----------


@dataclass(frozen=True)
class CampaignStates:
    """How many campaigns run, and how many are paused for each reason, right now."""

    total: int
    running: int
    paused_by_reason: dict[str, int]

    @property
    def paused(self) -> int:
        return sum(self.paused_by_reason.values())

    def line(self) -> str:
        """For an operator: '12 campaigns, 6 running, 6 paused (3 outside_schedule, ...)'."""
        text = f"{self.total} campaigns, {self.running} running, {self.paused} paused"
        if self.paused_by_reason:
            reasons = ", ".join(f"{n} {reason}" for reason, n in self.paused_by_reason.items())
            text += f" ({reasons})"
        return text


def campaign_states(*, brand_ids: Collection[int] | None = None) -> CampaignStates:
    """Campaigns by stored status and reason, of some brands or all (one query). Reasons in
    ``PauseReason`` order."""
    campaigns = Campaign.objects.all()
    if brand_ids is not None:
        campaigns = campaigns.filter(brand_id__in=brand_ids)
    counts = {
        (row["status"], row["pause_reason"]): row["n"]
        for row in campaigns.order_by().values("status", "pause_reason").annotate(n=Count("id"))
    }
    running = counts.pop((CampaignStatus.RUNNING, None), 0)
    paused = {reason: counts.get((CampaignStatus.PAUSED, reason), 0) for reason in PauseReason}
    return CampaignStates(
        total=running + sum(counts.values()),
        running=running,
        paused_by_reason={str(reason): n for reason, n in paused.items() if n},
    )


# --- Brands named by an operator (id or name) -----------------------------------------------


@dataclass(frozen=True)
class BrandLookup:
    """What a list of brand references named: the brands found (in the order given, each
    once), and the references that named none or several."""

    found: list[Brand]
    unknown: list[str]
    ambiguous: dict[str, list[Brand]]


def brands_lookup(references: Sequence[str]) -> BrandLookup:
    """Brands by id or by name, ignoring case. A reference that matches several brands (two
    names differing only in case, or an id and another brand's name) is ambiguous, unless
    exactly one of them is an exact, case-sensitive match."""
    # Compared in Python: SQLite's lower() folds ASCII only, so "Café" would miss "CAFÉ".
    # The (id, name) pairs of every brand are small next to anything else this project reads.
    brands = {brand.pk: brand for brand in Brand.objects.only("id", "name")}
    found: dict[int, Brand] = {}
    unknown: list[str] = []
    ambiguous: dict[str, list[Brand]] = {}
    for reference in references:
        text = reference.strip()
        folded = text.casefold()
        matches = [b for b in brands.values() if b.name.casefold() == folded]
        if text.isdigit() and int(text) in brands and brands[int(text)] not in matches:
            matches.append(brands[int(text)])
        exact = [b for b in matches if b.name == text or str(b.pk) == text]
        if len(matches) > 1 and len(exact) == 1:
            matches = exact
        if not matches:
            unknown.append(reference)
        elif len(matches) > 1:
            ambiguous[reference] = sorted(matches, key=lambda b: b.pk)
        else:
            found.setdefault(matches[0].pk, matches[0])
    return BrandLookup(found=list(found.values()), unknown=unknown, ambiguous=ambiguous)
