"""The management API's campaigns: a brand's list, create, change (caps, schedule, enabled,
name, external id), each enforced at once with its transitions, audited, If-Match."""

from __future__ import annotations

from typing import Any

import pytest

from ads.models import Campaign, ConfigChange
from tests.api.helpers import NOON
from tests.api.test_manage_brands import manager
from tests.factories import make_brand, make_campaign, make_schedule, spend, state

pytestmark = pytest.mark.django_db


def test_a_brands_list_holds_its_campaigns_with_their_settings() -> None:
    brand, other = make_brand("Acme"), make_brand("Globex")
    schedule = make_schedule((2, "06:00", "18:00"), name="Office hours")
    capped = make_campaign(brand, "Capped", daily="20", monthly="200", schedule=schedule)
    make_campaign(other, "Not mine")

    response = manager(brand).get(f"/campaigns?brand={brand.pk}")

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": capped.pk,
                "name": "Capped",
                "external_id": None,
                "brand": brand.pk,
                "enabled": True,
                "status": "running",
                "pause_reason": None,
                "daily_budget": "20.00",
                "monthly_budget": "200.00",
                "schedule": {"id": schedule.pk, "name": "Office hours"},
                "shared_budget": None,
            }
        ]
    }


def test_another_brands_list_is_a_404_and_a_list_needs_its_brand() -> None:
    brand, other = make_brand("Acme"), make_brand("Globex")
    client = manager(brand)

    assert client.get(f"/campaigns?brand={other.pk}").status_code == 404
    assert "Globex" not in client.get(f"/campaigns?brand={other.pk}").content.decode()
    assert client.get("/campaigns").status_code == 422
    assert client.get("/campaigns?brand=abc").status_code == 422
    mistyped = client.get(f"/campaigns?brand={brand.pk}&brnd={other.pk}")
    assert mistyped.status_code == 422
    assert mistyped.json()["detail"].startswith("brnd: unknown query parameter")


def test_creating_a_campaign_answers_its_state_with_an_etag_and_audits_it() -> None:
    brand = make_brand("Acme", currency="JPY", daily="10000", monthly="100000")

    response = manager(brand, name="sheet").post(
        "/campaigns",
        {"brand": brand.pk, "name": " Summer ", "external_id": "g-1", "daily_budget": "500"},
    )

    assert response.status_code == 201
    body = response.json()
    campaign = Campaign.objects.get()
    assert (body["id"], body["name"], body["external_id"]) == (campaign.pk, "Summer", "g-1")
    assert (body["daily_budget"], body["monthly_budget"], body["status"]) == (
        "500.00",
        None,
        "running",
    )
    assert body["transitions"] == []
    assert response["ETag"] == manager(brand).get(f"/campaigns/{campaign.pk}")["ETag"]
    change = ConfigChange.objects.get(object_type="campaign")
    assert (change.actor, change.action, change.object_id) == ("api:sheet", "created", campaign.pk)


def test_a_campaign_created_disabled_is_paused_manual_at_once() -> None:
    brand = make_brand("Acme")

    response = manager(brand).post(
        "/campaigns", {"brand": brand.pk, "name": "Later", "enabled": False}
    )

    assert response.status_code == 201
    campaign = Campaign.objects.get()
    assert response.json()["transitions"] == [
        {"campaign": campaign.pk, "to": "paused", "reason": "manual"}
    ]
    assert state(campaign) == ("paused", "manual")


@pytest.mark.parametrize(
    ("body", "field", "why"),
    [
        ({"name": ""}, "name", "must have 1 to 200 characters"),
        ({"name": "a\u0000b"}, "name", "NUL"),
        ({"name": "x" * 201}, "name", "must have 1 to 200 characters"),
        ({"name": "Dup"}, None, "already exists"),
        ({"name": "A", "daily_budget": "0"}, "daily_budget", "must be above zero"),
        ({"name": "A", "daily_budget": "1.001"}, "daily_budget", "at most 2 decimals"),
        ({"name": "A", "daily_budget": "20", "monthly_budget": "10"}, "monthly_budget", "below"),
        ({"name": "A", "schedule": 999999}, "schedule", "no schedule 999999"),
        ({"name": "A", "enabled": "yes"}, "enabled", "valid boolean"),
        ({"name": "A", "status": "running"}, "status", "Extra inputs"),
    ],
)
def test_a_bad_campaign_is_refused_naming_the_field_and_creates_nothing(
    body: dict[str, Any], field: str | None, why: str
) -> None:
    brand = make_brand("Acme")
    make_campaign(brand, "Dup")

    response = manager(brand).post("/campaigns", {"brand": brand.pk, **body})

    assert response.status_code == 422, response.json()
    detail = response.json()["detail"]
    assert why in detail
    if field is not None:
        assert detail.startswith(field)
    assert Campaign.objects.count() == 1
    assert not ConfigChange.objects.exists()


