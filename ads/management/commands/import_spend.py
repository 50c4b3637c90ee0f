import codecs
import csv
import hashlib
import os
from argparse import ArgumentParser
from collections.abc import Iterator
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, reset_queries
from django.utils import timezone
from tqdm import tqdm

from ads.core.transactions import entry_point
from ads.services.ingest import spend_ingest
from ads.services.rule import Transition
from ads.services.spend_events import EventStatus

BATCH = 1000
# tqdm's monitor thread only watches for stalled bars; without it the command stays
# single-threaded (and so do the tests that fork after running it).
tqdm.monitor_interval = 0
SHOWN_PROBLEMS = 100
COLUMNS = {"campaign", "campaign_external_id", "brand", "amount", "occurred_at", "event_id"}
OPTIONAL = {"source", "currency"}


class _Stop(Exception):
    """The file cannot be read on from here; what came before is kept."""


class _DatabaseStop(_Stop):
    """A batch failed in the database (and rolled back as a whole)."""


class _Lines:
    """The file's lines decoded one by one, so a bad byte is reported with its line number
    (a text-mode file would fail on a whole block, somewhere after the rows it had read)."""

    def __init__(self, handle: BinaryIO, progress: tqdm) -> None:  # type: ignore[type-arg]
        self.handle, self.progress, self.number = handle, progress, 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.number += 1
            self.progress.update(len(raw))
            if self.number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _Stop(
                    f"line {self.number}: byte 0x{raw[exc.start]:02x} at column {exc.start + 1} "
                    "is not UTF-8 (save the file as UTF-8)"
                ) from None


def _item(row: dict[str, str], line: int, default_source: str) -> dict[str, Any] | str:
    """The row as an API item, or why it cannot be one."""
    item: dict[str, Any] = {k: v.strip() for k, v in row.items() if k and v and v.strip()}
    if None in row:
        return "more fields than the header has"
    if "campaign" in item:
        if not item["campaign"].isdigit():
            return f"campaign {item['campaign']!r} is not a campaign id"
        item["campaign"] = int(item["campaign"])
    if isinstance(item.get("brand"), str) and item["brand"].isdigit():
        item["brand"] = int(item["brand"])
    item.setdefault("source", default_source)
    if "event_id" not in item:
        # Stable across re-imports of the same file: the line and what is on it.
        digest = hashlib.sha256(repr(sorted(item.items())).encode()).hexdigest()[:16]
        item["event_id"] = f"line{line}-{digest}"
    return item


