"""What the plans add to the rule's inputs: the flight each campaign is in on its brand's
day (and whether it is in any flight at all), and the budgets the calendar puts in force
on that day. SQL fragments for ``ads.services.rule``, read by the same set-based statement
as everything else, so a sweep stays a constant number of queries.

Both read only the rows of the brands (or campaigns) being evaluated: a brand's sweep or a
crossing spend does not scan every brand's flights. The filter is written with literal
integers (like ``Scope.totals_joins``), so these fragments add no parameters and every
caller's parameter order stays as it was.
"""

from __future__ import annotations

from ads.models import BudgetTarget, SpendPeriod
from ads.services.scope import Scope

# Past this many ids, the filter is left off: scanning every row is then no dearer.
_MAX_LITERAL_IDS = 5000


def scope_filter(scope: Scope, *, brand: str, campaign: str | None) -> str:
    """`AND ...` conditions restricting rows to the scope's brands and campaigns, with
    literal integers; ``campaign`` None: the rows have no campaign column (brand-wide)."""
    clauses: list[str] = []
    if scope.brand_range is not None:
        lo, hi = int(scope.brand_range[0]), scope.brand_range[1]
        clauses.append(f"{brand} >= {lo}")
        if hi is not None:
            clauses.append(f"{brand} < {int(hi)}")
    if scope.brand_ids is not None and len(scope.brand_ids) <= _MAX_LITERAL_IDS:
        clauses.append(f"{brand} IN ({_ints(scope.brand_ids)})")
    if (
        campaign is not None
        and scope.campaign_ids is not None
        and len(scope.campaign_ids) <= _MAX_LITERAL_IDS
    ):
        clauses.append(f"{campaign} IN ({_ints(scope.campaign_ids)})")
    return "".join(f" AND {clause}" for clause in clauses)


def _ints(ids: tuple[int, ...]) -> str:
    return ", ".join(str(int(value)) for value in ids) or "NULL"


def flights_sql(scope: Scope) -> str:
    """Per campaign in any flight: ``flight_id``, the flight whose dates hold the brand's
    day (NULL: none does, so the campaign is outside its flights), with that flight's
    ``budget`` and ``spend``. A campaign's flights never overlap, so at most one holds a
    day; MAX picks it. Built over the flights' campaigns only, then joined once."""
    return f"""(
        SELECT g.campaign_id, g.flight_id, f.budget, COALESCE(fs.amount, 0) AS spend
        FROM (
            SELECT fc.campaign_id,
                MAX(CASE WHEN fz.day >= f.starts_on AND fz.day <= f.ends_on THEN f.id END)
                    AS flight_id
            FROM ads_flightcampaign fc
            JOIN ads_flight f ON f.id = fc.flight_id
            JOIN ads_brand fb ON fb.id = f.brand_id
            JOIN zones fz ON fz.tz = fb.timezone
            WHERE 1 = 1{scope_filter(scope, brand="f.brand_id", campaign="fc.campaign_id")}
            GROUP BY fc.campaign_id
        ) g
        LEFT JOIN ads_flight f ON f.id = g.flight_id
        LEFT JOIN ads_flightspend fs ON fs.flight_id = g.flight_id
    )"""


def shared_sql(scope: Scope) -> str:
    """Per shared budget of the brands in scope: its day and month spend on the brand's day
    and its budgets in force that day (the calendar CTE ``inf``, else the stored ones).
    Built over the shared budgets only, then joined once."""
    return f"""(
        SELECT sb.id AS shared_budget_id,
            COALESCE(ish.daily, sb.daily_budget) AS daily,
            COALESCE(ish.monthly, sb.monthly_budget) AS monthly,
            COALESCE(sd.amount, 0) AS day_spend, COALESCE(sm.amount, 0) AS month_spend
        FROM ads_sharedbudget sb
        JOIN ads_brand sbb ON sbb.id = sb.brand_id
        JOIN zones sz ON sz.tz = sbb.timezone
        LEFT JOIN ads_sharedbudgetperiodspend sd ON sd.shared_budget_id = sb.id
            AND sd.period = '{SpendPeriod.DAY}' AND sd.period_start = sz.day
        LEFT JOIN ads_sharedbudgetperiodspend sm ON sm.shared_budget_id = sb.id
            AND sm.period = '{SpendPeriod.MONTH}' AND sm.period_start = sz.month
        LEFT JOIN inf ish ON ish.target = '{BudgetTarget.SHARED_BUDGET}' AND ish.owner_id = sb.id
        WHERE 1 = 1{scope_filter(scope, brand="sb.brand_id", campaign=None)}
    )"""


def in_force_sql(scope: Scope) -> str:
    """Per calendar target (``target``, ``owner_id``): the daily and the monthly budget of
    the latest change effective on or before the brand's day that sets each (NULL: no
    change sets it yet, and the stored budget applies). Window functions, so both
    databases run it."""
    owner = (
        f"CASE bc.target WHEN '{BudgetTarget.CAMPAIGN}' THEN bc.campaign_id "
        f"WHEN '{BudgetTarget.SHARED_BUDGET}' THEN bc.shared_budget_id ELSE bc.brand_id END"
    )
    campaign_scope = scope_filter(scope, brand="bc.brand_id", campaign=None)
    return f"""(
        SELECT target, owner_id,
            MAX(CASE WHEN daily_rank = 1 THEN daily_budget END) AS daily,
            MAX(CASE WHEN monthly_rank = 1 THEN monthly_budget END) AS monthly
        FROM (
            SELECT bc.target, {owner} AS owner_id, bc.daily_budget, bc.monthly_budget,
                ROW_NUMBER() OVER (
                    PARTITION BY bc.target, {owner}
                    ORDER BY CASE WHEN bc.daily_budget IS NULL THEN 1 ELSE 0 END,
                        bc.effective_on DESC
                ) AS daily_rank,
                ROW_NUMBER() OVER (
                    PARTITION BY bc.target, {owner}
                    ORDER BY CASE WHEN bc.monthly_budget IS NULL THEN 1 ELSE 0 END,
                        bc.effective_on DESC
                ) AS monthly_rank
            FROM ads_budgetchange bc
            JOIN ads_brand ib ON ib.id = bc.brand_id
            JOIN zones iz ON iz.tz = ib.timezone
            WHERE bc.effective_on <= iz.day{campaign_scope}
        ) ranked
        GROUP BY target, owner_id
    )"""
