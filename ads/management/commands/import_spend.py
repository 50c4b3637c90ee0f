import csv
import hashlib
import os
from argparse import ArgumentParser
from collections.abc import Iterator
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError
from django.db import reset_queries
from django.utils import timezone
from tqdm import tqdm

from ads.services.ingest import spend_ingest
from ads.services.spend import EventStatus

BATCH = 1000
# tqdm's monitor thread only watches for stalled bars; without it the command stays
# single-threaded (and so do the tests that fork after running it).
tqdm.monitor_interval = 0
SHOWN_PROBLEMS = 100
COLUMNS = {"campaign", "campaign_external_id", "brand", "amount", "occurred_at", "event_id"}
OPTIONAL = {"source", "currency"}


def _lines(handle: TextIO, progress: tqdm) -> Iterator[str]:  # type: ignore[type-arg]
    for line in handle:
        progress.update(len(line.encode()))
        yield line


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

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["file"]
        dry_run: bool = options["dry_run"]
        try:
            handle = open(path, newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        counts = {status: 0 for status in EventStatus}
        problems: list[tuple[int, str | None]] = []

        def problem(line: int, reason: str | None) -> None:
            counts[EventStatus.REJECTED] += 1
            if len(problems) < SHOWN_PROBLEMS:
                problems.append((line, reason))

        def flush(batch: list[tuple[int, dict[str, Any]]]) -> None:
            result = spend_ingest(
                items=[item for _, item in batch],
                at=timezone.now(),
                actor="manage.py import_spend",
                dry_run=dry_run,
            )
            for (line, _), outcome in zip(batch, result.outcomes):
                if outcome.status == EventStatus.REJECTED:
                    problem(line, outcome.reason)
                else:
                    counts[outcome.status] += 1
            batch.clear()
            # With DEBUG on, Django keeps the last 9,000 queries with their parameters; at
            # 1,000 rows a batch that is most of the memory of a large import.
            reset_queries()

        with (
            handle,
            tqdm(
                total=os.path.getsize(path), unit="B", unit_scale=True, desc="import", disable=None
            ) as progress,
        ):
            reader = csv.DictReader(_lines(handle, progress))
            header = set(reader.fieldnames or [])
            unknown = header - COLUMNS - OPTIONAL
            if unknown or not {"amount", "occurred_at"} <= header:
                raise CommandError(
                    f"{path}: the header must name amount, occurred_at, and campaign or "
                    f"campaign_external_id; unknown columns: {sorted(unknown) or 'none'}"
                )
            batch: list[tuple[int, dict[str, Any]]] = []
            for row in reader:
                item = _item(row, reader.line_num, options["source"])
                if isinstance(item, str):
                    problem(reader.line_num, item)
                    continue
                batch.append((reader.line_num, item))
                if len(batch) >= BATCH:
                    flush(batch)
            if batch:
                flush(batch)

        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            f"import_spend {path}: {verb} {counts[EventStatus.ACCEPTED]}, "
            f"{counts[EventStatus.DUPLICATE]} already recorded, "
            f"{counts[EventStatus.REJECTED]} rejected."
        )
        if problems:
            self.stdout.write("\n".join(f"  line {n}: {why}" for n, why in sorted(problems)))
            hidden = counts[EventStatus.REJECTED] - len(problems)
            if hidden > 0:
                self.stdout.write(f"  ... and {hidden} more")
            raise CommandError(
                f"{counts[EventStatus.REJECTED]} row(s) rejected; the other rows were "
                f"{'checked' if dry_run else 'imported'}"
            )
