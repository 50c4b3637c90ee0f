"""One run of `manage.py bench`: the steps in their order, logging to a file of the run's own
while the console shows the progress, and the bench's data removed whatever happens."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connection

from devtools.bench import checks, data, http_load, ingestion, plans, sweeps
from devtools.bench.platforms import platform_step
from devtools.bench.report import log_to_file
from devtools.bench.state import Bench, Figure


def bench_run(bench: Bench) -> list[Figure]:
    """Every step, in order; the figures. Creates its own data and removes it (unless
    ``keep``), so it is safe to run twice, also on a database in use."""
    log_path = Path(settings.BASE_DIR) / "var" / f"bench-{bench.run_id}.log"
    restore = log_to_file(log_path)
    bench.say(f"bench {bench.run_id} on {connection.vendor} (logs: {log_path})")
    try:
        data.create(bench)
        plans.create(bench)
        ingestion.ingest_service(bench)
        if bench.options.single_events:
            # After a day's batches (most campaigns have today's totals rows, most brands
            # are below their budgets): the common single event.
            ingestion.single_events(bench)
        ingestion.floor(bench)
        if bench.options.http:
            http_load.http_step(bench)
        sweeps.reconcile_sweeps(bench)
        if bench.options.workers and not bench.in_memory_database():
            sweeps.split_sweeps(bench)
        ingestion.crossing(bench)
        checks.check_totals(bench)
        platform_step(bench)
        checks.verify_step(bench)
    finally:
        try:
            data.cleanup(bench)
        finally:
            restore()
    return bench.figures
