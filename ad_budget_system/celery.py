"""The Celery application; configuration comes from Django settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

from ad_budget_system import config_errors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ad_budget_system.settings")
# The settings are read lazily, when the worker or beat starts; a bad one then stops it with
# one line naming the variable (this is the module `celery -A ad_budget_system` imports).
config_errors.install()

app = Celery("ad_budget_system")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
