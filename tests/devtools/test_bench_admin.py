"""manage.py bench_admin: renders the console's pages and prints time and query counts."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings

from ads.models import SpendEvent
from tests.factories import make_brand, make_campaign

pytestmark = pytest.mark.django_db


def test_prints_every_page_with_its_query_count_after_recording_spend() -> None:
    User.objects.create_superuser("root", "root@example.com", "pw")
    for index in range(3):
        make_campaign(make_brand(daily="100"), f"C{index}")
    out = StringIO()

    call_command("bench_admin", "--spend", "--runs", "1", stdout=out)

    text = out.getvalue()
    assert "recorded spend for 3 campaigns" in text
    assert SpendEvent.objects.filter(source="bench-admin").count() == 3
    for page in ("dashboard", "brand list", "campaign list", "campaign page"):
        assert f"  {page} " in text
    assert text.count(" queries ") == 8


def test_needs_a_superuser() -> None:
    with pytest.raises(CommandError, match="needs a superuser"):
        call_command("bench_admin", stdout=StringIO())


@override_settings(SECURE_SSL_REDIRECT=True)
def test_on_production_settings_it_measures_the_pages_not_the_redirect_to_https() -> None:
    User.objects.create_superuser("root", "root@example.com", "pw")
    make_campaign(make_brand(daily="100"), "C0")
    out = StringIO()

    call_command("bench_admin", "--runs", "1", stdout=out)

    assert out.getvalue().count(" queries ") == 8
