"""Django settings, read from the environment (and an optional `.env` file).

With no `.env` at all the project runs on embedded defaults: SQLite and Celery's filesystem
broker, both under `var/`. `DATABASE_URL` and `CELERY_BROKER_URL` switch to PostgreSQL and
Redis. Every variable is validated here, so bad configuration fails at start.
"""

from __future__ import annotations

import os
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from ad_budget_system import config, observability, operations

# Lets runtime code subscript Django generics (ModelAdmin[Brand]) as the type stubs do.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# A `.env` file is optional; real environment variables win over it (read_env uses setdefault).
environ.Env.read_env(BASE_DIR / ".env")
ENV = os.environ

# Off unless asked for: `make run` and the test settings turn it on explicitly, so an unset
# environment never serves tracebacks, runs on the development key or seeds admin/admin.
DEBUG = config.parse_bool(ENV, "DJANGO_DEBUG", default=False)
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
    "axes",  # login throttling (see "Login throttling" below)
]
# Development tools (the bench commands, the protocol fakes and `run_fakes`): an app of their
# own, installed in development, or with DEVTOOLS=True on production settings (how the bench
# is meant to run: against PostgreSQL, DEBUG off). Elsewhere its commands do not exist.
DEVTOOLS = config.parse_bool(ENV, "DEVTOOLS", default=False) or DEBUG
if DEVTOOLS:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    # Outside everything that can refuse a request, so those refusals answer JSON under /api/.
    "ads.middleware.ApiErrorsAsJsonMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin, API docs) from the app itself, also behind gunicorn.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ad_budget_system.urls"
