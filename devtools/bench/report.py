"""What a run prints and keeps: the markdown table, the JSON with the options and the
machine, and the log file the run's log records go to."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

from devtools.bench.state import Figure, Options


def markdown(figures: Sequence[Figure]) -> str:
    lines = ["| step | measure | value | target | met |", "| --- | --- | --- | --- | --- |"]
    for f in figures:
        value = f"{f.value:,}" if isinstance(f.value, int) else str(f.value)
        met = "" if f.ok is None else ("yes" if f.ok else "**no**")
        lines.append(f"| {f.section} | {f.metric} | {value} {f.unit} | {f.target} | {met} |")
    return "\n".join(lines)


def as_json(figures: Sequence[Figure], options: Options, environment: dict[str, Any]) -> str:
    return json.dumps(
        {
            "options": options.__dict__,
            "environment": environment,
            "figures": [f.__dict__ for f in figures],
        },
        indent=2,
        default=str,
    )


def environment() -> dict[str, Any]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            database = cursor.fetchone()[0]
            cursor.execute("SHOW fsync")
            fsync = cursor.fetchone()[0]
            cursor.execute("SHOW synchronous_commit")
            sync = cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            database, fsync, sync = f"SQLite {cursor.fetchone()[0]}", "n/a", "n/a"
    return {
        "python": sys.version.split()[0],
        "database": database,
        "fsync": fsync,
        "synchronous_commit": sync,
        "cpus": os.cpu_count(),
        "when": timezone.now().isoformat(),
    }


def log_to_file(path: Path) -> Callable[[], None]:
    """Send log records to ``path`` for the run (the console shows the figures)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    saved = root.handlers[:]
    handler = logging.FileHandler(path)
    handler.setFormatter(saved[0].formatter if saved else logging.Formatter())
    root.handlers = [handler]

    def restore() -> None:
        root.handlers = saved
        handler.close()

    return restore
