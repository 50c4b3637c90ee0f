"""What the sweep commands share: --dry-run, and the printed report (what changed, then
where all campaigns stand)."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ads.core.transactions import entry_point
from ads.models import JobName, JobTrigger
from ads.services.job_runs import JobBusy, job_run, sweep_figures
from ads.services.rule import ReconcileResult, Transition
from ads.services.selectors.operators import campaign_states

SHOWN_TRANSITIONS = 50


def describe(transition: Transition, *, dry_run: bool) -> str:
    verb = {"paused": "pause", "resumed": "resume", "reason_changed": "re-reason"}[transition.kind]
    before = transition.from_reason or transition.from_status
    after = transition.to_reason or transition.to_status
    prefix = "would " if dry_run else ""
    return (
        f"  {prefix}{verb} campaign {transition.campaign_id} ({transition.campaign_name}): "
        f"{before} -> {after}"
    )


def report_lines(result: ReconcileResult, *, name: str) -> list[str]:
    mode = "dry run, nothing changed" if result.dry_run else "applied"
    lines = [
        f"{name} at {result.at.isoformat()} ({mode}): {result.checked} campaigns checked, "
        f"{result.count('paused')} paused, {result.count('resumed')} resumed, "
        f"{result.count('reason_changed')} changed reason."
    ]
    for reason, count in sorted(result.paused_by_reason().items()):
        lines.append(f"  paused for {reason}: {count}")
    for transition in result.transitions[:SHOWN_TRANSITIONS]:
        lines.append(describe(transition, dry_run=result.dry_run))
    hidden = len(result.transitions) - SHOWN_TRANSITIONS
    if hidden > 0:
        lines.append(f"  ... and {hidden} more (see the audit table)")
    return lines


class SweepCommand(BaseCommand):
    """Runs one sweep in this process (no worker or broker needed) and prints its report."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print the transitions that would be made, and change nothing.",
        )

    def sweep(self, *, at: datetime, dry_run: bool, options: dict[str, Any]) -> ReconcileResult:
        raise NotImplementedError

    def extra_lines(self, result: ReconcileResult, options: dict[str, Any]) -> list[str]:
        return []

    def job_name(self, options: dict[str, Any]) -> JobName:
        raise NotImplementedError

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        name = self.__module__.rsplit(".", 1)[-1]
        at = timezone.now()
        if options["dry_run"]:
            result = self.sweep(at=at, dry_run=True, options=options)
        else:
            # A real run is recorded in the job history, like beat's (dry runs change nothing).
            try:
                result = job_run(
                    job=self.job_name(options),
                    trigger=JobTrigger.COMMAND,
                    actor=f"manage.py {name}",
                    at=at,
                    work=lambda when: self.sweep(at=when, dry_run=False, options=options),
                    figures=sweep_figures,
                )
            except JobBusy as exc:
                raise CommandError(f"{exc}; nothing done") from None
        lines = report_lines(result, name=name)
        lines[1:1] = self.extra_lines(result, options)
        # The transitions say what changed; this says where things stand.
        when = "now (nothing changed)" if result.dry_run else "after the run"
        lines.append(f"state {when}: {campaign_states().line()}")
        self.stdout.write("\n".join(lines))