def test_a_campaign_for_another_brand_is_a_404() -> None:
    brand, other = make_brand("Acme"), make_brand("Globex")

    response = manager(brand).post("/campaigns", {"brand": other.pk, "name": "Sneaky"})

    assert response.status_code == 404
    assert response.json()["detail"] == f"no brand {other.pk} for this token"
    assert not Campaign.objects.exists()


def test_lowering_a_cap_below_todays_spend_pauses_it_and_answers_the_transition() -> None:
    brand = make_brand("Acme")
    campaign = make_campaign(brand, daily="50")
    spend(campaign, "30", at=NOON)

    response = manager(brand, name="sheet").patch(
        f"/campaigns/{campaign.pk}", {"daily_budget": "25"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["transitions"] == [
        {"campaign": campaign.pk, "to": "paused", "reason": "campaign_daily_budget"}
    ]
    assert (body["status"], body["pause_reason"]) == ("paused", "campaign_daily_budget")
    change = ConfigChange.objects.get(object_type="campaign")
    assert (change.actor, change.changes) == ("api:sheet", {"daily_budget": ["50.00", "25.00"]})


def test_null_clears_a_cap_and_the_schedule_and_fields_left_out_stay() -> None:
    brand = make_brand("Acme")
    schedule = make_schedule((2, "06:00", "07:00"))
    campaign = make_campaign(brand, "Keep", daily="5", monthly="50", schedule=schedule)
    spend(campaign, "10", at=NOON)
    assert state(campaign) == ("paused", "campaign_daily_budget")

    response = manager(brand).patch(
        f"/campaigns/{campaign.pk}", {"daily_budget": None, "schedule": None}
    )

    assert response.status_code == 200
    campaign.refresh_from_db()
    assert (campaign.name, campaign.daily_budget, campaign.schedule_id) == ("Keep", None, None)
    assert str(campaign.monthly_budget) == "50.00"
    assert response.json()["transitions"] == [
        {"campaign": campaign.pk, "to": "running", "reason": None}
    ]


def test_disabling_pauses_manual_and_enabling_resumes() -> None:
    brand = make_brand("Acme")
    campaign = make_campaign(brand)
    client = manager(brand)

    paused = client.patch(f"/campaigns/{campaign.pk}", {"enabled": False})
    resumed = client.patch(f"/campaigns/{campaign.pk}", {"enabled": True})

    assert paused.json()["transitions"] == [
        {"campaign": campaign.pk, "to": "paused", "reason": "manual"}
    ]
    assert resumed.json()["transitions"] == [
        {"campaign": campaign.pk, "to": "running", "reason": None}
    ]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"brand": 2}, "brand is read only"),
        ({"name": None}, "cannot be null"),
        ({"enabled": None}, "cannot be null"),
        ({"external_id": "taken"}, "already exists"),
    ],
)
def test_a_bad_change_is_refused_and_changes_nothing(body: dict[str, Any], why: str) -> None:
    brand = make_brand("Acme")
    make_campaign(brand, "Other").__class__.objects.filter(name="Other").update(external_id="taken")
    campaign = make_campaign(brand, "Mine")

    response = manager(brand).patch(f"/campaigns/{campaign.pk}", body)

    assert response.status_code == 422
    assert why in response.json()["detail"]
    campaign.refresh_from_db()
    assert (campaign.name, campaign.external_id, campaign.enabled) == ("Mine", None, True)


def test_another_brands_campaign_is_a_404_for_reads_and_writes() -> None:
    brand, other = make_brand("Acme"), make_brand("Globex")
    theirs = make_campaign(other, "Secret plan")
    client = manager(brand)

    for response in (
        client.get(f"/campaigns/{theirs.pk}"),
        client.patch(f"/campaigns/{theirs.pk}", {"name": "Mine now"}),
    ):
        assert response.status_code == 404
        assert "Secret plan" not in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.name == "Secret plan"


def test_if_match_guards_a_campaign_and_its_status_does_not_change_the_etag() -> None:
    brand = make_brand("Acme")
    campaign = make_campaign(brand, daily="20")
    client = manager(brand)
    tag = client.get(f"/campaigns/{campaign.pk}")["ETag"]
    spend(campaign, "25", at=NOON)  # pauses it: its settings, and so its ETag, stay

    raised = client.patch(f"/campaigns/{campaign.pk}", {"daily_budget": "30"}, if_match=tag)
    stale = client.patch(f"/campaigns/{campaign.pk}", {"daily_budget": "40"}, if_match=tag)

    assert raised.status_code == 200
    assert raised.json()["transitions"] == [
        {"campaign": campaign.pk, "to": "running", "reason": None}
    ]
    assert stale.status_code == 412
    campaign.refresh_from_db()
    assert str(campaign.daily_budget) == "30.00"
