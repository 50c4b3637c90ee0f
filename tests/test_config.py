"""Configuration: every variable is read, and bad values stop the process at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from celery.schedules import crontab, schedule
from django.core.exceptions import ImproperlyConfigured

from ad_budget_system import config, operations

ROOT = Path(__file__).resolve().parent.parent
# A key that passes Django's deployment check (50+ characters, many distinct).
PRODUCTION_KEY = "x7!Kp2@Lq9#Rt4$Vw6%Yz8^Bc1&Dn3*Fg5(Hj0)Mm-Ns_Pu+Qv=Sx"


VARIABLES = (
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "DEFAULT_SPEND_CHECK_INTERVAL_MINUTES",
    "DEFAULT_BUDGET_CHECK_FREQUENCY",
    "DAYPARTING_CHECK_INTERVAL_MINUTES",
    "DAILY_RESET_CRON",
    "MONTHLY_RESET_CRON",
    "TIME_ZONE",
    "VERIFY_TOTALS_CRON",
    "TRUSTED_PROXIES",
    "OUTBOUND_ALLOWED_NETWORKS",
    "PLATFORM_CREDENTIALS",
    "ALERT_WEBHOOK_URL",
    "ALERT_DELIVERY_INTERVAL_MINUTES",
    "ALERT_UNDERSPEND_MARGIN",
    "ALERT_UNDERSPEND_INTERVAL_MINUTES",
    "SWEEP_SPLIT_CLAIM_SECONDS",
    "SWEEP_SPLIT_LEASE_SECONDS",
    "DEVTOOLS",
)


def start_django(env: dict[str, str], code: str = "") -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter with only ``env`` configured.

    Every documented variable is set, to empty (which counts as unset) unless ``env`` gives
    it: real variables win over a developer's `.env`, so that file cannot leak in.
    """
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'ad_budget_system.settings'); django.setup(); from django.conf import settings; "
        "from django.core.exceptions import ImproperlyConfigured; " + code
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **os.environ,
            **dict.fromkeys(VARIABLES, ""),
            "DJANGO_SETTINGS_MODULE": "ad_budget_system.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