class Command(BaseCommand):
    help = (
        "Import spend events from a CSV file with a header row. Columns: campaign (id) or "
        "campaign_external_id (with brand when ambiguous), amount, occurred_at (ISO-8601 with "
        "offset), and optionally event_id, source, currency. Good rows are imported in "
        "batches; bad rows are reported by line number. Re-importing a file adds nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="Path of the CSV file.")
        parser.add_argument(
            "--source", default="csv", help="Source of rows without a source column (csv)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and write nothing."
        )

    @entry_point
    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["file"]
        dry_run: bool = options["dry_run"]
        try:
            handle = open(path, "rb")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        counts = {status: 0 for status in EventStatus}
        problems: list[tuple[int, str | None]] = []
        transitions: list[Transition] = []

        def problem(line: int, reason: str | None, status: EventStatus) -> None:
            # A row not imported (rejected, or conflicting with a recorded event): counted,
            # and listed by line up to SHOWN_PROBLEMS.
            counts[status] += 1
            if len(problems) < SHOWN_PROBLEMS:
                problems.append((line, reason))

        def flush(batch: list[tuple[int, dict[str, Any]]]) -> None:
            try:
                result = spend_ingest(
                    items=[item for _, item in batch],
                    at=timezone.now(),
                    actor="manage.py import_spend",
                    dry_run=dry_run,
                    # A backfill: the reporting lags are not learned from these rows.
                    backfill=True,
                )
            except DatabaseError as exc:
                # This batch rolled back as a whole; earlier batches are committed.
                raise _DatabaseStop(
                    f"lines {batch[0][0]}-{batch[-1][0]}: the database failed "
                    f"({type(exc).__name__}: {str(exc).strip().splitlines()[0]})"
                ) from exc
            for (line, _), outcome in zip(batch, result.outcomes):
                if outcome.status in (EventStatus.REJECTED, EventStatus.CONFLICT):
                    problem(line, outcome.reason, outcome.status)
                else:
                    counts[outcome.status] += 1
            transitions.extend(result.transitions)
            batch.clear()
            # With DEBUG on, Django keeps the last 9,000 queries with their parameters; at
            # 1,000 rows a batch that is most of the memory of a large import.
            reset_queries()

        stopped: str | None = None
        with (
            handle,
            tqdm(
                total=os.path.getsize(path), unit="B", unit_scale=True, desc="import", disable=None
            ) as progress,
        ):
            lines = _Lines(handle, progress)
            reader = csv.DictReader(lines)
            try:
                header = set(reader.fieldnames or [])
            except (_Stop, csv.Error) as exc:
                raise CommandError(f"{path}: cannot read the header: {exc}") from None
            unknown = header - COLUMNS - OPTIONAL
            if unknown or not {"amount", "occurred_at"} <= header:
                raise CommandError(
                    f"{path}: the header must name amount, occurred_at, and campaign or "
                    f"campaign_external_id; unknown columns: {sorted(unknown) or 'none'}"
                )
            batch: list[tuple[int, dict[str, Any]]] = []
            try:
                for row in reader:
                    item = _item(row, reader.line_num, options["source"])
                    if isinstance(item, str):
                        problem(reader.line_num, item, EventStatus.REJECTED)
                        continue
                    batch.append((reader.line_num, item))
                    if len(batch) >= BATCH:
                        flush(batch)
            except csv.Error as exc:
                stopped = f"line {lines.number}: {exc}"
            except _DatabaseStop as exc:
                stopped = str(exc)
                batch.clear()
            except _Stop as exc:
                stopped = str(exc)
            if batch:
                # The rows read before a bad line are good: store them, so that what the
                # summary says is kept is everything before the line it names.
                try:
                    flush(batch)
                except _Stop as exc:
                    stopped = str(exc)
        self._report(path, dry_run, counts, problems, transitions, stopped)

    def _report(
        self,
        path: str,
        dry_run: bool,
        counts: dict[EventStatus, int],
        problems: list[tuple[int, str | None]],
        transitions: list[Transition],
        stopped: str | None,
    ) -> None:
        """The same summary however the import ends: what was stored, what was refused and
        why, which campaigns moved, and why it stopped early if it did."""
        verb = "would import" if dry_run else "imported"
        conflicts = counts[EventStatus.CONFLICT]
        self.stdout.write(
            f"import_spend {path}: {verb} {counts[EventStatus.ACCEPTED]}, "
            f"{counts[EventStatus.DUPLICATE]} already recorded, "
            + (f"{conflicts} conflicting with recorded events, " if conflicts else "")
            + f"{counts[EventStatus.REJECTED]} rejected."
        )
        paused = [t for t in transitions if t.kind == "paused"]
        if paused:
            shown = ", ".join(f"{t.campaign_id} ({t.campaign_name})" for t in paused[:20])
            more = f" and {len(paused) - 20} more" if len(paused) > 20 else ""
            would = "would pause" if dry_run else "paused"
            self.stdout.write(f"  {would} {len(paused)} campaign(s): {shown}{more}")
        if problems:
            self.stdout.write("\n".join(f"  line {n}: {why}" for n, why in sorted(problems)))
            hidden = counts[EventStatus.REJECTED] + counts[EventStatus.CONFLICT] - len(problems)
            if hidden > 0:
                self.stdout.write(f"  ... and {hidden} more")
        if stopped is not None:
            kept = "nothing was written" if dry_run else "the rows before it are stored"
            raise CommandError(
                f"stopped at {stopped}; {kept}. Fix it and run the same command again: rows "
                "already stored count as already recorded"
            )
        if counts[EventStatus.REJECTED] or conflicts:
            refused = (
                f"{counts[EventStatus.REJECTED]} row(s) rejected"
                if not conflicts
                else f"{counts[EventStatus.REJECTED]} row(s) rejected and {conflicts} conflicting"
            )
            raise CommandError(
                f"{refused}; the other rows were {'checked' if dry_run else 'imported'}"
            )
