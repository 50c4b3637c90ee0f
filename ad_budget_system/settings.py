"""Django settings, read from the environment (and an optional `.env` file).

With no `.env` at all the project runs on embedded defaults: SQLite and Celery's filesystem
broker, both under `var/`. `DATABASE_URL` and `CELERY_BROKER_URL` switch to PostgreSQL and
Redis. Every variable is validated here, so bad configuration fails at start.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

from ad_budget_system import config

# Lets runtime code subscript Django generics (ModelAdmin[Brand]) as the type stubs do.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# A `.env` file is optional; real environment variables win over it (read_env uses setdefault).
environ.Env.read_env(BASE_DIR / ".env")
ENV = os.environ

DEBUG = config.parse_bool(ENV, "DJANGO_DEBUG", default=True)
SECRET_KEY = config.parse_secret_key(
    ENV, debug=DEBUG, dev_default="django-insecure-development-only-key-do-not-deploy"
)
ALLOWED_HOSTS = [
    host.strip()
    for host in (config.read(ENV, "DJANGO_ALLOWED_HOSTS") or "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]

# Time: the server zone is the zone of the cron expressions and of the admin's display.
# Business days and months are always those of each brand's own zone.
TIME_ZONE = config.parse_timezone(ENV, "TIME_ZONE", default="UTC")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en-us"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' JavaScript and CSS locally, no CDN
    "ads",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin, API docs) from the app itself, also behind gunicorn.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ad_budget_system.urls"
WSGI_APPLICATION = "ad_budget_system.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# In development whitenoise serves straight from the apps; in production run collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
# A batch of 1,000 events is about 200 KB; anything near this limit is a mistake, and the
# API answers 413 instead of reading it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Database -----------------------------------------------------------------------------
_database_url = config.read(ENV, "DATABASE_URL")
if _database_url is None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _database_url = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
# The engine's set-based SQL is written for these two backends, and CI runs both.
_SUPPORTED_ENGINES = ("django.db.backends.sqlite3", "django.db.backends.postgresql")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # django-environ warns, then returns an empty engine
    try:
        _database: dict[str, Any] = dict(environ.Env.db_url_config(_database_url))
    except Exception:  # django-environ raises several types for a malformed URL
        _database = {}
if _database.get("ENGINE") not in _SUPPORTED_ENGINES:
    raise ImproperlyConfigured(
        f"DATABASE_URL={_database_url!r} is not a database URL this project supports; use "
        "sqlite:////absolute/path.sqlite3 or postgres://user:password@host:5432/name"
    )
if _database.get("ENGINE") == "django.db.backends.sqlite3":
    # IMMEDIATE: a writing transaction takes the write lock at BEGIN, so concurrent writers
    # queue (up to `timeout` seconds) instead of failing with "database is locked" at their
    # first write. WAL lets readers (the admin, dry runs) proceed while a writer holds it.
    _database.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif _database.get("ENGINE") == "django.db.backends.postgresql":
    # Persistent connections. No health check before each request: it is one more round
    # trip per API call (a fifth of a single-event request); a connection that broke (say,
    # the database restarted) fails the request using it and is then discarded.
    _database.setdefault("CONN_MAX_AGE", 60)
DATABASES = {"default": _database}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Celery -------------------------------------------------------------------------------
_broker_url = config.read(ENV, "CELERY_BROKER_URL")
_result_backend = config.read(ENV, "CELERY_RESULT_BACKEND")
# (An explicit host, or kombu warns "No hostname was supplied" on every start.)
CELERY_BROKER_URL = _broker_url or "filesystem://localhost//"
if _broker_url is None:
    # One folder for messages in and out, so a separate worker and beat share the queue.
    _queue_dir = VAR_DIR / "celery" / "queue"
    _control_dir = VAR_DIR / "celery" / "control"
    for _folder in (_queue_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
if _result_backend is None:
    _results_dir = VAR_DIR / "celery" / "results"
    _results_dir.mkdir(parents=True, exist_ok=True)
    _result_backend = f"file://{_results_dir}"
CELERY_RESULT_BACKEND = _result_backend
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# A task is acknowledged only when done; if the worker dies mid-sweep the message is
# redelivered. This is safe because every task here is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

BUDGET_CHECK_INTERVAL_MINUTES = config.parse_budget_check_minutes(ENV, default=15)
DAYPARTING_CHECK_INTERVAL_MINUTES = config.parse_positive_int(
    ENV, "DAYPARTING_CHECK_INTERVAL_MINUTES", default=1
)
# Split sweeps (issue 12): brands per range; the beat's sweeps run one task per range.
SWEEP_BRANDS_PER_RANGE = config.parse_positive_int(ENV, "SWEEP_BRANDS_PER_RANGE", default=10_000)
DAILY_RESET_CRON = config.parse_cron(ENV, "DAILY_RESET_CRON", default="0 2 * * *")
MONTHLY_RESET_CRON = config.parse_cron(ENV, "MONTHLY_RESET_CRON", default="30 1 1 * *")
CELERY_BEAT_SCHEDULE = config.build_beat_schedule(
    budget_check_minutes=BUDGET_CHECK_INTERVAL_MINUTES,
    dayparting_minutes=DAYPARTING_CHECK_INTERVAL_MINUTES,
    daily_reset_cron=DAILY_RESET_CRON,
    monthly_reset_cron=MONTHLY_RESET_CRON,
)

# --- Logging ------------------------------------------------------------------------------
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "keyvalue": {
            "()": "ad_budget_system.logfmt.KeyValueFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "keyvalue"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