# (variable, bad value, the problem, the fix), as the one line says them.
BAD_SETTINGS = [
    (
        "DAILY_RESET_CRON",
        "0 2 * *",
        "DAILY_RESET_CRON='0 2 * *' is not a cron expression",
        "use five, e.g. DAILY_RESET_CRON=0 2 * * * (the default)",
    ),
    (
        "MONTHLY_RESET_CRON",
        "30 25 1 * *",
        "MONTHLY_RESET_CRON='30 25 1 * *' is not a valid cron expression: Invalid end range",
        "hour 0-23",
    ),
    (
        "DEFAULT_SPEND_CHECK_INTERVAL_MINUTES",
        "0",
        "DEFAULT_SPEND_CHECK_INTERVAL_MINUTES='0' must be a positive whole number",
        "e.g. DEFAULT_SPEND_CHECK_INTERVAL_MINUTES=15",
    ),
    (
        "DEFAULT_BUDGET_CHECK_FREQUENCY",
        "often",
        "DEFAULT_BUDGET_CHECK_FREQUENCY='often' is not a positive whole number",
        "e.g. DEFAULT_BUDGET_CHECK_FREQUENCY=15",
    ),
    (
        "DAYPARTING_CHECK_INTERVAL_MINUTES",
        "-1",
        "DAYPARTING_CHECK_INTERVAL_MINUTES='-1' must be a positive whole number",
        "e.g. DAYPARTING_CHECK_INTERVAL_MINUTES=1",
    ),
    (
        "TIME_ZONE",
        "Mars/Olympus",
        "TIME_ZONE='Mars/Olympus' is not an IANA time zone",
        "use one such as UTC or Europe/Berlin",
    ),
    (
        "VERIFY_TOTALS_CRON",
        "nightly",
        "VERIFY_TOTALS_CRON='nightly' is not a cron expression",
        "e.g. VERIFY_TOTALS_CRON=15 3 * * * (the default)",
    ),
    (
        "SWEEP_SPLIT_LEASE_SECONDS",
        "60",
        "SWEEP_SPLIT_LEASE_SECONDS='60' must be shorter than DAYPARTING_CHECK_INTERVAL_MINUTES=1"
        " (60 seconds)",
        "leave it unset for half of each sweep's interval",
    ),
    (
        "SWEEP_SPLIT_LEASE_SECONDS",
        "soon",
        "SWEEP_SPLIT_LEASE_SECONDS='soon' is not a positive whole number of seconds",
        "e.g. SWEEP_SPLIT_LEASE_SECONDS=20",
    ),
    (
        "SWEEP_SPLIT_CLAIM_SECONDS",
        "0",
        "SWEEP_SPLIT_CLAIM_SECONDS='0' must be a positive whole number of seconds",
        "e.g. SWEEP_SPLIT_CLAIM_SECONDS=600 (the default)",
    ),
    ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' is not a boolean", "use True or False"),
    ("DEVTOOLS", "maybe", "DEVTOOLS='maybe' is not a boolean", "use True or False"),
    (
        "TRUSTED_PROXIES",
        "10.0.0.1,proxy.internal",
        "TRUSTED_PROXIES='10.0.0.1,proxy.internal' is not a list of IP networks",
        "proxy.internal",
    ),
    (
        "OUTBOUND_ALLOWED_NETWORKS",
        "10.0.0.0/8,intranet",
        "OUTBOUND_ALLOWED_NETWORKS='10.0.0.0/8,intranet' is not a list of IP networks",
        "intranet",
    ),
    (
        "PLATFORM_CREDENTIALS",
        "ACME_META=Acme",
        "PLATFORM_CREDENTIALS is not JSON",
        '{"ACME_GOOGLE_ADS": ["Acme Coffee"], "AGENCY_WEBHOOK_SECRET": ["*"]}',
    ),
    (
        "PLATFORM_CREDENTIALS",
        '{"ACME_META": "Acme"}',
        "PLATFORM_CREDENTIALS: ACME_META must map to a non-empty list of brand names",
        'or ["*"] for every brand',
    ),
    (
        "PLATFORM_CREDENTIALS",
        '{"acme meta": ["Acme"]}',
        "PLATFORM_CREDENTIALS: 'acme meta' is not a variable name",
        "upper-case letters, digits and underscores",
    ),
    (
        "PLATFORM_CREDENTIALS",
        '{"ACME_META": ["*", "Acme"]}',
        'PLATFORM_CREDENTIALS: ACME_META lists "*" with brand names',
        '["*"] alone',
    ),
    (
        "ALERT_WEBHOOK_URL",
        "hooks.slack.com/services/x",
        "ALERT_WEBHOOK_URL='hooks.slack.com/services/x' is not an http(s) URL with a host",
        "https://hooks.slack.com/services/",
    ),
    (
        "DATABASE_URL",
        "nosuchdb://x",
        "DATABASE_URL='nosuchdb://x' is not a database URL",
        "use sqlite:////",
    ),
    (
        "DATABASE_URL",
        "mysql://u@h/db",
        "DATABASE_URL='mysql://u@h/db' is not a database URL",
        "or postgres://",
    ),
    (
        "ALERT_UNDERSPEND_MARGIN",
        "150",
        "ALERT_UNDERSPEND_MARGIN='150' is over 100",
        "use a percentage from 0 to 100, e.g. 10",
    ),
    (
        "ALERT_UNDERSPEND_INTERVAL_MINUTES",
        "0",
        "ALERT_UNDERSPEND_INTERVAL_MINUTES='0' must be a positive whole number",
        "e.g. ALERT_UNDERSPEND_INTERVAL_MINUTES=60",
    ),
]


