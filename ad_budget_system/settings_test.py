"""Settings for the test suite: development mode, asked for explicitly.

``DJANGO_DEBUG`` defaults to off (production-safe); the tests need what development has
(the development secret key, no HTTPS redirect), so they turn it on here before the real
settings are read. A test that wants production settings starts a process of its own.
"""

from __future__ import annotations

import os

if not os.environ.get("DJANGO_DEBUG"):
    os.environ["DJANGO_DEBUG"] = "True"

from ad_budget_system.settings import *  # noqa: E402,F401,F403
