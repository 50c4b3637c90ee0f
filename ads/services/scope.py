"""Which campaigns an evaluation of the rule covers (``ads.services.rule``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ads.core.sql import in_ids


@dataclass(frozen=True)
class Scope:
    """Which campaigns to evaluate: all, or those of some brands and/or some campaigns."""

    brand_ids: tuple[int, ...] | None = None
    campaign_ids: tuple[int, ...] | None = None
    # Brands with lo <= id < hi (hi None: no end), for sweeps split over workers.
    brand_range: tuple[int, int | None] | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["1 = 1"], []
        if self.brand_range is not None:
            lo, hi = self.brand_range
            clauses.append("c.brand_id >= %s")
            params.append(lo)
            if hi is not None:
                clauses.append("c.brand_id < %s")
                params.append(hi)
        for column, ids in (("c.brand_id", self.brand_ids), ("c.id", self.campaign_ids)):
            if ids is not None:
                clause, clause_params = in_ids(column, ids)
                clauses.append(clause)
                params += clause_params
        return " AND ".join(clauses), params

    def totals_joins(self) -> dict[str, str]:
        """Extra conditions on the totals joins: a brand range reads only its own brands'
        totals, not every brand's (the same brands ``where`` admits, so nothing evaluated
        loses a total). Literal integers, so the planner sizes the range. (The campaign
        totals have no brand column; see ARCHITECTURE.md, "Split sweeps".)"""
        joins = dict.fromkeys(("bd", "bm", "cd", "cm"), "")
        if self.brand_range is not None:
            lo, hi = int(self.brand_range[0]), self.brand_range[1]
            for alias in ("bd", "bm"):
                upper = "" if hi is None else f" AND {alias}.brand_id < {int(hi)}"
                joins[alias] = f" AND {alias}.brand_id >= {lo}{upper}"
        return joins
