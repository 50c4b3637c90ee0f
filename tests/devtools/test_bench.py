"""The benchmark, scaled down: it must check exactness and clean up; speed is not tested."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ads.models import ApiToken, Brand, Campaign, DaypartSchedule, SpendEvent


def run_bench(tmp_path: Path, *args: str) -> tuple[str, dict[str, dict[str, Any]]]:
    out = StringIO()
    path = tmp_path / "bench.json"
    call_command("bench", "--campaigns", "60", "--json", str(path), *args, stdout=out)
    figures = {f["metric"]: f for f in json.loads(path.read_text())["figures"]}
    return out.getvalue(), figures


def assert_exact_and_clean(figures: dict[str, dict[str, Any]]) -> None:
    stored, sent = figures["events stored / sent"]["value"].split(" / ")
    assert stored == sent and int(sent) > 0
    assert figures["lost or double-counted"]["ok"] is True
    assert figures["paused when the recording call returned"]["value"] == "yes"
    assert figures["steady: same query count at both sizes"]["ok"] is True
    assert figures["all periods: differences"]["value"] == 0  # verify_totals
    assert figures["current month: differences"]["ok"] is True
    assert not Brand.objects.filter(name__startswith="Bench ").exists()
    assert not DaypartSchedule.objects.filter(name__startswith="Bench ").exists()
    assert not Campaign.objects.exists() and not SpendEvent.objects.exists()


@pytest.mark.django_db
def test_a_small_bench_in_one_process_checks_every_total_and_removes_its_data(
    tmp_path: Path,
) -> None:
    out, figures = run_bench(
        tmp_path,
        "--events",
        "700",
        "--processes",
        "1",
        "--no-http",
        "--single-events",
        "5",
        "--pgbench-seconds",
        "0",
        "--workers",
        "0",
    )

    assert_exact_and_clean(figures)
    assert figures["campaigns created"]["value"] == 60
    assert "| exactness | lost or double-counted | 0" in out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_small_bench_with_processes_and_http_checks_every_total(tmp_path: Path) -> None:
    _, figures = run_bench(
        tmp_path,
        "--events",
        "1200",
        "--processes",
        "2",
        "--http-events",
        "1000",
        "--http-single",
        "40",
        "--http-workers",
        "1",
        "--http-clients",
        "2",
        "--single-events",
        "20",
        "--pgbench-seconds",
        "1",
        "--workers",
        "2",
    )

    assert_exact_and_clean(figures)
    assert figures["batched: events/s"]["value"] > 0
    assert figures["events/s through spend_record, 1 client"]["value"] > 0
    assert "pgbench -N -c 1 (commits/s)" in figures or "pgbench -N -c 1" in figures
    split = [f for name, f in figures.items() if name.startswith("steady, 2 workers")]
    assert len(split) == 1 and "0 moved" in split[0]["metric"]
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_the_bench_refuses_sizes_that_cannot_run() -> None:
    with pytest.raises(CommandError, match="--campaigns must be >= 10"):
        call_command("bench", "--campaigns", "5")
