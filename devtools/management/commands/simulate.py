import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from argparse import ArgumentParser
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ads.core import nudge
from ads.models import MAX_LAG_MINUTES
from devtools.simulate.run import (
    BUILT,
    STRATEGIES,
    Options,
    SimulationError,
    strategy_problem,
    strategy_run,
)

# Set by the parent for its child only: the child runs on the scratch database it was given,
# never on the one configured (the user's).
SCRATCH = "ADS_SIMULATE_SCRATCH"
COLUMNS = (
    ("ratio_min", "month min %"),
    ("ratio_median", "median %"),
    ("ratio_max", "max %"),
    ("worst_overspend_pct", "worst over %"),
    ("underspend_pct", "under %"),
    ("day_ratio_max", "worst day %"),
    ("days_over_pct", "days over %"),
    ("dark_brand_days", "dark brand-days"),
    ("hours_paused_early", "h paused early"),
    ("budget_pushes", "budget pushes"),
)


def _lag(text: str) -> tuple[str, int]:
    source, _, minutes = text.partition("=")
    if not source or not minutes.isdigit() or int(minutes) > MAX_LAG_MINUTES:
        raise CommandError(
            f"--lag {text!r}: give source=minutes, minutes from 0 to {MAX_LAG_MINUTES} "
            "(e.g. --lag google_ads=180)"
        )
    return source, int(minutes)


class Command(BaseCommand):
    help = (
        "Run budget strategies through the real engine (spend_record, the sweep) for "
        "simulated brands whose platforms report spend late, each on a scratch SQLite "
        "database of its own (never the configured one), and print what was really spent "
        "against the budgets. Same seed, same figures."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        defaults = Options()
        parser.add_argument("--days", type=int, default=defaults.days, help="1 to 30 (a month).")
        parser.add_argument("--brands", type=int, default=defaults.brands, help="1 to 200.")
        parser.add_argument(
            "--lag",
            action="append",
            default=[],
            metavar="SOURCE=MINUTES",
            help="A spend source and how late it reports; repeat for several (default "
            "google_ads=180 and meta=900). Campaigns take the sources in turn.",
        )
        parser.add_argument(
            "--strategy",
            default="hard_stop",
            help=f"Comma-separated, of {', '.join(STRATEGIES)} (built: {', '.join(BUILT)}).",
        )
        parser.add_argument(
            "--totals",
            default=",".join(defaults.totals),
            metavar="SOURCES",
            help="Comma-separated sources that report settling daily totals every hour (as "
            "Meta does) instead of events (default meta; '' for none).",
        )
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
        parser.add_argument("--worker", help=f"Internal: with {SCRATCH} set, write here.")

    def handle(self, *args: Any, **options: Any) -> None:
        lags = dict(_lag(text) for text in options["lag"]) if options["lag"] else None
        run = Options(
            days=options["days"],
            brands=options["brands"],
            lags=lags if lags is not None else Options().lags,
            seed=options["seed"],
            totals=tuple(name.strip() for name in options["totals"].split(",") if name.strip()),
        )
        if not 1 <= run.days <= 30 or not 1 <= run.brands <= 200:
            raise CommandError("--days must be 1 to 30 (one month) and --brands 1 to 200")
        strategies = [name.strip() for name in options["strategy"].split(",") if name.strip()]
        for name in strategies:
            if (problem := strategy_problem(name)) is not None:
                raise CommandError(f"--strategy: {problem}")
        if options["worker"]:
            self._work(strategies[0], run, Path(options["worker"]))
            return
        results = [self._child(name, run) for name in strategies]
        document = {
            "seed": run.seed,
            "days": run.days,
            "brands": run.brands,
            "lag": run.lags,
            "totals": list(run.totals),
            "strategies": results,
        }
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2))
            return
        self.stdout.write(
            f"simulate: {run.brands} brands x 3 campaigns, {run.days} days, lags "
            + (", ".join(f"{s} {m} min" for s, m in sorted(run.lags.items())) or "none")
            + (f" ({', '.join(run.totals)} as settling daily totals)" if run.totals else "")
            + f", seed {run.seed}; spend is what the platforms spent"
        )
        self.stdout.write("| strategy | " + " | ".join(title for _, title in COLUMNS) + " |")
        self.stdout.write("| --- " * (len(COLUMNS) + 1) + "|")
        for result in results:
            cells = " | ".join(str(result[key]) for key, _ in COLUMNS)
            self.stdout.write(f"| {result['name']} | {cells} |")

    def _child(self, strategy: str, run: Options) -> dict[str, Any]:
        """One strategy in a child process on a new SQLite database (migrated there)."""
        with tempfile.TemporaryDirectory(prefix="ads-simulate-") as folder:
            out = Path(folder) / "figures.json"
            env = {
                **os.environ,
                SCRATCH: "1",
                "DATABASE_URL": f"sqlite:///{Path(folder) / 'scratch.sqlite3'}",
            }
            command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "simulate"]
            command += ["--days", str(run.days), "--brands", str(run.brands)]
            command += ["--seed", str(run.seed), "--strategy", strategy, "--worker", str(out)]
            command += [f"--lag={source}={minutes}" for source, minutes in run.lags.items()]
            command += [f"--totals={','.join(run.totals)}"]
            began = time.monotonic()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0 or not out.exists():
                tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
                raise CommandError(f"simulate {strategy}: the run failed: " + " / ".join(tail))
            result: dict[str, Any] = json.loads(out.read_text())
            result["seconds"] = round(time.monotonic() - began, 1)
            return result

    def _work(self, strategy: str, run: Options, out: Path) -> None:
        if os.environ.get(SCRATCH) != "1":
            raise CommandError("--worker runs only on the scratch database its parent made")
        # Every batch and move logs a line at INFO: thousands a simulated day, for nobody.
        logging.disable(logging.INFO)
        # Nothing leaves the simulation: no worker is asked to deliver the alerts and pushes
        # its brands cause (they stay rows of the scratch database, dropped with it).
        setattr(nudge, "request", lambda name: None)
        call_command("migrate", verbosity=0, interactive=False)
        try:
            result = strategy_run(strategy, run)
        except SimulationError as exc:
            raise CommandError(str(exc)) from None
        out.write_text(json.dumps({**result, "options": asdict(run)}))