def assert_one_line(completed: subprocess.CompletedProcess[str], *parts: str) -> None:
    """The process failed and said only one line: the variable, the problem, the fix."""
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr, completed.stderr
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("Configuration error: ")
    for part in parts:
        assert part in lines[0]


@pytest.mark.parametrize(("name", "value", "problem", "fix"), BAD_SETTINGS)
def test_bad_configuration_stops_the_process_with_one_line_naming_the_variable_and_fix(
    name: str, value: str, problem: str, fix: str
) -> None:
    assert_one_line(start_django({"DJANGO_DEBUG": "True", name: value}), problem, fix)


def run_entry_point(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command),
        cwd=ROOT,
        env={**os.environ, **dict.fromkeys(VARIABLES, ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "manage.py", "check"],
        [sys.executable, "manage.py", "migrate", "--noinput"],
        [sys.executable, "manage.py", "runserver", "127.0.0.1:0"],
        [str(BIN / "celery"), "-A", "ad_budget_system", "worker"],
        [str(BIN / "celery"), "-A", "ad_budget_system", "beat"],
    ],
    ids=["check", "migrate", "runserver", "celery-worker", "celery-beat"],
)
def test_every_entry_point_reports_a_bad_setting_in_one_line(command: list[str]) -> None:
    completed = run_entry_point({"TIME_ZONE": "Mars/Olympus"}, *command)
    assert_one_line(completed, "TIME_ZONE='Mars/Olympus'", "Europe/Berlin")


def test_other_errors_keep_their_traceback() -> None:
    completed = start_django(
        {"DJANGO_DEBUG": "True"}, "raise ImproperlyConfigured('not a setting')"
    )
    assert completed.returncode != 0
    assert "Traceback" in completed.stderr
    assert "django.core.exceptions.ImproperlyConfigured: not a setting" in completed.stderr


@pytest.mark.parametrize(
    "secret", [None, "", "change-me", "django-insecure-abc", "short-key", "ab" * 30]
)
def test_production_refuses_a_missing_or_example_secret_key(secret: str | None) -> None:
    env = {"DJANGO_DEBUG": "False"}
    if secret is not None:
        env["DJANGO_SECRET_KEY"] = secret
    completed = start_django(env)
    assert_one_line(
        completed, "DJANGO_SECRET_KEY is missing or still the example value", "Generate one with"
    )


def test_production_starts_with_a_real_secret_key() -> None:
    completed = start_django(
        {
            "DJANGO_DEBUG": "False",
            "DJANGO_SECRET_KEY": PRODUCTION_KEY,
            "DJANGO_ALLOWED_HOSTS": "ads.example.com, api.example.com",
        },
        "print(settings.DEBUG, settings.ALLOWED_HOSTS, settings.SESSION_COOKIE_SECURE)",
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False ['ads.example.com', 'api.example.com'] True"


def test_no_environment_at_all_refuses_to_start_in_one_line() -> None:
    completed = start_django({})

    assert completed.returncode != 0
    # DEBUG is off unless asked for, so the missing key stops the process.
    assert "DJANGO_SECRET_KEY is missing" in completed.stderr


def test_embedded_defaults_in_development() -> None:
    completed = start_django(
        {"DJANGO_DEBUG": "True"},
        "import json; db = settings.DATABASES['default']; print(json.dumps({"
        "'engine': db['ENGINE'], 'name': str(db['NAME']), 'broker': settings.CELERY_BROKER_URL,"
        "'options': settings.CELERY_BROKER_TRANSPORT_OPTIONS, 'debug': settings.DEBUG,"
        "'tz': settings.TIME_ZONE, 'celery_tz': settings.CELERY_TIMEZONE}))",
    )
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)
    assert seen["engine"] == "django.db.backends.sqlite3"
    assert seen["name"] == str(ROOT / "var" / "db.sqlite3")
    assert seen["broker"] == "filesystem://localhost//"
    # One folder for both directions, so a separate worker and beat share the queue.
    assert seen["options"]["data_folder_in"] == seen["options"]["data_folder_out"]
    assert Path(seen["options"]["data_folder_in"]).is_dir()
    assert (seen["debug"], seen["tz"], seen["celery_tz"]) == (True, "UTC", "UTC")


