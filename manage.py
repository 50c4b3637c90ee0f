#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ad_budget_system.settings")
    from django.core.management import execute_from_command_line

    from ad_budget_system import config_errors

    config_errors.install()  # a bad setting: one line naming it, not a traceback

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
