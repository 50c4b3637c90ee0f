"""The staff's console, one module per subject. Every save and action goes through a
service, so it is enforced at once and never writes the engine's fields (status, reason).

A plain list of imports: each module registers its own ModelAdmins.
"""

from ads.admin import brands, campaigns, dashboard, ledger, schedules, tokens  # noqa: F401
