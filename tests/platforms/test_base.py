from __future__ import annotations

import json
from pathlib import Path

import pytest

from ads.models import AdAccount
from ads.platforms.base import PlatformError, account_credentials, is_loopback_url


def test_credentials_come_from_the_variable_or_the_file_it_names(tmp_path: Path) -> None:
    account = AdAccount(credentials_env="ACME_META")
    assert account_credentials(account, {"ACME_META": '{"access_token": "a"}'}) == {
        "access_token": "a"
    }
    path = tmp_path / "meta.json"
    path.write_text(json.dumps({"access_token": "b"}))
    assert account_credentials(account, {"ACME_META_FILE": str(path)}) == {"access_token": "b"}


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
        account_credentials(AdAccount(credentials_env="ACME_META"), environ)
    assert caught.value.auth and not caught.value.retryable


def test_plain_text_endpoints_are_for_this_machine_only() -> None:
    assert is_loopback_url("127.0.0.1:5000") and is_loopback_url("http://localhost:8080/x")
    assert not is_loopback_url("googleads.googleapis.com:443")
    assert not is_loopback_url("http://10.0.0.5:8080")
