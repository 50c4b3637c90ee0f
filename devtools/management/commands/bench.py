from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from devtools.bench.report import as_json, environment, markdown
from devtools.bench.runner import bench_run
from devtools.bench.state import Bench, BenchError, Options


class Command(BaseCommand):
    help = (
        "Measure the engine and the API at scale in data of its own (created, then removed): "
        "creation, ingestion through the service (1 and N processes) and over HTTP "
        "(gunicorn), full reconcile sweeps, and the pause of a crossing event. Prints a "
        "markdown table; fails if any total differs from what was sent."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        defaults = Options()
        parser.add_argument("--campaigns", type=int, default=defaults.campaigns)
        parser.add_argument("--events", type=int, default=defaults.events)
        parser.add_argument("--processes", type=int, default=defaults.processes)
        parser.add_argument("--http-events", type=int, default=defaults.http_events)
        parser.add_argument("--http-single", type=int, default=defaults.http_single)
        parser.add_argument("--http-workers", type=int, default=defaults.http_workers)
        parser.add_argument("--http-threads", type=int, default=defaults.http_threads)
        parser.add_argument("--http-clients", type=int, default=defaults.http_clients)
        parser.add_argument(
            "--single-events",
            type=int,
            default=defaults.single_events,
            help="Single-event calls of spend_record at one client (0 skips the step).",
        )
        parser.add_argument(
            "--pgbench-seconds",
            type=int,
            default=defaults.pgbench_seconds,
            help="How long pgbench -N -c 1 runs, for the single-event comparison.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=defaults.workers,
            help="Worker processes for the split sweep, shown at 1 and N (0 skips the step).",
        )
        parser.add_argument(
            "--plans",
            type=int,
            default=defaults.plans,
            help="Percent of campaigns put in flights, and as many in shared budgets.",
        )
        parser.add_argument("--no-http", action="store_true", help="Skip the HTTP step.")
        parser.add_argument("--keep", action="store_true", help="Keep the data afterwards.")
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--json", type=Path, help="Also write the figures as JSON here.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["campaigns"] < 10 or options["events"] < 1 or options["processes"] < 1:
            raise CommandError("--campaigns must be >= 10, --events and --processes >= 1")
        if not 0 <= options["plans"] <= 50:
            raise CommandError("--plans is a percent from 0 to 50")
        settings = Options(
            campaigns=options["campaigns"],
            events=options["events"],
            processes=options["processes"],
            http=not options["no_http"],
            http_events=options["http_events"],
            http_single=options["http_single"],
            http_workers=options["http_workers"],
            http_threads=options["http_threads"],
            http_clients=options["http_clients"],
            keep=options["keep"],
            single_events=options["single_events"],
            workers=options["workers"],
            pgbench_seconds=options["pgbench_seconds"],
            plans=options["plans"],
            seed=options["seed"],
        )
        try:
            figures = bench_run(Bench(settings, self.stdout))
        except BenchError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("\n" + markdown(figures))
        if options["json"]:
            options["json"].write_text(as_json(figures, settings, environment()))
            self.stdout.write(f"\nfigures written to {options['json']}")
