"""The same amount parser behind every entry point: the Celery task, record_spend and the
CSV import refuse what the API refuses, with the same reason, and store nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from ads.models import SpendEvent
from ads.tasks import record_spend
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
HOSTILE = [
    ("99999999999999999999999.0000001", "more than 6 decimal places"),
    ("1E+999999999999999999", "plain decimal notation"),
    ("1e3", "plain decimal notation"),
    ("1_000", "plain decimal notation"),
    ("\u0661\u0662", "plain decimal notation"),
]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.mark.parametrize(("amount", "reason"), HOSTILE)
def test_the_task_rejects_the_item_with_the_reason(amount: str, reason: str) -> None:
    campaign = make_campaign(make_brand())
    item = {
        "campaign": campaign.pk,
        "amount": amount,
        "occurred_at": NOON.isoformat(),
        "source": "queue",
        "event_id": "q-1",
    }

    result = record_spend.apply(kwargs={"events": [item]}).get()

    assert result["rejected"] == 1
    assert reason in result["results"][0]["reason"]
    assert not SpendEvent.objects.exists()


def test_the_task_refuses_a_float_amount_rather_than_guessing_its_digits() -> None:
    campaign = make_campaign(make_brand())
    item = {
        "campaign": campaign.pk,
        "amount": 0.1,
        "occurred_at": NOON.isoformat(),
        "source": "queue",
        "event_id": "q-1",
    }

    result = record_spend.apply(kwargs={"events": [item]}).get()

    assert result["results"][0]["status"] == "rejected"
    assert not SpendEvent.objects.exists()


@pytest.mark.parametrize(("amount", "reason"), HOSTILE)
def test_record_spend_refuses_with_the_reason(amount: str, reason: str) -> None:
    campaign = make_campaign(make_brand())

    with pytest.raises(CommandError, match="rejected: .*") as error:
        call_command("record_spend", "--campaign", str(campaign.pk), "--amount", amount)

    assert reason in str(error.value)
    assert not SpendEvent.objects.exists()


def test_import_spend_rejects_each_hostile_row_by_line_and_keeps_the_good_one(
    tmp_path: Path,
) -> None:
    campaign = make_campaign(make_brand())
    rows = [f"{campaign.pk},5.00,{NOON.isoformat()},good"] + [
        f"{campaign.pk},{amount},{NOON.isoformat()},bad-{n}"
        for n, (amount, _) in enumerate(HOSTILE)
    ]
    path = tmp_path / "spend.csv"
    path.write_text("campaign,amount,occurred_at,event_id\n" + "\n".join(rows) + "\n")
    out = StringIO()

    with pytest.raises(CommandError, match=f"{len(HOSTILE)} row\\(s\\) rejected"):
        call_command("import_spend", str(path), stdout=out)

    for line, (_, reason) in enumerate(HOSTILE, start=3):
        assert f"line {line}: amount" in out.getvalue()
        assert reason in out.getvalue()
    assert list(SpendEvent.objects.values_list("external_id", flat=True)) == ["good"]
