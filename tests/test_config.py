"""Configuration: every variable is read, and bad values stop the process at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from celery.schedules import crontab, schedule
from django.core.exceptions import ImproperlyConfigured

from ad_budget_system import config

ROOT = Path(__file__).resolve().parent.parent


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
        env={**os.environ, **dict.fromkeys(VARIABLES, ""), **env},
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
    ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' is not a boolean", "use True or False"),
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
    assert_one_line(start_django({name: value}), problem, fix)


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
    completed = start_django({}, "raise ImproperlyConfigured('not a setting')")
    assert completed.returncode != 0
    assert "Traceback" in completed.stderr
    assert "django.core.exceptions.ImproperlyConfigured: not a setting" in completed.stderr


@pytest.mark.parametrize("secret", [None, "", "change-me", "django-insecure-abc"])
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
            "DJANGO_SECRET_KEY": "k" * 50,
            "DJANGO_ALLOWED_HOSTS": "ads.example.com, api.example.com",
        },
        "print(settings.DEBUG, settings.ALLOWED_HOSTS, settings.SESSION_COOKIE_SECURE)",
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False ['ads.example.com', 'api.example.com'] True"


def test_embedded_defaults_without_any_environment() -> None:
    completed = start_django(
        {},
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
        "print(s['check-budget']['schedule']); print(s['enforce-dayparting']['schedule']); "
        "print(s['reset-spend-daily']['schedule']); print(s['reset-spend-monthly']['schedule']);"
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
        "check-budget": "ads.check_budget_split",
        "enforce-dayparting": "ads.enforce_dayparting_split",
        "reset-spend-daily": "ads.reset_spend",
        "reset-spend-monthly": "ads.reset_spend",
    }
    assert beat["check-budget"]["schedule"] == crontab(minute="*/15")
    assert beat["enforce-dayparting"]["schedule"] == crontab(minute="*")
    assert beat["reset-spend-daily"]["kwargs"] == {"period": "daily"}
    assert beat["reset-spend-monthly"]["schedule"] == crontab("30", "1", "*", "1", "*")
    assert beat["check-budget"]["options"]["expires"] == 15 * 60


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


def test_empty_values_count_as_unset() -> None:
    assert config.parse_positive_int({"X": "  "}, "X", default=3) == 3
    assert config.parse_cron({"C": ""}, "C", default="0 2 * * *") == "0 2 * * *"
    assert config.parse_bool({"B": ""}, "B", default=True) is True
