"""If-Match on the management writes: the ETag of the last read, several tags, `*`, weak
tags never match, and two planners with the same ETag on PostgreSQL: one wins, the other
gets a 412 and changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from ads.models import Brand, ConfigChange, TokenScope
from tests.api.helpers import ON_POSTGRES, ApiClient
from tests.api.test_manage_brands import manager
from tests.api.test_manage_scopes import client_with
from tests.factories import make_brand


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "applies"),
    [
        ("{tag}", True),
        ('"other", {tag}', True),
        ("*", True),
        ("W/{tag}", False),
        ('"other"', False),
        ("", False),
    ],
)
def test_if_match_takes_the_current_etag_among_several_or_a_star(
    header: str, applies: bool
) -> None:
    brand = make_brand("Acme", daily="100")
    client = manager(brand)
    tag = client.get(f"/brands/{brand.pk}")["ETag"]

    response = client.patch(
        f"/brands/{brand.pk}", {"daily_budget": "80"}, if_match=header.format(tag=tag)
    )

    assert response.status_code == (200 if applies else 412)
    brand.refresh_from_db()
    assert str(brand.daily_budget) == ("80.00" if applies else "100.00")


@pytest.mark.django_db
def test_writes_need_manage_and_reads_need_read() -> None:
    brand = make_brand("Acme")
    reader, feeder = client_with(TokenScope.READ), client_with(TokenScope.INGEST)
    body = {"name": "F", "starts_on": "2026-06-10", "ends_on": "2026-06-11", "budget": "5"}

    assert reader.post(f"/brands/{brand.pk}/flights", body).status_code == 403
    assert reader.post("/campaigns", {"brand": brand.pk, "name": "x"}).status_code == 403
    assert reader.get(f"/brands/{brand.pk}/flights").status_code == 200
    for path in ("flights", "shared-budgets", "budget-changes"):
        refused = feeder.get(f"/brands/{brand.pk}/{path}")
        assert refused.status_code == 403
        assert refused.json()["detail"] == "this token lacks the `read` scope this endpoint needs"
    assert feeder.get(f"/campaigns?brand={brand.pk}").status_code == 403


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (row locks, concurrent writers)")
@pytest.mark.django_db(transaction=True)
def test_two_planners_with_the_same_etag_one_wins_and_the_other_gets_a_412() -> None:
    brand = make_brand("Acme", daily="100", monthly="1000")
    client = manager(brand)
    tag = client.get(f"/brands/{brand.pk}")["ETag"]
    secrets = [manager(brand, name=f"planner {n}").secret for n in range(2)]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def planner(secret: str | None, amount: str) -> Callable[[], None]:
        def run() -> None:
            try:
                start.wait()
                response = ApiClient(secret).patch(
                    f"/brands/{brand.pk}", {"daily_budget": amount}, if_match=tag
                )
                statuses.append(response.status_code)
            finally:
                connection.close()

        return run

    threads = [
        threading.Thread(target=planner(secret, amount))
        for secret, amount in zip(secrets, ("80", "90"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 412]
    assert ConfigChange.objects.filter(object_type="brand").count() == 1
    stored = Brand.objects.get(pk=brand.pk)
    assert str(stored.daily_budget) == ConfigChange.objects.get().changes["daily_budget"][1]