def test_the_variables_reach_the_beat_schedule_and_the_services() -> None:
    completed = start_django(
        {
            "DJANGO_DEBUG": "True",
            "DEFAULT_SPEND_CHECK_INTERVAL_MINUTES": "5",
            "DAYPARTING_CHECK_INTERVAL_MINUTES": "7",
            "DAILY_RESET_CRON": "15 3 * * *",
            "MONTHLY_RESET_CRON": "45 0 1 * *",
            "TIME_ZONE": "Europe/Berlin",
            "DATABASE_URL": "postgres://u:p@db.example.com:5433/ads",
            "CELERY_BROKER_URL": "redis://broker.example.com:6379/2",
            "CELERY_RESULT_BACKEND": "redis://broker.example.com:6379/3",
        },
        "s = settings.CELERY_BEAT_SCHEDULE; db = settings.DATABASES['default']; "
        "print(s['check_budget']['schedule']); print(s['enforce_dayparting']['schedule']); "
        "print(s['reset_spend_daily']['schedule']); print(s['reset_spend_monthly']['schedule']);"
        "print(settings.CELERY_TIMEZONE, settings.TIME_ZONE); print(db['HOST'], db['PORT']);"
        "print(settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND)",
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        "<crontab: */5 * * * * (m/h/dM/MY/d)>",
        "<freq: 7.00 minutes>",
        "<crontab: 15 3 * * * (m/h/dM/MY/d)>",
        "<crontab: 45 0 1 * * (m/h/dM/MY/d)>",
        "Europe/Berlin Europe/Berlin",
        "db.example.com 5433",
        "redis://broker.example.com:6379/2 redis://broker.example.com:6379/3",
    ]


def test_build_beat_schedule_has_all_four_jobs() -> None:
    beat = config.build_beat_schedule(
        budget_check_minutes=15,
        dayparting_minutes=1,
        daily_reset_cron="0 2 * * *",
        monthly_reset_cron="30 1 1 * *",
    )
    assert {name: entry["task"] for name, entry in beat.items()} == {
        "check_budget": "ads.check_budget_split",
        "enforce_dayparting": "ads.enforce_dayparting_split",
        "reset_spend_daily": "ads.reset_spend_daily",
        "reset_spend_monthly": "ads.reset_spend_monthly",
    }
    assert beat["check_budget"]["schedule"] == crontab(minute="*/15")
    assert beat["enforce_dayparting"]["schedule"] == crontab(minute="*")
    assert "kwargs" not in beat["reset_spend_daily"]
    assert beat["reset_spend_monthly"]["schedule"] == crontab("30", "1", "*", "1", "*")
    assert beat["check_budget"]["options"]["expires"] == 15 * 60


def test_sweep_split_off_puts_the_one_task_sweeps_on_beat() -> None:
    beat = config.build_beat_schedule(
        budget_check_minutes=15,
        dayparting_minutes=1,
        daily_reset_cron="0 2 * * *",
        monthly_reset_cron="30 1 1 * *",
        split_sweeps=False,
    )
    assert beat["check_budget"]["task"] == "ads.check_budget"
    assert beat["enforce_dayparting"]["task"] == "ads.enforce_dayparting"


def test_intervals_that_do_not_divide_an_hour_fall_back_to_a_plain_interval() -> None:
    assert config.every_minutes(90) == schedule(timedelta(minutes=90))
    assert config.every_minutes(20) == crontab(minute="*/20")


