"""gunicorn settings read from ./gunicorn.conf.py (`gunicorn ad_budget_system.wsgi`).

With several worker processes, Prometheus counters live in each process; set
PROMETHEUS_MULTIPROC_DIR to an empty folder (cleared at each start) and /metrics sums the
processes' files. When a worker exits its live gauges are dropped here.
"""

from __future__ import annotations

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
