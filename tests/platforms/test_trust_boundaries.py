"""What a staff member of one brand can make the platform adapters do: reach no machine the
egress policy refuses, read back nothing a server answered, use no other brand's credentials.
Every connection made here goes to a receiver or fake on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from ads.core import http
from ads.models import AccountHealth, AdAccount, CampaignPlatformState, Platform, PlatformDelivery
from ads.platforms.base import PlatformError
from ads.platforms.google_ads import GoogleAdsAdapter
from ads.platforms.meta import MetaAdapter
from ads.platforms.outbox import deliveries_push
from ads.platforms.registry import adapter_for
from ads.services.campaigns import campaigns_set_enabled
from tests.factories import make_brand
from tests.platforms.conftest import WEBHOOK_SECRET, linked_campaigns
from tests.platforms.webhook_receiver import Answer, WebhookReceiver

pytestmark = pytest.mark.django_db
AT = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
NONE_ALLOWED = override_settings(OUTBOUND_ALLOWED_NETWORKS=())
LOOPBACK_ALLOWED = override_settings(
    OUTBOUND_ALLOWED_NETWORKS=(ipaddress.ip_network("127.0.0.0/8"),)
)


def pause_all(account: AdAccount, count: int = 1) -> list[int]:
    ids = [c.pk for c in linked_campaigns(account, count)]
    campaigns_set_enabled(campaign_ids=ids, enabled=False, at=AT, actor="staff")
    return ids


def webhook_account(url: str, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> AdAccount:
    monkeypatch.setenv("TEST_WEBHOOK", json.dumps({"secret": WEBHOOK_SECRET}))
    return AdAccount.objects.create(
        brand=kwargs.get("brand") or make_brand(daily="100", monthly="1000"),
        name="Agency system",
        platform=Platform.WEBHOOK,
        account_id=url,
        credentials_env=kwargs.get("variable", "TEST_WEBHOOK"),
    )


# --- SSRF: a webhook account pointed inside ------------------------------------------------


@NONE_ALLOWED
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://10.0.0.7/hook",
        "https://[::ffff:169.254.169.254]/",
    ],
)
def test_a_webhook_account_saved_around_validation_sends_nothing_inside(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    connected: list[object] = []
    monkeypatch.setattr("urllib3.util.connection.create_connection", connected.append)
    account = webhook_account(url, monkeypatch)
    pause_all(account)

    report = deliveries_push(at=AT)

    assert connected == []
    assert report.failed == 1
    account.refresh_from_db()
    assert account.health == AccountHealth.FAILING
    assert account.last_error.startswith("webhook refused by the egress policy: ")
    assert PlatformDelivery.objects.get().last_error == account.last_error


def test_what_a_receiver_answers_is_never_read_back_to_staff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inside = b'{"secret": "instance-role-token", "failed": "not a list"}'
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        account = webhook_account(receiver.url, monkeypatch)
        receiver.script = [Answer(500, {"leak": inside.decode()}), Answer(404, {"x": "leak"})]
        ids = pause_all(account)
        deliveries_push(at=AT)
        row = PlatformDelivery.objects.get()
        first = row.last_error
        deliveries_push(at=row.next_attempt_at)

    row.refresh_from_db()
    account.refresh_from_db()
    state = CampaignPlatformState.objects.get(campaign_id=ids[0])
    assert first == "webhook answered HTTP 500: server error"
    assert row.last_error == state.last_error == "webhook answered HTTP 404: request refused"
    for shown in (first, row.last_error, state.last_error, account.last_error):
        assert "leak" not in shown and "secret" not in shown


def test_refused_campaigns_in_a_2xx_answer_keep_a_cut_printable_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        account = webhook_account(receiver.url, monkeypatch)
        ids = pause_all(account)
        platform_id = str(900_000 + ids[0])
        message = "budget locked\x1b[2J\r\n" + "x" * 2_000
        receiver.script = [Answer(200, {"failed": [{"id": platform_id, "message": message}]})]
        deliveries_push(at=AT)

    error = PlatformDelivery.objects.get().last_error
    assert error.startswith("budget locked") and "\x1b" not in error and "\n" not in error
    assert len(error) == 500


@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_from_a_webhook_receiver_is_never_followed(
    status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as inside, WebhookReceiver(WEBHOOK_SECRET) as hook:
        account = webhook_account(hook.url, monkeypatch)
        hook.script = [Answer(status, {}, {"Location": inside.url})]
        pause_all(account)
        deliveries_push(at=AT)
        assert inside.requests == [] and inside.rejected_signatures == 0

    row = PlatformDelivery.objects.get()
    assert row.state == "failed"
    assert row.last_error == f"webhook answered HTTP {status}, a redirect, which is never followed"


# --- Validation when an account is saved ----------------------------------------------------


@NONE_ALLOWED
def test_saving_a_webhook_account_at_an_internal_url_is_a_validation_error(
    dns: dict[str, list[str]],
) -> None:
    dns["hooks.agency.example"] = ["34.117.59.81"]
    dns["intranet.agency.example"] = ["10.8.0.4"]
    brand = make_brand("Brand B")
    account = AdAccount(
        brand=brand, name="x", platform=Platform.WEBHOOK, credentials_env="TEST_WEBHOOK"
    )
    account.account_id = "https://hooks.agency.example/ads"
    account.full_clean()

    for url, why in [
        ("http://127.0.0.1:9000/", "127.0.0.1 is a loopback address"),
        ("https://intranet.agency.example/", "resolves to 10.8.0.4, which is a private address"),
        ("http://hooks.agency.example/ads", "only https:// is allowed"),
    ]:
        account.account_id = url
        with pytest.raises(ValidationError) as caught:
            account.full_clean()
        (message,) = caught.value.message_dict["account_id"]
        assert message.startswith("This URL is refused: ") and why in message


@override_settings(
    PLATFORM_CREDENTIALS={"BRAND_A_WEBHOOK": frozenset({"Brand A"}), "TEST_WEBHOOK": {"*"}}
)
def test_another_brands_credentials_variable_is_refused_at_save_and_at_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    brand_b = make_brand("Brand B")
    account = AdAccount(
        brand=brand_b,
        name="hers",
        platform=Platform.WEBHOOK,
        account_id="http://127.0.0.1:9/",
        credentials_env="BRAND_A_WEBHOOK",
    )
    with pytest.raises(ValidationError) as caught:
        account.full_clean()
    assert caught.value.message_dict["credentials_env"] == [
        "BRAND_A_WEBHOOK is not bound to the brand 'Brand B'; an administrator binds it in "
        'PLATFORM_CREDENTIALS, e.g. {"BRAND_A_WEBHOOK": ["Brand B"]}.'
    ]

    # Saved around the form: the send refuses it and no signature is made with brand A's key.
    monkeypatch.setenv("BRAND_A_WEBHOOK", json.dumps({"secret": "brand-a-secret"}))
    with WebhookReceiver("brand-a-secret") as brand_a_receiver:
        account.account_id = brand_a_receiver.url
        account.save()
        pause_all(account)
        report = deliveries_push(at=AT)
        assert brand_a_receiver.requests == [] and brand_a_receiver.rejected_signatures == 0
    assert report.due == 1 and report.delivered == 0
    account.refresh_from_db()
    assert account.health == AccountHealth.FAILING
    assert "BRAND_A_WEBHOOK is not bound to the brand 'Brand B'" in account.last_error


def test_the_admin_form_refuses_an_unbound_variable_and_an_internal_url(
    admin_client: Any,
) -> None:
    brand = make_brand("Brand B")
    with override_settings(OUTBOUND_ALLOWED_NETWORKS=(), PLATFORM_CREDENTIALS={}):
        response = admin_client.post(
            "/admin/ads/adaccount/add/",
            {
                "brand": brand.pk,
                "name": "x",
                "platform": "webhook",
                "account_id": "http://169.254.169.254/",
                "enabled": "on",
                "credentials_env": "BRAND_A_WEBHOOK",
            },
        )
    assert response.status_code == 200 and not AdAccount.objects.exists()
    page = response.content.decode()
    assert "169.254.169.254 is a link-local" in page
    assert "BRAND_A_WEBHOOK is not bound to the brand" in page


# --- Endpoint overrides in credentials -------------------------------------------------------


@LOOPBACK_ALLOWED
def test_meta_honours_graph_url_only_inside_the_allowed_networks(
    dns: dict[str, list[str]],
) -> None:
    dns["graph.attacker.example"] = ["93.184.216.34"]
    with pytest.raises(PlatformError, match="graph_url refused: .*outside OUTBOUND_ALLOWED") as e:
        MetaAdapter(
            account_id="act_1",
            credentials={"access_token": "t", "graph_url": "https://graph.attacker.example"},
        )
    assert e.value.auth
    adapter = MetaAdapter(
        account_id="act_1", credentials={"access_token": "t", "graph_url": "http://127.0.0.1:9"}
    )
    # The SDK's own session is replaced by the one that asks the egress policy.
    assert isinstance(adapter.api._session.requests, http.EgressSession)


@LOOPBACK_ALLOWED
@pytest.mark.parametrize("key", ["endpoint", "insecure_endpoint"])
def test_google_ads_honours_endpoint_overrides_only_inside_the_allowed_networks(
    key: str, dns: dict[str, list[str]]
) -> None:
    dns["ads.attacker.example"] = ["93.184.216.34"]
    with pytest.raises(PlatformError, match=f"{key} refused: .*outside OUTBOUND_ALLOWED"):
        GoogleAdsAdapter(
            customer_id="1",
            credentials={
                "developer_token": "d",
                "client_id": "c",
                "client_secret": "s",
                "refresh_token": "r",
                key: "ads.attacker.example:443",
            },
        )


@NONE_ALLOWED
def test_google_ads_connects_to_the_checked_address_of_its_endpoint_with_tls(
    dns: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import grpc

    opened: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        grpc,
        "secure_channel",
        lambda target, creds, options: opened.append((target, dict(options))),
    )
    monkeypatch.setattr(grpc, "intercept_channel", lambda channel, *interceptors: channel)
    dns["googleads.googleapis.com"] = ["142.250.74.42", "2a00:1450:4001:82b::200a"]
    adapter = GoogleAdsAdapter(
        customer_id="1",
        credentials={
            "developer_token": "d",
            "client_id": "c",
            "client_secret": "s",
            "refresh_token": "r",
        },
    )

    adapter._channel()  # channels connect lazily: nothing was sent anywhere

    ((target, options),) = opened
    assert target == "ipv4:142.250.74.42:443"
    assert options["grpc.ssl_target_name_override"] == "googleads.googleapis.com"
    assert options["grpc.default_authority"] == "googleads.googleapis.com"
    assert options["grpc.enable_http_proxy"] == 0


@NONE_ALLOWED
def test_google_ads_refuses_an_endpoint_that_resolves_inside(
    dns: dict[str, list[str]], google_account: AdAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    dns["googleads.googleapis.com"] = ["10.0.0.3"]  # a poisoned or split-horizon answer
    monkeypatch.setenv(
        "TEST_GOOGLE_ADS",
        json.dumps(
            {"developer_token": "d", "client_id": "c", "client_secret": "s", "refresh_token": "r"}
        ),
    )
    adapter = adapter_for(google_account)
    with pytest.raises(
        PlatformError, match="resolves to 10.0.0.3, which is a private address"
    ) as caught:
        adapter.read_statuses(["1"])
    assert caught.value.auth and not caught.value.retryable


def test_metas_own_words_about_a_refused_token_stay_in_the_debug_log(
    meta_account: AdAccount, meta: Any
) -> None:
    ids = pause_all(meta_account)
    meta.fake.statuses.update({str(900_000 + i): "ACTIVE" for i in ids})
    meta.fake.access_token = "another-token"
    deliveries_push(at=AT)
    meta_account.refresh_from_db()
    assert meta_account.last_error == ("Meta answered HTTP 400: request refused (error code 190)")