def test_the_two_budget_interval_names_are_one_setting() -> None:
    primary, alias = "DEFAULT_SPEND_CHECK_INTERVAL_MINUTES", "DEFAULT_BUDGET_CHECK_FREQUENCY"
    assert config.parse_budget_check_minutes({}, default=15) == 15
    assert config.parse_budget_check_minutes({alias: "10"}, default=15) == 10
    assert config.parse_budget_check_minutes({primary: "5"}, default=15) == 5
    assert config.parse_budget_check_minutes({primary: "5", alias: "5"}, default=15) == 5
    with pytest.raises(ImproperlyConfigured, match="disagree"):
        config.parse_budget_check_minutes({primary: "5", alias: "10"}, default=15)


def test_the_split_lease_is_unset_or_shorter_than_every_sweep_interval() -> None:
    intervals = {"DEFAULT_SPEND_CHECK_INTERVAL_MINUTES": 15, "DAYPARTING_CHECK_INTERVAL_MINUTES": 2}
    assert config.parse_split_lease({}, intervals=intervals) is None
    assert (
        config.parse_split_lease({"SWEEP_SPLIT_LEASE_SECONDS": "119"}, intervals=intervals) == 119
    )
    with pytest.raises(ImproperlyConfigured, match="DAYPARTING_CHECK_INTERVAL_MINUTES=2 "):
        config.parse_split_lease({"SWEEP_SPLIT_LEASE_SECONDS": "120"}, intervals=intervals)
    with pytest.raises(ImproperlyConfigured, match="DEFAULT_SPEND_CHECK_INTERVAL_MINUTES=15 "):
        config.parse_split_lease(
            {"SWEEP_SPLIT_LEASE_SECONDS": "900"},
            intervals={**intervals, "DAYPARTING_CHECK_INTERVAL_MINUTES": 30},
        )


def test_the_split_lease_variables_reach_the_settings() -> None:
    completed = start_django(
        {
            "DJANGO_DEBUG": "True",
            "SWEEP_SPLIT_LEASE_SECONDS": "20",
            "SWEEP_SPLIT_CLAIM_SECONDS": "300",
        },
        "print(settings.SWEEP_SPLIT_LEASE_SECONDS, settings.SWEEP_SPLIT_CLAIM_SECONDS)",
    )
    unset = start_django({"DJANGO_DEBUG": "True"}, "print(settings.SWEEP_SPLIT_LEASE_SECONDS)")

    assert completed.returncode == 0, completed.stderr
    assert (completed.stdout, unset.stdout) == ("20 300\n", "None\n")


def test_empty_values_count_as_unset() -> None:
    assert config.parse_positive_int({"X": "  "}, "X", default=3) == 3
    assert config.parse_cron({"C": ""}, "C", default="0 2 * * *") == "0 2 * * *"
    assert config.parse_bool({"B": ""}, "B", default=True) is True


