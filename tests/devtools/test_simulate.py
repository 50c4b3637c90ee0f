"""`manage.py simulate`: strategies through the real engine against platforms that report
late, on a scratch database; the same seed gives the same figures, and lag shows as the
overspend it causes."""

from __future__ import annotations

import json
import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ads.models import Brand
from devtools.simulate.run import Options, SimulationError, strategy_run

pytestmark = pytest.mark.django_db


def test_without_lag_the_stop_lands_each_day_and_month_on_budget() -> None:
    figures = strategy_run("hard_stop", Options(days=2, brands=2, lags={"realtime": 0}, seed=3))

    assert figures["name"] == "hard_stop"
    # The month's budget is two daily budgets here: each day capped, the month just over.
    assert 99.0 <= figures["ratio_min"] <= figures["ratio_max"] <= 103.0
    assert figures["day_ratio_max"] < 110.0
    assert figures["dark_brand_days"] == 0 and figures["budget_pushes"] == 0
    assert [row["budget"] for row in figures["brand_months"]] == ["2000.00", "2000.00"]
    assert Brand.objects.filter(name__startswith="sim hard_stop").count() == 2


def test_reporting_lag_shows_as_overspent_days() -> None:
    prompt = strategy_run(
        "hard_stop", Options(days=2, brands=3, lags={"g": 0}, seed=5), label="prompt"
    )
    late = strategy_run(
        "hard_stop", Options(days=2, brands=3, lags={"g": 180}, seed=5), label="late"
    )

    assert late["day_ratio_max"] > prompt["day_ratio_max"] + 10
    assert late["worst_overspend_pct"] > prompt["worst_overspend_pct"]
    assert late["recorded_pct"] < 100.0  # spend still on its way when the run ended


def test_strategies_not_built_yet_say_so() -> None:
    with pytest.raises(SimulationError, match="not built yet"):
        strategy_run("pacing", Options(days=1, brands=1))
    with pytest.raises(CommandError, match="'expected' is not built yet"):
        call_command("simulate", "--strategy", "hard_stop,expected", stdout=StringIO())
    with pytest.raises(CommandError, match="one of hard_stop, expected, pacing"):
        call_command("simulate", "--strategy", "guess", stdout=StringIO())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--lag", "meta"], "give source=minutes"),
        (["--lag", "meta=3000"], "minutes from 0 to 2880"),
        (["--days", "31"], "--days must be 1 to 30"),
        (["--brands", "0"], "--brands 1 to 200"),
    ],
)
def test_bad_options_are_refused_in_words(args: list[str], words: str) -> None:
    with pytest.raises(CommandError, match=words):
        call_command("simulate", *args, stdout=StringIO())


def test_the_worker_never_runs_on_the_configured_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ADS_SIMULATE_SCRATCH", raising=False)
    with pytest.raises(CommandError, match="only on the scratch database"):
        call_command("simulate", "--worker", "/tmp/x.json", stdout=StringIO())
    assert not Brand.objects.exists()


def test_the_command_runs_on_scratch_databases_and_repeats_its_figures() -> None:
    args = ["--days", "1", "--brands", "2", "--lag", "g=120", "--seed", "11"]
    first, second, table = StringIO(), StringIO(), StringIO()

    call_command("simulate", *args, "--json", stdout=first)
    call_command("simulate", *args, "--json", stdout=second)
    call_command("simulate", *args, stdout=table)

    one, two = json.loads(first.getvalue()), json.loads(second.getvalue())
    for document in (one, two):
        for strategy in document["strategies"]:
            strategy.pop("seconds")
    assert one == two
    assert (one["seed"], one["days"], one["brands"], one["lag"]) == (11, 1, 2, {"g": 120})
    assert one["strategies"][0]["name"] == "hard_stop"
    assert "| strategy | month min % |" in table.getvalue()
    assert "| hard_stop | " in table.getvalue()
    assert not Brand.objects.exists()  # nothing in the configured (here: the test) database
    assert "ADS_SIMULATE_SCRATCH" not in os.environ


def test_settling_daily_totals_are_recorded_as_adjustments_the_lags_are_learned_from() -> None:
    from datetime import timedelta

    from ads.models import SpendEvent, SpendKind, SpendSource
    from ads.services.lags import lags_learn
    from devtools.simulate.run import START

    options = Options(days=2, brands=2, lags={"meta": 600, "google_ads": 60}, seed=4)
    figures = strategy_run("hard_stop", options, label="settling")

    kinds = set(SpendEvent.objects.values_list("source", "kind").distinct())
    assert kinds == {("meta", SpendKind.ADJUSTMENT), ("google_ads", SpendKind.EVENT)}
    assert figures["recorded_pct"] < 100.0
    lags_learn(at=START + timedelta(days=2))
    learned = dict(SpendSource.objects.values_list("source", "learned_p95_minutes"))
    assert 30 <= (learned["google_ads"] or 0) <= 90
    assert (learned["meta"] or 0) >= 300
