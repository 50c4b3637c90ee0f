"""The staff's console, one module per subject. Every save and action goes through a
service, so it is enforced at once and never writes the engine's fields (status, reason).

A plain list of imports: each module registers its own ModelAdmins.
"""

from ads.admin import access  # noqa: F401
from ads.admin import audit  # noqa: F401
from ads.admin import brands  # noqa: F401
from ads.admin import budget_changes  # noqa: F401
from ads.admin import campaigns  # noqa: F401
from ads.admin import dashboard  # noqa: F401
from ads.admin import flights  # noqa: F401
from ads.admin import ledger  # noqa: F401
from ads.admin import operations  # noqa: F401
from ads.admin import platforms  # noqa: F401
from ads.admin import schedules  # noqa: F401
from ads.admin import shared_budgets  # noqa: F401
from ads.admin import spend_sources  # noqa: F401
from ads.admin import tokens  # noqa: F401