def env_example(*, uncomment: str = "") -> dict[str, str]:
    """The variables `.env.example` sets; lines commented out as ``# NAME=...`` whose name
    starts with ``uncomment`` count as uncommented, as a user would do."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if uncomment and line.startswith(f"# {uncomment}"):
            line = line[2:]
        name, separator, value = line.partition("=")
        if separator and not line.startswith("#") and " " not in name:
            values[name] = value
    return values


def test_env_example_as_copied_starts_like_the_embedded_defaults_in_development() -> None:
    shown = "print(settings.ALLOWED_HOSTS, settings.CELERY_BROKER_URL, settings.DEBUG)"
    defaults = start_django({"DJANGO_DEBUG": "True"}, shown)
    copied = start_django(env_example(), shown)

    assert copied.returncode == 0, copied.stderr
    assert copied.stdout == defaults.stdout
    assert "'[::1]'" in copied.stdout


def test_env_example_redis_lines_work_once_uncommented() -> None:
    env = env_example(uncomment="CELERY_")

    completed = start_django(
        env, "print(settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND)"
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["redis://localhost:6379/0", "redis://localhost:6379/0"]


def test_env_example_trusted_proxies_line_works_once_uncommented() -> None:
    env = env_example(uncomment="TRUSTED_PROXIES")

    completed = start_django(
        env,
        "print(settings.TRUSTED_PROXIES == tuple(__import__('ipaddress').ip_network(n) for n "
        "in ('10.0.0.5/32', '10.1.0.0/16')), settings.AXES_CLIENT_IP_CALLABLE)",
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["True", "ads.core.client_address.client_address"]


# --- verify_totals (issue 8) ---------------------------------------------------------------
def test_the_nightly_verify_totals_entry_follows_its_cron() -> None:
    default = start_django(
        {"DJANGO_DEBUG": "True"}, "print(settings.CELERY_BEAT_SCHEDULE['verify_totals'])"
    )
    custom = start_django(
        {"DJANGO_DEBUG": "True", "VERIFY_TOTALS_CRON": "0 4 * * 1"},
        "print(settings.CELERY_BEAT_SCHEDULE['verify_totals']['schedule'])",
    )

    assert default.returncode == 0, default.stderr
    assert "'task': 'ads.verify_totals'" in default.stdout
    assert "<crontab: 15 3 * * * (m/h/dM/MY/d)>" in default.stdout
    assert custom.stdout.strip() == "<crontab: 0 4 * * 1 (m/h/dM/MY/d)>"


# The production settings the README documents ("Operating it").
PRODUCTION = {
    "DJANGO_DEBUG": "False",
    "DJANGO_SECRET_KEY": PRODUCTION_KEY,
    "DJANGO_ALLOWED_HOSTS": "ads.example.com",
}


def test_check_deploy_on_the_documented_production_settings_reports_nothing() -> None:
    completed = start_django(
        PRODUCTION,
        "from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='DEBUG')",
    )

    assert completed.returncode == 0, completed.stderr
    assert "System check identified no issues" in completed.stdout + completed.stderr


def test_https_settings_default_on_in_production_and_follow_their_variables() -> None:
    code = (
        "print(settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, "
        "settings.SESSION_COOKIE_SECURE, getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    )
    production = start_django(PRODUCTION, code)
    behind_plain_http = start_django(
        {
            **PRODUCTION,
            "SECURE_SSL_REDIRECT": "False",
            "SECURE_HSTS_SECONDS": "0",
            "SECURE_PROXY_SSL_HEADER": "False",
        },
        code,
    )
    development = start_django({"DJANGO_DEBUG": "True"}, code)

    assert production.stdout.strip() == (
        "True 31536000 True ('HTTP_X_FORWARDED_PROTO', 'https')"
    ), production.stderr
    assert behind_plain_http.stdout.strip() == "False 0 True None"
    assert development.stdout.strip() == "False 0 False None"


def test_a_lost_task_on_redis_is_redelivered_within_minutes() -> None:
    completed = start_django(
        {
            "DJANGO_DEBUG": "True",
            "CELERY_BROKER_URL": "redis://broker.example.com:6379/2",
            "CELERY_BEAT_SCHEDULE_FILENAME": "/data/beat/schedule",
        },
        "from ad_budget_system.celery import app; "
        "print(app.conf.broker_transport_options['visibility_timeout'], "
        "app.conf.task_time_limit, app.conf.beat_schedule_filename)",
    )
    too_short = start_django({"DJANGO_DEBUG": "True", "CELERY_VISIBILITY_TIMEOUT": "60"})

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["300", "180", "/data/beat/schedule"]
    assert "CELERY_VISIBILITY_TIMEOUT=60 must be longer than the task time limit" in (
        too_short.stderr
    )


def test_credential_bindings_and_allowed_networks_reach_the_settings() -> None:
    completed = start_django(
        {
            "DJANGO_DEBUG": "True",
            "PLATFORM_CREDENTIALS": '{"ACME_META": [" Acme Coffee "], "AGENCY_HOOK": ["*"]}',
            "OUTBOUND_ALLOWED_NETWORKS": "10.20.0.0/16, fd12::/48,",
        },
        "print(sorted((k, sorted(v)) for k, v in settings.PLATFORM_CREDENTIALS.items())); "
        "print([str(n) for n in settings.OUTBOUND_ALLOWED_NETWORKS])",
    )
    assert completed.returncode == 0, completed.stderr
    bindings, networks = completed.stdout.splitlines()[-2:]
    assert bindings == "[('ACME_META', ['Acme Coffee']), ('AGENCY_HOOK', ['*'])]"
    assert networks == "['10.20.0.0/16', 'fd12::/48']"


def test_with_nothing_set_no_credentials_are_bound_and_no_private_network_is_allowed() -> None:
    completed = start_django(
        {"DJANGO_DEBUG": "True"},
        "print(settings.PLATFORM_CREDENTIALS, settings.OUTBOUND_ALLOWED_NETWORKS)",
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == "{} ()"


# --- Development tools ----------------------------------------------------------------------
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "ad_budget_system.settings",
    "DJANGO_DEBUG": "False",
    "DJANGO_SECRET_KEY": PRODUCTION_KEY,
}


@pytest.mark.parametrize(
    ("env", "installed"),
    [
        ({"DJANGO_DEBUG": "True"}, True),
        ({"DJANGO_DEBUG": "True", "DEVTOOLS": "False"}, True),
        (PRODUCTION, False),
        ({**PRODUCTION, "DEVTOOLS": "False"}, False),
        ({**PRODUCTION, "DEVTOOLS": "True"}, True),
    ],
    ids=["debug", "debug-devtools-false", "production", "production-false", "production-true"],
)
def test_devtools_is_installed_only_in_development_or_when_asked_for(
    env: dict[str, str], installed: bool
) -> None:
    completed = start_django(env, "print('devtools' in settings.INSTALLED_APPS)")

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == str(installed)


def test_on_production_settings_the_bench_is_an_unknown_command_unless_devtools_is_on() -> None:
    command = (sys.executable, "manage.py", "bench", "--help")
    absent = run_entry_point(PRODUCTION, *command)
    present = run_entry_point({**PRODUCTION, "DEVTOOLS": "True"}, *command)

    assert absent.returncode != 0
    assert "Unknown command: 'bench'" in absent.stderr
    assert present.returncode == 0, present.stderr
    assert "--campaigns" in present.stdout


def test_env_example_demo_lines_once_uncommented_bind_the_demo_credentials() -> None:
    env = env_example()
    for prefix in ("DEMO_", "PLATFORM_CREDENTIALS", "OUTBOUND_ALLOWED_NETWORKS"):
        env.update(env_example(uncomment=prefix))  # the later, uncommented line wins

    completed = start_django(
        env,
        "import json, os; print(sorted((k, sorted(v)) for k, v in "
        "settings.PLATFORM_CREDENTIALS.items())); print(len(settings.OUTBOUND_ALLOWED_NETWORKS)); "
        "print(json.loads(os.environ['DEMO_META'])['graph_url'])",
    )

    assert completed.returncode == 0, completed.stderr
    bindings, networks, graph_url = completed.stdout.splitlines()[-3:]
    assert bindings == "[('DEMO_GOOGLE_ADS', ['Acme Coffee']), ('DEMO_META', ['Brolly & Co'])]"
    assert networks == "2" and graph_url == "http://127.0.0.1:8061"


def test_alert_thresholds_are_read_as_percentages_and_a_bad_list_is_refused_by_name() -> None:
    read = operations.parse_percentages
    default = (Decimal(80), Decimal(100))
    assert read({"ALERT_THRESHOLDS": " 100,50 "}, "ALERT_THRESHOLDS", default) == (
        Decimal(50),
        Decimal(100),
    )
    assert read({"ALERT_THRESHOLDS": " "}, "ALERT_THRESHOLDS", default) == default
    with pytest.raises(ImproperlyConfigured) as refused:
        read({"ALERT_THRESHOLDS": "80,lots"}, "ALERT_THRESHOLDS", default)
    assert str(refused.value) == (
        "ALERT_THRESHOLDS='80,lots' is not a list of percentages between 0 and 1000 (e.g. 80,100)."
    )
