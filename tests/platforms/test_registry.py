from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import override_settings

from ads.models import AdAccount, Brand
from ads.platforms.base import PlatformError
from ads.platforms.registry import account_credentials

ACME = {"ACME_META": frozenset({"Acme"})}


def acme_account(variable: str = "ACME_META") -> AdAccount:
    return AdAccount(brand=Brand(name="Acme"), credentials_env=variable)


@override_settings(PLATFORM_CREDENTIALS=ACME)
def test_credentials_come_from_the_variable_or_the_file_it_names(tmp_path: Path) -> None:
    account = acme_account()
    assert account_credentials(account, {"ACME_META": '{"access_token": "a"}'}) == {
        "access_token": "a"
    }
    path = tmp_path / "meta.json"
    path.write_text(json.dumps({"access_token": "b"}))
    assert account_credentials(account, {"ACME_META_FILE": str(path)}) == {"access_token": "b"}


@override_settings(PLATFORM_CREDENTIALS=ACME)
@pytest.mark.parametrize(
    "environ, message",
    [
        ({}, r"set ACME_META \(JSON\) or ACME_META_FILE"),
        ({"ACME_META": "not json"}, "are not JSON"),
        ({"ACME_META": "[1]"}, "must be a JSON object"),
        ({"ACME_META_FILE": "/nonexistent/meta.json"}, "cannot read ACME_META_FILE"),
    ],
)
def test_missing_or_bad_credentials_are_an_auth_error_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(PlatformError, match=message) as caught:
        account_credentials(acme_account(), environ)
    assert caught.value.auth and not caught.value.retryable


@pytest.mark.parametrize(
    "bindings",
    [
        {},  # PLATFORM_CREDENTIALS unset: no variable may be used
        {"ACME_META": frozenset({"Other brand"})},  # bound to another brand
        {"OTHER_META": frozenset({"*"})},  # only other variables are bound
    ],
)
def test_credentials_not_bound_to_the_accounts_brand_are_refused_before_they_are_read(
    bindings: dict[str, frozenset[str]],
) -> None:
    environ = {"ACME_META": '{"access_token": "brand A secret"}'}
    with override_settings(PLATFORM_CREDENTIALS=bindings):
        with pytest.raises(
            PlatformError, match="ACME_META is not bound to the brand 'Acme'"
        ) as caught:
            account_credentials(acme_account(), environ)
    assert caught.value.auth and not caught.value.retryable
    assert "brand A secret" not in caught.value.message


@override_settings(PLATFORM_CREDENTIALS={"AGENCY_WEBHOOK": frozenset({"*"})})
def test_a_variable_bound_to_every_brand_serves_any_brand() -> None:
    environ = {"AGENCY_WEBHOOK": '{"secret": "s"}'}
    assert account_credentials(acme_account("AGENCY_WEBHOOK"), environ) == {"secret": "s"}


@override_settings(DEBUG=True, PLATFORM_CREDENTIALS={})
def test_debug_relaxes_no_binding() -> None:
    with pytest.raises(PlatformError, match="not bound"):
        account_credentials(acme_account(), {"ACME_META": '{"access_token": "a"}'})
