"""The bench's ad platforms step, scaled down: its checks hold and it removes its data."""

from __future__ import annotations

from io import StringIO

import pytest

from ads.models import AdAccount, Brand, Campaign, PlatformDelivery
from devtools.bench.platforms import platform_step
from devtools.bench.state import Bench, Options


@pytest.mark.django_db
def test_the_platform_step_delivers_and_syncs_every_campaign_then_cleans_up() -> None:
    bench = Bench(Options(campaigns=50), StringIO())
    platform_step(bench)
    figures = {figure.metric: figure for figure in bench.figures}
    assert figures["pushes delivered / paused on the platform"].value == "50 / 50"
    assert figures["push: platform calls (mutate_campaigns)"].value == 1
    assert figures["sync: spend restated = platform's"].ok is True
    assert not Brand.objects.exists() and not Campaign.objects.exists()
    assert not AdAccount.objects.exists() and not PlatformDelivery.objects.exists()
