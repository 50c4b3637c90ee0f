"""The staff console: every page renders, and every save or action is enforced at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.db.models import Model
from django.test import Client

from ads.models import (
    Brand,
    BrandPeriodSpend,
    Campaign,
    CampaignPeriodSpend,
    CampaignStatusChange,
    DaypartSchedule,
    DaypartWindow,
    SpendEvent,
)
from ads.services.campaigns import campaigns_set_enabled
from tests.factories import make_brand, make_campaign, make_schedule, spend, state

if TYPE_CHECKING:
    # What django.test.Client returns (a stub-only name): a response with .context.
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

# Wednesday 2026-06-10, noon UTC. The admin reads django.utils.timezone.now(); the clock is
# frozen here so spend recorded in a test and the admin's enforcement share one instant.
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
WEDNESDAY = 2
RUNNING = ("running", None)


def paused(reason: str) -> tuple[str, str]:
    return ("paused", reason)


class _FormFields(HTMLParser):
    """What a browser would submit from one form of a page (without any submit button)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, list[str]] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def _add(self, name: str | None, value: str) -> None:
        if name and "__prefix__" not in name:  # skip the inline's template row
            self.fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input":
            kind = (attributes.get("type") or "text").lower()
            if kind in {"submit", "button", "reset", "image", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attributes:
                    self._add(name, attributes.get("value") or "on")
                return
            self._add(name, attributes.get("value") or "")
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select is not None:
            value = attributes.get("value") or ""
            if self._select_first is None:
                self._select_first = value
            if "selected" in attributes:
                self._add(self._select, value)
                self._select_chosen = True
        elif tag == "textarea":
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None:
                self._add(self._select, self._select_first)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self._add(self._textarea, text[1:] if text.startswith("\n") else text)
            self._textarea = None


def form_values(client: Client, url: str, form_id: str) -> dict[str, Any]:
    """GET an admin form page and return the values its form would post."""
    response = client.get(url)
    assert response.status_code == 200
    parser = _FormFields(form_id)
    parser.feed(response.content.decode())
    assert parser.fields, f"no form {form_id!r} on {url}"
    return {
        name: values[0] if len(values) == 1 else values for name, values in parser.fields.items()
    }


def save(client: Client, url: str, data: dict[str, Any]) -> Response:
    return client.post(url, {**data, "_save": "Save"})


def form_errors(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, "expected the form again, with errors"
    errors: dict[str, Any] = response.context["adminform"].form.errors
    return errors


def formset_errors(response: Response) -> list[str]:
    assert response.status_code == 200, "expected the form again, with errors"
    errors: list[str] = []
    for inline in response.context["inline_admin_formsets"]:
        errors += list(inline.formset.non_form_errors())
    return errors


def change_url(obj: Model) -> str:
    return f"/admin/ads/{obj._meta.model_name}/{obj.pk}/change/"


@pytest.fixture
def staff(admin_client: Client, admin_user: User) -> Iterator[Client]:
    with time_machine.travel(NOON, tick=False):
        admin_client.force_login(admin_user)  # the session is made at the frozen instant
        yield admin_client


@pytest.fixture
def populated() -> dict[str, Model]:
    """One row in every table: a brand whose only campaign paused on its spend."""
    schedule = make_schedule(*[(day, "00:00", "00:00") for day in range(7)], name="Always")
    brand = make_brand("Acme", daily="100", monthly="1000")
    campaign = make_campaign(brand, "Summer", schedule=schedule)
    spend(campaign, "100", at=NOON)
    assert state(campaign) == paused("brand_daily_budget")
    return {
        "brand": brand,
        "campaign": campaign,
        "daypartschedule": schedule,
        "spendevent": SpendEvent.objects.get(),
        "campaignstatuschange": CampaignStatusChange.objects.get(),
        "campaignperiodspend": CampaignPeriodSpend.objects.get(campaign=campaign, period="day"),
        "brandperiodspend": BrandPeriodSpend.objects.get(brand=brand, period="day"),
    }


ALL_MODELS = [
    "brand",
    "campaign",
    "daypartschedule",
    "spendevent",
    "campaignstatuschange",
    "campaignperiodspend",
    "brandperiodspend",
]
EDITABLE_MODELS = ["brand", "campaign", "daypartschedule"]
READ_ONLY_MODELS = ["spendevent", "campaignstatuschange", "campaignperiodspend", "brandperiodspend"]


# Pages


@pytest.mark.parametrize("model", ALL_MODELS)
def test_every_changelist_renders_its_rows(
    staff: Client, populated: dict[str, Model], model: str
) -> None:
    response = staff.get(f"/admin/ads/{model}/")

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", ALL_MODELS)
def test_every_changelist_search_finds_by_name(
    staff: Client, populated: dict[str, Model], model: str
) -> None:
    term = "Always" if model == "daypartschedule" else "Acme"

    found = staff.get(f"/admin/ads/{model}/", {"q": term})
    missing = staff.get(f"/admin/ads/{model}/", {"q": "no such name"})

    assert found.status_code == 200 and missing.status_code == 200
    assert found.context["cl"].result_count >= 1
    assert missing.context["cl"].result_count == 0


def test_the_admin_index_lists_the_app(staff: Client) -> None:
    response = staff.get("/admin/")

    assert response.status_code == 200
    assert b"/admin/ads/campaign/" in response.content


@pytest.mark.parametrize("model", EDITABLE_MODELS)
def test_add_page_of_an_editable_model_renders(staff: Client, model: str) -> None:
    response = staff.get(f"/admin/ads/{model}/add/")

    assert response.status_code == 200
    assert f'id="{model}_form"'.encode() in response.content


@pytest.mark.parametrize("model", EDITABLE_MODELS)
def test_change_page_of_an_editable_model_renders(
    staff: Client, populated: dict[str, Model], model: str
) -> None:
    response = staff.get(change_url(populated[model]))

    assert response.status_code == 200
    assert b'name="_save"' in response.content


def test_campaign_change_page_shows_engine_fields_read_only_and_the_history(
    staff: Client, populated: dict[str, Model]
) -> None:
    values = form_values(staff, change_url(populated["campaign"]), "campaign_form")
    page = staff.get(change_url(populated["campaign"])).content.decode()

    assert not {"status", "pause_reason", "status_changed_at"} & set(values)
    assert "Spend recorded: running → Brand daily budget reached" in page
    assert '<table class="snapshot">' in page and "brand_day_spend" not in page


@pytest.mark.parametrize("model", READ_ONLY_MODELS)
def test_read_only_models_cannot_be_added(staff: Client, model: str) -> None:
    assert staff.get(f"/admin/ads/{model}/add/").status_code == 403


@pytest.mark.parametrize("model", READ_ONLY_MODELS)
def test_read_only_models_can_be_viewed_but_not_changed_or_deleted(
    staff: Client, populated: dict[str, Model], model: str
) -> None:
    obj = populated[model]
    url = change_url(obj)
    before = type(obj)._default_manager.count()

    assert staff.get(url).status_code == 200
    assert staff.post(url, {}).status_code == 403
    assert staff.post(url.replace("/change/", "/delete/"), {"post": "yes"}).status_code == 403
    assert type(obj)._default_manager.count() == before


def test_the_spend_ledger_cannot_be_bulk_deleted_from_the_changelist(
    staff: Client, populated: dict[str, Model]
) -> None:
    event = populated["spendevent"]

    staff.post(
        "/admin/ads/spendevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )

    assert SpendEvent.objects.filter(pk=event.pk).exists()


# Campaign form


def test_unchecking_enabled_in_the_campaign_form_pauses_it_at_once(staff: Client) -> None:
    campaign = make_campaign(make_brand(), "Summer")
    url = change_url(campaign)
    values = form_values(staff, url, "campaign_form")
    assert values.pop("enabled") == "on"

    response = save(staff, url, values)

    assert response.status_code == 302
    assert state(campaign) == paused("manual")
    assert campaign.enabled is False
    assert campaign.status_changed_at == NOON
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert (change.from_status, change.to_status, change.reason) == ("running", "paused", "manual")
    assert (change.trigger, change.actor) == ("setup", "admin")


def test_checking_enabled_again_in_the_campaign_form_resumes_it_at_once(staff: Client) -> None:
    campaign = make_campaign(make_brand(), "Summer", enabled=False)
    campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=False, at=NOON, actor="alice")
    assert state(campaign) == paused("manual")
    url = change_url(campaign)
    values = form_values(staff, url, "campaign_form")
    assert "enabled" not in values

    response = save(staff, url, {**values, "enabled": "on"})

    assert response.status_code == 302
    assert state(campaign) == RUNNING
    latest = CampaignStatusChange.objects.filter(campaign=campaign).first()
    assert latest is not None
    assert (latest.to_status, latest.trigger, latest.actor) == ("running", "setup", "admin")


def test_adding_a_campaign_outside_its_schedule_pauses_it_at_once(staff: Client) -> None:
    brand = make_brand()
    mondays = make_schedule((0, "09:00", "10:00"))  # NOON is a Wednesday
    values = form_values(staff, "/admin/ads/campaign/add/", "campaign_form")
    values.update(brand=brand.pk, name="Monday mornings", schedule=mondays.pk, daily_budget="5")

    response = save(staff, "/admin/ads/campaign/add/", values)

    assert response.status_code == 302
    campaign = Campaign.objects.get(name="Monday mornings")
    assert state(campaign) == paused("outside_schedule")
    assert campaign.daily_budget == Decimal("5")
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert (change.trigger, change.actor) == ("setup", "admin")


def test_campaign_form_refuses_a_cap_with_seven_decimal_places(staff: Client) -> None:
    campaign = make_campaign(make_brand(), "Summer")
    url = change_url(campaign)
    values = form_values(staff, url, "campaign_form")

    response = save(staff, url, {**values, "daily_budget": "1.0000001"})

    assert "daily_budget" in form_errors(response)
    campaign.refresh_from_db()
    assert campaign.daily_budget is None


def test_campaign_form_refuses_a_monthly_cap_below_the_daily_cap(staff: Client) -> None:
    campaign = make_campaign(make_brand(), "Summer")
    url = change_url(campaign)
    values = form_values(staff, url, "campaign_form")

    response = save(staff, url, {**values, "daily_budget": "50", "monthly_budget": "40"})

    assert "monthly_budget" in form_errors(response)
    campaign.refresh_from_db()
    assert (campaign.daily_budget, campaign.monthly_budget) == (None, None)


def test_lowering_a_campaign_cap_below_todays_spend_pauses_it_at_once(staff: Client) -> None:
    campaign = make_campaign(make_brand(daily="1000", monthly="10000"), "Summer")
    spend(campaign, "30", at=NOON)
    url = change_url(campaign)
    values = form_values(staff, url, "campaign_form")

    response = save(staff, url, {**values, "daily_budget": "25"})

    assert response.status_code == 302
    assert state(campaign) == paused("campaign_daily_budget")


def test_moving_a_campaign_with_spend_to_another_brand_shows_a_form_error(
    staff: Client,
) -> None:
    home, other = make_brand("Home"), make_brand("Other")
    campaign = make_campaign(home, "Summer")
    spend(campaign, "5", at=NOON)
    url = change_url(campaign)
    values = form_values(staff, url, "campaign_form")

    response = save(staff, url, {**values, "brand": other.pk})

    assert "brand" in form_errors(response)
    campaign.refresh_from_db()
    assert campaign.brand_id == home.pk


def test_a_stale_campaign_form_cannot_undo_an_engine_pause(staff: Client) -> None:
    brand = make_brand(daily="100", monthly="1000")
    campaign = make_campaign(brand, "Summer")
    url = change_url(campaign)
    stale = form_values(staff, url, "campaign_form")  # loaded while it was running

    spend(campaign, "150", at=NOON)
    assert state(campaign) == paused("brand_daily_budget")
    changes_before = CampaignStatusChange.objects.filter(campaign=campaign).count()

    response = save(staff, url, {**stale, "name": "Summer (renamed)"})

    assert response.status_code == 302
    assert state(campaign) == paused("brand_daily_budget")
    assert campaign.name == "Summer (renamed)"
    assert CampaignStatusChange.objects.filter(campaign=campaign).count() == changes_before


# Campaign actions


def test_pause_action_pauses_the_selected_campaigns_at_once(staff: Client) -> None:
    brand = make_brand()
    first, second, untouched = (make_campaign(brand) for _ in range(3))

    response = staff.post(
        "/admin/ads/campaign/",
        {"action": "pause_campaigns", "_selected_action": [first.pk, second.pk], "post": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    assert state(first) == paused("manual") and state(second) == paused("manual")
    assert state(untouched) == RUNNING
    assert first.enabled is False and untouched.enabled is True
    changes = CampaignStatusChange.objects.all()
    assert {c.campaign_id for c in changes} == {first.pk, second.pk}
    assert {(c.trigger, c.actor, c.reason) for c in changes} == {("staff", "admin", "manual")}
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert "2 campaign(s) paused by staff." in shown


def test_resume_action_resumes_the_selected_campaigns_at_once(staff: Client) -> None:
    brand = make_brand()
    first, second = make_campaign(brand), make_campaign(brand)
    campaigns_set_enabled(campaign_ids=[first.pk, second.pk], enabled=False, at=NOON, actor="alice")

    response = staff.post(
        "/admin/ads/campaign/",
        {"action": "resume_campaigns", "_selected_action": [first.pk], "post": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    assert state(first) == RUNNING and first.enabled is True
    assert state(second) == paused("manual")
    latest = CampaignStatusChange.objects.filter(campaign=first).first()
    assert latest is not None
    assert (latest.to_status, latest.trigger, latest.actor) == ("running", "staff", "admin")


def test_resume_action_keeps_a_campaign_over_budget_paused_with_the_budget_reason(
    staff: Client,
) -> None:
    campaign = make_campaign(make_brand(daily="100", monthly="1000"))
    campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=False, at=NOON, actor="alice")
    spend(campaign, "150", at=NOON)

    response = staff.post(
        "/admin/ads/campaign/",
        {"action": "resume_campaigns", "_selected_action": [campaign.pk], "post": "yes"},
        follow=True,
    )

    assert state(campaign) == paused("brand_daily_budget")
    assert campaign.enabled is True
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert (
        "Staff pause lifted on 1 campaign(s): 0 now run; 1 stay paused (1 brand daily budget "
        "reached) and resume by themselves when that ends." in shown
    )


# Brand form


def test_raising_the_brand_daily_budget_resumes_campaigns_paused_for_it(staff: Client) -> None:
    brand = make_brand(daily="100", monthly="1000")
    first, second = make_campaign(brand), make_campaign(brand)
    spend(first, "100", at=NOON)
    assert state(first) == paused("brand_daily_budget")
    assert state(second) == paused("brand_daily_budget")
    url = change_url(brand)
    values = form_values(staff, url, "brand_form")

    response = save(staff, url, {**values, "daily_budget": "200"})

    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.daily_budget == Decimal("200")
    assert state(first) == RUNNING and state(second) == RUNNING
    resumes = CampaignStatusChange.objects.filter(to_status="running")
    assert {(c.trigger, c.actor, c.from_reason) for c in resumes} == {
        ("setup", "admin", "brand_daily_budget")
    }
    assert resumes.count() == 2


def test_lowering_the_brand_daily_budget_below_todays_spend_pauses_at_once(
    staff: Client,
) -> None:
    brand = make_brand(daily="100", monthly="1000")
    campaign = make_campaign(brand)
    spend(campaign, "60", at=NOON)
    url = change_url(brand)
    values = form_values(staff, url, "brand_form")

    response = save(staff, url, {**values, "daily_budget": "50"})

    assert response.status_code == 302
    assert state(campaign) == paused("brand_daily_budget")
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Enforced at once: 1 campaign(s) changed state." in shown


def test_the_time_zone_of_a_brand_with_spend_is_read_only_with_the_reason(staff: Client) -> None:
    brand = make_brand(daily="100", monthly="1000")
    spend(make_campaign(brand), "10", at=NOON)
    url = change_url(brand)
    values = form_values(staff, url, "brand_form")

    response = save(staff, url, {**values, "timezone": "Europe/Berlin", "daily_budget": "300"})

    assert "timezone" not in values
    assert "Fixed: the brand has recorded spend" in staff.get(url).content.decode()
    assert response.status_code == 302
    stored = Brand.objects.get(pk=brand.pk)
    assert (stored.timezone, stored.daily_budget) == ("UTC", Decimal("300"))


def test_changing_the_time_zone_of_a_brand_without_spend_is_allowed(staff: Client) -> None:
    brand = make_brand()
    make_campaign(brand)
    url = change_url(brand)
    values = form_values(staff, url, "brand_form")

    response = save(staff, url, {**values, "timezone": "Europe/Berlin"})

    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.timezone == "Europe/Berlin"


def test_brand_form_refuses_an_unknown_time_zone_and_currency(staff: Client) -> None:
    values = form_values(staff, "/admin/ads/brand/add/", "brand_form")
    values.update(
        name="Mars", timezone="Mars/Base", currency="XYZ", daily_budget="1", monthly_budget="1"
    )

    response = save(staff, "/admin/ads/brand/add/", values)

    assert {"timezone", "currency"} <= set(form_errors(response))
    assert not Brand.objects.filter(name="Mars").exists()


# Schedule form


def window_rows(*windows: tuple[int, str, str], prefix: str = "windows") -> dict[str, Any]:
    data: dict[str, Any] = {f"{prefix}-TOTAL_FORMS": str(len(windows))}
    for index, (weekday, start, end) in enumerate(windows):
        data[f"{prefix}-{index}-weekday"] = str(weekday)
        data[f"{prefix}-{index}-start_time"] = start
        data[f"{prefix}-{index}-end_time"] = end
    return data


def test_a_schedule_with_overlapping_windows_is_refused_and_nothing_is_stored(
    staff: Client,
) -> None:
    values = form_values(staff, "/admin/ads/daypartschedule/add/", "daypartschedule_form")
    values.update(name="Busy")
    values.update(window_rows((0, "09:00", "12:00"), (0, "11:00", "13:00")))

    response = save(staff, "/admin/ads/daypartschedule/add/", values)

    errors = formset_errors(response)
    assert any("Windows overlap" in error for error in errors)
    assert not DaypartSchedule.objects.exists()
    assert not DaypartWindow.objects.exists()


def test_a_schedule_overlapping_across_the_week_boundary_is_refused(staff: Client) -> None:
    values = form_values(staff, "/admin/ads/daypartschedule/add/", "daypartschedule_form")
    values.update(name="Weekend nights")
    values.update(window_rows((6, "22:00", "02:00"), (0, "01:00", "03:00")))

    response = save(staff, "/admin/ads/daypartschedule/add/", values)

    assert any("Windows overlap" in error for error in formset_errors(response))
    assert not DaypartSchedule.objects.exists()


def test_adding_an_overlapping_window_to_a_used_schedule_changes_nothing(staff: Client) -> None:
    schedule = make_schedule((WEDNESDAY, "09:00", "17:00"))
    campaign = make_campaign(make_brand(), schedule=schedule)
    url = change_url(schedule)
    values = form_values(staff, url, "daypartschedule_form")
    values.update(
        {
            "windows-TOTAL_FORMS": "2",
            "windows-1-weekday": str(WEDNESDAY),
            "windows-1-start_time": "16:00",
            "windows-1-end_time": "18:00",
        }
    )

    response = save(staff, url, values)

    assert any("Windows overlap" in error for error in formset_errors(response))
    assert [str(w) for w in schedule.windows.all()] == ["Wednesday 09:00-17:00"]
    assert state(campaign) == RUNNING


def test_adjacent_windows_are_saved(staff: Client) -> None:
    values = form_values(staff, "/admin/ads/daypartschedule/add/", "daypartschedule_form")
    values.update(name="Split")
    values.update(window_rows((0, "09:00", "12:00"), (0, "12:00", "15:00")))

    response = save(staff, "/admin/ads/daypartschedule/add/", values)

    assert response.status_code == 302
    schedule = DaypartSchedule.objects.get(name="Split")
    assert [str(w) for w in schedule.windows.all()] == ["Monday 09:00-12:00", "Monday 12:00-15:00"]


def test_closing_the_current_window_of_a_schedule_pauses_its_campaigns_at_once(
    staff: Client,
) -> None:
    schedule = make_schedule((WEDNESDAY, "09:00", "17:00"))
    campaign = make_campaign(make_brand(), schedule=schedule)
    url = change_url(schedule)
    values = form_values(staff, url, "daypartschedule_form")
    values.update({"windows-0-start_time": "13:00"})  # NOON is now outside

    response = save(staff, url, values)

    assert response.status_code == 302
    assert state(campaign) == paused("outside_schedule")
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert (change.trigger, change.actor) == ("setup", "admin")


def test_a_missing_end_time_among_several_windows_shows_a_field_error(staff: Client) -> None:
    values = form_values(staff, "/admin/ads/daypartschedule/add/", "daypartschedule_form")
    values.update(name="Half filled")
    values.update(window_rows((0, "09:00", "12:00"), (1, "09:00", "")))

    response = save(staff, "/admin/ads/daypartschedule/add/", values)

    assert response.status_code == 200
    assert not DaypartSchedule.objects.exists()


def test_deleting_a_schedule_used_by_a_campaign_is_refused(staff: Client) -> None:
    schedule = make_schedule((WEDNESDAY, "09:00", "17:00"))
    make_campaign(make_brand(), schedule=schedule)

    response = staff.post(f"/admin/ads/daypartschedule/{schedule.pk}/delete/", {"post": "yes"})

    assert response.status_code == 200  # the "cannot delete" page
    assert DaypartSchedule.objects.filter(pk=schedule.pk).exists()
