"""A bad setting stops the process with one line, not a traceback.

The settings are read when a process starts (``manage.py``, ``celery -A ad_budget_system``),
and each check there raises ``ImproperlyConfigured`` with a message that names the variable,
what is wrong with its value and how to fix it. Uncaught, Python would print that message last,
under fifty lines of import machinery. The hook installed here prints only the message, on one
line of stderr, and the process exits with status 1. Other exceptions, and an
``ImproperlyConfigured`` raised anywhere but while reading the settings, keep their traceback.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from types import TracebackType

from django.core.exceptions import ImproperlyConfigured

PREFIX = "Configuration error: "
# The files that read the environment; an error raised through them is a setting's.
_SETTINGS_FILES = frozenset(
    str(Path(__file__).resolve().with_name(name)) for name in ("settings.py", "config.py")
)


def is_setting_error(error: BaseException, tb: TracebackType | None) -> bool:
    """Whether ``error`` is ``ImproperlyConfigured`` raised while reading the settings."""
    if not isinstance(error, ImproperlyConfigured):
        return False
    return any(
        str(Path(frame.f_code.co_filename).resolve()) in _SETTINGS_FILES
        for frame, _ in traceback.walk_tb(tb)
    )


def one_line(error: BaseException) -> str:
    return PREFIX + " ".join(str(error).split())


def _hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    if is_setting_error(error, tb):
        sys.stderr.write(one_line(error) + "\n")
        return
    _previous(kind, error, tb)


_previous = sys.excepthook


def install() -> None:
    """Report setting errors in one line from now on, in this process. Safe to call twice."""
    global _previous
    if sys.excepthook is not _hook:
        _previous = sys.excepthook
        sys.excepthook = _hook
