"""Settings for the test suite: development mode, asked for explicitly.

``DJANGO_DEBUG`` defaults to off (production-safe); the tests need what development has
(the development secret key, no HTTPS redirect), so they turn it on here before the real
settings are read. A test that wants production settings starts a process of its own.

The egress policy lets the tests reach their own receivers and protocol fakes on loopback
only, and the credentials variables the tests use are bound to every brand; a test of the
policy or of the bindings narrows these itself.
"""

from __future__ import annotations

import json
import os

if not os.environ.get("DJANGO_DEBUG"):
    os.environ["DJANGO_DEBUG"] = "True"
os.environ.setdefault("OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
os.environ.setdefault(
    "PLATFORM_CREDENTIALS",
    json.dumps(
        {
            name: ["*"]
            for name in ("TEST_WEBHOOK", "TEST_GOOGLE_ADS", "TEST_META", "ADMIN_TEST_WEBHOOK")
        }
    ),
)

from ad_budget_system.settings import *  # noqa: E402,F401,F403