WSGI_APPLICATION = "ad_budget_system.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's own overrides of admin templates (base_site.html: the beat banner).
        "DIRS": [BASE_DIR / "ad_budget_system" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # The staff console's tags live with the admin they serve (ads/admin/).
            "libraries": {"console": "ads.admin.template_tags"},
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

# --- Login throttling (django-axes) -------------------------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# locked out for AXES_COOLOFF_TIME hours. Pairs, not addresses alone: staff behind one office
# address do not lock each other out, and no one can lock a colleague out from elsewhere.
# The address is the client's (ads/core/client_address.py): X-Forwarded-For counts only from
# TRUSTED_PROXIES (comma-separated addresses or networks, none by default), or behind a
# proxy every client would be the proxy and one user's lockout would hold for everyone.
TRUSTED_PROXIES = operations.parse_networks(ENV, "TRUSTED_PROXIES")
AXES_CLIENT_IP_CALLABLE = "ads.core.client_address.client_address"
# An administrator lifts a lockout in the admin (Axes > Access attempts: delete the row)
# or with `manage.py axes_reset` / `axes_reset_username USERNAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

# HTTPS: production defaults when DEBUG is off, each overridable (see README, "Operating it").
SESSION_COOKIE_SECURE = config.parse_bool(ENV, "SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = config.parse_bool(ENV, "CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = config.parse_bool(ENV, "SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe over plain HTTP inside the network; a redirect would fail them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^status$", r"^metrics$"]
SECURE_HSTS_SECONDS = operations.parse_seconds(
    ENV, "SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = config.parse_bool(
    ENV, "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = config.parse_bool(ENV, "SECURE_HSTS_PRELOAD", default=not DEBUG)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
if config.parse_bool(ENV, "SECURE_PROXY_SSL_HEADER", default=not DEBUG):
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
# Where beat keeps its last-run times; a folder beat can write (say, a volume) in containers.
CELERY_BEAT_SCHEDULE_FILENAME = config.read(ENV, "CELERY_BEAT_SCHEDULE_FILENAME") or str(
    VAR_DIR / "celerybeat-schedule"
)

BUDGET_CHECK_INTERVAL_MINUTES = config.parse_budget_check_minutes(ENV, default=15)
DAYPARTING_CHECK_INTERVAL_MINUTES = config.parse_positive_int(
    ENV, "DAYPARTING_CHECK_INTERVAL_MINUTES", default=1
)
# Split sweeps: beat runs each sweep as one task per brand range plus a callback that
# records the sweep's job run (off: one task per sweep). The run's claim on its job is a
# lease its ranges renew as they start and as they commit: SWEEP_SPLIT_LEASE_SECONDS, or
# half the sweep's interval when unset, and never longer than SWEEP_SPLIT_CLAIM_SECONDS
# (once the claim's whole life, kept as the lease's upper bound). A claim whose lease ran
# out (its worker was lost) is closed as failed by the next sweep, which then runs.
SWEEP_SPLIT = config.parse_bool(ENV, "SWEEP_SPLIT", default=True)
SWEEP_BRANDS_PER_RANGE = config.parse_positive_int(ENV, "SWEEP_BRANDS_PER_RANGE", default=10_000)
SWEEP_SPLIT_CLAIM_SECONDS = config.parse_positive_int(
    ENV, "SWEEP_SPLIT_CLAIM_SECONDS", default=600, unit="seconds"
)
SWEEP_SPLIT_LEASE_SECONDS = config.parse_split_lease(
    ENV,
    intervals={
        "DEFAULT_SPEND_CHECK_INTERVAL_MINUTES": BUDGET_CHECK_INTERVAL_MINUTES,
        "DAYPARTING_CHECK_INTERVAL_MINUTES": DAYPARTING_CHECK_INTERVAL_MINUTES,
    },
)
DAILY_RESET_CRON = config.parse_cron(ENV, "DAILY_RESET_CRON", default="0 2 * * *")
MONTHLY_RESET_CRON = config.parse_cron(ENV, "MONTHLY_RESET_CRON", default="30 1 1 * *")
CELERY_BEAT_SCHEDULE = config.build_beat_schedule(
    budget_check_minutes=BUDGET_CHECK_INTERVAL_MINUTES,
    dayparting_minutes=DAYPARTING_CHECK_INTERVAL_MINUTES,
    daily_reset_cron=DAILY_RESET_CRON,
    monthly_reset_cron=MONTHLY_RESET_CRON,
    split_sweeps=SWEEP_SPLIT,
)
# verify_totals: nightly check of the period totals against the ledger.
VERIFY_TOTALS_CRON = config.parse_cron(ENV, "VERIFY_TOTALS_CRON", default="15 3 * * *")
CELERY_BEAT_SCHEDULE["verify_totals"] = config.verify_totals_beat_entry(VERIFY_TOTALS_CRON)

# Ad platforms: push due status changes (also right after each commit that queues
# one) and pull spend and statuses back. Credentials are per account, see README.
PLATFORM_PUSH_INTERVAL_MINUTES = config.parse_positive_int(
    ENV, "PLATFORM_PUSH_INTERVAL_MINUTES", default=1
)
PLATFORM_SYNC_INTERVAL_MINUTES = config.parse_positive_int(
    ENV, "PLATFORM_SYNC_INTERVAL_MINUTES", default=15
)
# The egress policy (ads/core/egress.py): every outbound request goes to public addresses
# over https only, except to these networks (CIDRs, comma-separated; empty by default), which
# may be reached although private, over http or https: the local protocol fakes of
# `make run` and the tests. DJANGO_DEBUG relaxes nothing.
OUTBOUND_ALLOWED_NETWORKS = operations.parse_networks(ENV, "OUTBOUND_ALLOWED_NETWORKS")
# Which brands may use each credentials variable an ad account names:
# {"ACME_GOOGLE_ADS": ["Acme Coffee"], "AGENCY_WEBHOOK_SECRET": ["*"]}. Unset: none may.
PLATFORM_CREDENTIALS = operations.parse_credential_bindings(ENV, "PLATFORM_CREDENTIALS")
CELERY_BEAT_SCHEDULE.update(
    {
        "push_platform_status": {
            "task": "ads.push_platform_status",
            "schedule": config.every_minutes(PLATFORM_PUSH_INTERVAL_MINUTES),
            "options": {"expires": PLATFORM_PUSH_INTERVAL_MINUTES * 60},
        },
        "sync_platforms": {
            "task": "ads.sync_platforms",
            "schedule": config.every_minutes(PLATFORM_SYNC_INTERVAL_MINUTES),
            "options": {"expires": PLATFORM_SYNC_INTERVAL_MINUTES * 60},
        },
    }
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

# --- Operations: job history, watchdog, health, metrics ----------------------------------
# Job runs older than this are deleted by the daily prune job (and `manage.py prune_job_runs`).
JOB_HISTORY_DAYS = operations.parse_days(ENV, "JOB_HISTORY_DAYS", default=30)
CELERY_BEAT_SCHEDULE["prune_job_runs"] = {
    "task": "ads.prune_job_runs",
    "schedule": crontab(minute="45", hour="3"),
    "options": {"expires": 3600},
}
# /metrics: a scraper sends `Authorization: Bearer <METRICS_TOKEN>`, or comes from one of
# METRICS_ALLOWED_IPS (comma-separated networks). With neither set, only loopback may scrape.
# The address judged is the client's, as for login throttling (TRUSTED_PROXIES).
METRICS_TOKEN = config.read(ENV, "METRICS_TOKEN")
METRICS_ALLOWED_IPS = operations.parse_networks(ENV, "METRICS_ALLOWED_IPS")
# Logging: LOG_FORMAT=keyvalue (default, human-readable) or json (one object per line), with
# a request id on lines written while serving a request; probe request lines kept below INFO.
LOG_FORMAT = operations.parse_choice(ENV, "LOG_FORMAT", ("keyvalue", "json"))
LOGGING = observability.logging_config(log_format=LOG_FORMAT)
# Errors to Sentry only when SENTRY_DSN is set.
SENTRY_ENABLED = observability.sentry_init(
    dsn=config.read(ENV, "SENTRY_DSN"),
    environment=config.read(ENV, "SENTRY_ENVIRONMENT")
    or ("development" if DEBUG else "production"),
    traces_sample_rate=operations.parse_fraction(ENV, "SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)
# Redis hands an unacknowledged task (its worker was killed) to another worker after the
# visibility timeout: Redis's default is an hour, by which time beat's expiry has discarded
# the sweep. Five minutes re-runs a lost sweep within minutes; it must exceed the longest
# task (the hard time limit) and any countdown, or a running task would be handed out twice.
CELERY_VISIBILITY_TIMEOUT = operations.parse_seconds(ENV, "CELERY_VISIBILITY_TIMEOUT", default=300)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT={CELERY_VISIBILITY_TIMEOUT} must be longer than the task "
        f"time limit ({CELERY_TASK_TIME_LIMIT}s), or running tasks are delivered twice."
    )
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
# First, so the request id covers every log line of a request and the latency all of it.
MIDDLEWARE.insert(0, "ads.middleware.RequestIdAndMetricsMiddleware")

# --- Operations: budget alerts ---------------------------------------------------------------
# Percentages of each daily and monthly budget that fire an alert (a brand may set its own).
ALERT_THRESHOLDS = operations.parse_percentages(
    ENV, "ALERT_THRESHOLDS", default=(Decimal(80), Decimal(100))
)
# A pacing alert fires when the projected period spend exceeds the budget by more than this.
ALERT_PACING_MARGIN = operations.parse_percentage(ENV, "ALERT_PACING_MARGIN", Decimal(10))
# An underspend alert fires when the projected month (or flight) spend falls below the
# budget by more than this (percent, at most 100; a brand may set its own), checked by the
# alert_underspend job every ALERT_UNDERSPEND_INTERVAL_MINUTES (hourly: brand-local days
# and quarters of a period begin at any hour; each period alerts at most once a day).
ALERT_UNDERSPEND_MARGIN = operations.parse_percentage(ENV, "ALERT_UNDERSPEND_MARGIN", Decimal(10))
if ALERT_UNDERSPEND_MARGIN > 100:
    raise ImproperlyConfigured(
        f"ALERT_UNDERSPEND_MARGIN='{ALERT_UNDERSPEND_MARGIN}' is over 100: a projection cannot "
        "fall more than 100% below its budget; use a percentage from 0 to 100, e.g. 10."
    )
ALERT_UNDERSPEND_INTERVAL_MINUTES = config.parse_positive_int(
    ENV, "ALERT_UNDERSPEND_INTERVAL_MINUTES", default=60
)
CELERY_BEAT_SCHEDULE["alert_underspend"] = {
    "task": "ads.alert_underspend",
    "schedule": config.every_minutes(ALERT_UNDERSPEND_INTERVAL_MINUTES),
    "options": {"expires": ALERT_UNDERSPEND_INTERVAL_MINUTES * 60},
}
# --- Operations: reporting lags ---------------------------------------------------------------
# How often beat runs learn_lags, which learns each brand's spend sources' reporting lag
# from the last 7 days of the ledger (hourly: lags move slowly, and it reads a week of rows).
LAG_LEARN_INTERVAL_MINUTES = config.parse_positive_int(
    ENV, "LAG_LEARN_INTERVAL_MINUTES", default=60
)
CELERY_BEAT_SCHEDULE["learn_lags"] = {
    "task": "ads.learn_lags",
    "schedule": config.every_minutes(LAG_LEARN_INTERVAL_MINUTES),
    "options": {"expires": LAG_LEARN_INTERVAL_MINUTES * 60},
}
# Global recipients, used for brands without their own.
ALERT_EMAILS = operations.parse_list(ENV, "ALERT_EMAILS")
ALERT_WEBHOOK_URL = operations.parse_url(ENV, "ALERT_WEBHOOK_URL")
ALERT_WEBHOOK_SECRET = config.read(ENV, "ALERT_WEBHOOK_SECRET")
DEFAULT_FROM_EMAIL = config.read(ENV, "ALERT_FROM_EMAIL") or "ad-budgets@localhost"
# Alert deliveries are an outbox: this beat job sends what is due (a commit that adds some
# also nudges it at once), so alerts go out whatever happened to the broker meanwhile.
ALERT_DELIVERY_INTERVAL_MINUTES = config.parse_positive_int(
    ENV, "ALERT_DELIVERY_INTERVAL_MINUTES", default=1
)
CELERY_BEAT_SCHEDULE["deliver_alerts"] = {
    "task": "ads.deliver_alerts",
    "schedule": config.every_minutes(ALERT_DELIVERY_INTERVAL_MINUTES),
    "options": {"expires": ALERT_DELIVERY_INTERVAL_MINUTES * 60},
}
# Email: printed to the console unless EMAIL_HOST names an SMTP server.
EMAIL_HOST = config.read(ENV, "EMAIL_HOST") or "localhost"
if config.read(ENV, "EMAIL_HOST") is None:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = config.parse_positive_int(ENV, "EMAIL_PORT", default=587)
    EMAIL_HOST_USER = config.read(ENV, "EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD = config.read(ENV, "EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = config.parse_bool(ENV, "EMAIL_USE_TLS", default=True)
    EMAIL_TIMEOUT = 20

# --- The ledger's monthly partitions ----------------------------------------------------------
# Months of ledger rows kept attached; `manage.py ledger_archive` detaches older ones. Must
# cover MAX_SPEND_AGE (400 days: at least 14 months), checked at startup (ads.apps).
LEDGER_RETENTION_MONTHS = config.parse_positive_int(ENV, "LEDGER_RETENTION_MONTHS", default=24)
# Daily: create the next months' partitions (and the missing ones) ahead of their inserts.
CELERY_BEAT_SCHEDULE["ledger_partitions"] = {
    "task": "ads.ledger_partitions",
    "schedule": crontab(minute="5", hour="4"),
    "options": {"expires": 3600},
}
