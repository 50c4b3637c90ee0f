"""The bench's proofs: every total equals what was sent, to the micro-unit, and
``verify_totals`` finds every total equal to the ledger. A difference fails the bench."""

from __future__ import annotations

import time
from collections import defaultdict

from django.db import connection
from django.utils import timezone

from ads.core.money import from_micros
from ads.core.sql import in_ids
from ads.models import Campaign, SpendPeriod
from ads.services.verify import totals_verify
from devtools.bench.state import Bench, BenchError


def check_totals(bench: Bench) -> None:
    """Every campaign's and brand's totals equal what was sent, to the micro-unit."""
    bench.say("6. checking every total against what was sent ...")
    campaigns_clause, params = in_ids("c.brand_id", bench.brand_ids)
    brands_clause, _ = in_ids("b.id", bench.brand_ids)
    day = SpendPeriod.DAY.value
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.campaign_id, SUM(t.amount) FROM ads_campaignperiodspend t "
            f"JOIN ads_campaign c ON c.id = t.campaign_id WHERE {campaigns_clause} "
            f"AND t.period = '{day}' GROUP BY t.campaign_id",
            params,
        )
        by_campaign = {row[0]: int(row[1]) for row in cursor.fetchall()}
        cursor.execute(
            "SELECT e.campaign_id, SUM(e.amount), COUNT(*) FROM ads_spendevent e "
            f"JOIN ads_campaign c ON c.id = e.campaign_id WHERE {campaigns_clause} "
            "GROUP BY e.campaign_id",
            params,
        )
        ledger = {row[0]: (int(row[1]), int(row[2])) for row in cursor.fetchall()}
        cursor.execute(
            "SELECT t.brand_id, t.period, SUM(t.amount) FROM ads_brandperiodspend t "
            f"JOIN ads_brand b ON b.id = t.brand_id WHERE {brands_clause} "
            "GROUP BY t.brand_id, t.period",
            params,
        )
        brand_totals = {(row[0], row[1]): int(row[2]) for row in cursor.fetchall()}
    expected = {cid: micros for cid, micros in bench.sent.by_campaign.items() if micros}
    wrong = [
        cid
        for cid in set(expected) | set(by_campaign)
        if by_campaign.get(cid, 0) != expected.get(cid, 0)
        or ledger.get(cid, (0, 0))[0] != expected.get(cid, 0)
    ]
    brand_expected: dict[int, int] = defaultdict(int)
    campaign_brand = dict(
        Campaign.objects.filter(id__in=list(expected)).values_list("id", "brand_id")
    )
    for cid, micros in expected.items():
        brand_expected[campaign_brand[cid]] += micros
    wrong_brands = [
        bid
        for bid, micros in brand_expected.items()
        if brand_totals.get((bid, SpendPeriod.DAY), 0) != micros
        or brand_totals.get((bid, SpendPeriod.MONTH), 0) != micros
    ]
    events = sum(count for _, count in ledger.values())
    if wrong or wrong_brands or events != bench.sent.count:
        raise BenchError(
            f"TOTALS DO NOT MATCH WHAT WAS SENT: {len(wrong)} campaigns, "
            f"{len(wrong_brands)} brands wrong; {events} events stored of "
            f"{bench.sent.count} sent"
        )
    total = from_micros(sum(expected.values()))
    bench.figure("exactness", "events stored / sent", f"{events} / {bench.sent.count}")
    bench.figure("exactness", "spend stored = sent (every campaign and brand)", f"{total}")
    bench.figure("exactness", "lost or double-counted", 0, "", "0", True)


def verify_step(bench: Bench) -> None:
    """``verify_totals`` after all the bench's writes: every total in the database against
    the ledger, all periods and the current month, timed; a difference fails the bench."""
    bench.say("7. verify_totals: every period total against the ledger ...")
    at = timezone.now()
    for label, since in (("all periods", None), ("current month", at.date().replace(day=1))):
        started = time.perf_counter()
        result = totals_verify(at=at, since=since, actor="bench")
        seconds = time.perf_counter() - started
        checked = f"{result.checked['campaign']:,} campaign + {result.checked['brand']:,} brand"
        bench.figure(
            "verify_totals",
            f"{label}: time",
            f"{seconds:.3f} s for {checked} totals",
            "",
            "< 10 s",
            seconds < 10,
        )
        drift = len(result.differences)
        bench.figure("verify_totals", f"{label}: differences", drift, "", "0", drift == 0)
        if drift:
            raise BenchError(
                f"verify_totals found {drift} totals that differ from the ledger, "
                f"e.g. {result.differences[0].describe()}"
            )
    bench.say("   no drift found")
