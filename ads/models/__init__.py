"""The domain model, one module per aggregate: brands, access, ad accounts, campaigns (with
their schedules and audit trail), shared budgets, flights, the budget calendar, the spend
ledger, platform pushes, job runs and alerts.

Only fields, constraints, indexes and small pure calculations live here; anything that
writes several rows, takes a lock or enqueues work is a service (``ads/services/``). The
models import only ``ads.core``. Every name callers use is re-exported here, so they import
from ``ads.models`` whichever module holds the class; the import order below is the order
the modules depend on each other.
"""

from ads.models.access import ApiToken, BrandAccess, TokenScope
from ads.models.ad_accounts import AccountHealth, AdAccount, Platform
from ads.models.alerts import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertDeliveryState,
    AlertKind,
    AlertPeriod,
    BrandAlertSettings,
)
from ads.models.base import Timestamped
from ads.models.brands import Brand, validate_currency, validate_timezone
from ads.models.budget_changes import BudgetChange, BudgetTarget
from ads.models.campaigns import (
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    Campaign,
    CampaignStatus,
    CampaignStatusChange,
    DaypartSchedule,
    DaypartWindow,
    PauseReason,
    Trigger,
    Weekday,
    WeekSpan,
    find_overlaps,
    schedule_is_open,
)
from ads.models.config_changes import ConfigAction, ConfigChange
from ads.models.flights import Flight, FlightCampaign
from ads.models.jobs import JobName, JobOutcome, JobRun, JobTrigger
from ads.models.ledger import (
    BrandPeriodSpend,
    CampaignPeriodSpend,
    FlightSpend,
    LedgerArchive,
    PeriodTotal,
    ReportedDailyTotal,
    SharedBudgetPeriodSpend,
    SpendCorrection,
    SpendEvent,
    SpendEventKey,
    SpendKind,
    SpendPeriod,
)
from ads.models.platforms import (
    CampaignPlatformState,
    DeliveryState,
    PlatformCampaign,
    PlatformDelivery,
    PlatformStatus,
)
from ads.models.shared_budgets import SharedBudget
from ads.models.spend_sources import MAX_LAG_MINUTES, SpendSource

__all__ = [
    "MAX_LAG_MINUTES",
    "MINUTES_PER_DAY",
    "MINUTES_PER_WEEK",
    "AccountHealth",
    "AdAccount",
    "Alert",
    "AlertChannel",
    "AlertDelivery",
    "AlertDeliveryState",
    "AlertKind",
    "AlertPeriod",
    "ApiToken",
    "Brand",
    "BrandAccess",
    "BrandAlertSettings",
    "BrandPeriodSpend",
    "BudgetChange",
    "BudgetTarget",
    "Campaign",
    "CampaignPeriodSpend",
    "CampaignPlatformState",
    "CampaignStatus",
    "CampaignStatusChange",
    "ConfigAction",
    "ConfigChange",
    "DaypartSchedule",
    "DaypartWindow",
    "DeliveryState",
    "Flight",
    "FlightCampaign",
    "FlightSpend",
    "JobName",
    "JobOutcome",
    "JobRun",
    "JobTrigger",
    "LedgerArchive",
    "PauseReason",
    "PeriodTotal",
    "Platform",
    "PlatformCampaign",
    "PlatformDelivery",
    "PlatformStatus",
    "ReportedDailyTotal",
    "SharedBudget",
    "SharedBudgetPeriodSpend",
    "SpendCorrection",
    "SpendEvent",
    "SpendEventKey",
    "SpendKind",
    "SpendPeriod",
    "SpendSource",
    "Timestamped",
    "TokenScope",
    "Trigger",
    "WeekSpan",
    "Weekday",
    "find_overlaps",
    "schedule_is_open",
    "validate_currency",
    "validate_timezone",
]
