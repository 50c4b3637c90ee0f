"""The set-based plumbing: rows go to the database and come back exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.db import connection

from ads.core.sql import in_ids, rows_cte

pytestmark = pytest.mark.django_db

AWKWARD = ["plain", 'with "quotes"', "back\\slash", "comma,brace{}", "", "NULL", "ünïcødé ✓"]


def test_text_survives_the_round_trip_whatever_it_contains() -> None:
    cte, params = rows_cte("v", (("n", "bigint"), ("t", "text")), list(enumerate(AWKWARD)))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {cte} SELECT n, t FROM v ORDER BY n", params)
        rows = cursor.fetchall()
    assert [text for _, text in rows] == AWKWARD


def test_nulls_dates_and_instants_survive_the_round_trip() -> None:
    far_east = timezone(timedelta(hours=13, minutes=45))
    instant = datetime(2026, 6, 10, 23, 30, tzinfo=far_east)
    rows = [(1, None, date(2026, 6, 10), instant), (2, 7, date(2026, 1, 31), instant)]
    cte, params = rows_cte(
        "v", (("n", "bigint"), ("x", "bigint"), ("d", "date"), ("at", "timestamptz")), rows
    )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {cte} SELECT n, x, d, at FROM v ORDER BY n", params)
        fetched = cursor.fetchall()
    assert [row[1] for row in fetched] == [None, 7]
    assert [str(row[2]) for row in fetched] == ["2026-06-10", "2026-01-31"]
    for row in fetched:
        value = row[3]
        if isinstance(value, str):  # SQLite hands back what Django stores: UTC, no offset
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        assert value == instant


def test_in_ids_takes_any_number_of_ids_as_one_parameter() -> None:
    ids = list(range(1, 5001))
    clause, params = in_ids("n", ids)
    cte, cte_params = rows_cte("v", (("n", "bigint"),), [(n,) for n in range(0, 10001, 2)])
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {cte} SELECT COUNT(*) FROM v WHERE {clause}", cte_params + params)
        (count,) = cursor.fetchone()
    assert len(params) == 1
    assert count == 2500
