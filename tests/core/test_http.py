"""The outbound HTTP client: it connects to the addresses the egress policy checked, still
verifying TLS against the name; it follows no redirect and no proxy from the environment.
Every server here listens on 127.0.0.1 (the test settings allow loopback)."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ads.core import egress, http


class Server:
    """An HTTP(S) server on 127.0.0.1 that records each request's Host header."""

    def __init__(self, context: ssl.SSLContext | None = None, status: int = 200) -> None:
        self.hosts: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                server.hosts.append(self.headers["Host"])
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def certificate_for(name: str, folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` (and its key), made for this test only."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    cert, key = certificate_for("hooks.test", tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = Server(context)
    yield server, cert
    server.close()


@pytest.fixture
def plain_server() -> Iterator[Server]:
    server = Server()
    yield server
    server.close()


def test_tls_goes_to_the_checked_address_and_verifies_the_name(
    tls_server: tuple[Server, Path], dns: dict[str, list[str]]
) -> None:
    server, cert = tls_server
    dns["hooks.test"] = ["127.0.0.1"]
    session = http.session()
    session.verify = str(cert)

    response = session.post(f"https://hooks.test:{server.port}/hook", data=b"{}", timeout=5)

    assert response.status_code == 200
    assert server.hosts == [f"hooks.test:{server.port}"]


def test_tls_to_a_name_the_certificate_does_not_carry_fails(
    tls_server: tuple[Server, Path], dns: dict[str, list[str]]
) -> None:
    server, cert = tls_server
    dns["impostor.test"] = ["127.0.0.1"]  # same address, another name: the check is by name
    session = http.session()
    session.verify = str(cert)

    with pytest.raises(requests.exceptions.SSLError):
        session.post(f"https://impostor.test:{server.port}/hook", data=b"{}", timeout=5)
    assert server.hosts == []


def test_the_socket_is_opened_to_the_checked_address_never_to_the_name(
    plain_server: Server, dns: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib3.util.connection

    opened: list[Any] = []
    real = urllib3.util.connection.create_connection

    def recording(address: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", recording)
    looked_up: list[str] = []
    dns["receiver.test"] = ["127.0.0.1"]
    stub = egress.resolver

    def counting(host: str, port: int) -> Any:
        looked_up.append(host)
        return stub(host, port)

    monkeypatch.setattr(egress, "resolver", counting)
    response = http.session().post(f"http://receiver.test:{plain_server.port}/x", data=b"1")

    assert response.status_code == 200
    assert opened == [("127.0.0.1", plain_server.port)]
    assert looked_up == ["receiver.test"]
    assert plain_server.hosts == [f"receiver.test:{plain_server.port}"]


def test_an_address_that_refuses_the_connection_gives_way_to_the_next_checked_one(
    plain_server: Server, dns: dict[str, list[str]]
) -> None:
    dns["both.test"] = ["::1", "127.0.0.1"]  # nothing listens on [::1] at that port
    response = http.session().post(f"http://both.test:{plain_server.port}/x", data=b"1")
    assert response.status_code == 200 and len(plain_server.hosts) == 1


def test_proxies_from_the_environment_are_ignored(
    plain_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy would be the one connecting (and could be anywhere); the policy must decide.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    response = http.session().post(f"http://127.0.0.1:{plain_server.port}/x", data=b"1")
    assert response.status_code == 200


def test_a_refused_destination_raises_before_any_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.test import override_settings

    with override_settings(OUTBOUND_ALLOWED_NETWORKS=()):
        with pytest.raises(egress.EgressRefused, match="loopback"):
            http.session().post("http://127.0.0.1:9/x", data=b"1")


@pytest.mark.parametrize(
    "status, message, retryable, auth",
    [
        (500, "answered HTTP 500: server error", True, False),
        (502, "answered HTTP 502: server error", True, False),
        (429, "answered HTTP 429: throttled", True, False),
        (401, "answered HTTP 401: credentials or signature refused", False, True),
        (403, "answered HTTP 403: credentials or signature refused", False, True),
        (404, "answered HTTP 404: request refused", False, False),
        (418, "answered HTTP 418: request refused", False, False),
    ],
)
def test_answers_are_fixed_messages_per_class(
    status: int, message: str, retryable: bool, auth: bool
) -> None:
    failure = http.status_failure(status, {"Retry-After": "7"})
    assert (failure.message, failure.retryable, failure.auth) == (message, retryable, auth)


def test_a_post_that_is_not_answered_2xx_raises_a_fixed_failure() -> None:
    server = Server(status=503)
    try:
        with pytest.raises(http.HttpFailure, match="answered HTTP 503: server error"):
            http.post(
                http.session(),
                f"http://127.0.0.1:{server.port}/x",
                body=b"{}",
                headers={},
                timeout=5,
                what="test",
            )
    finally:
        server.close()


def test_printable_drops_control_characters_and_cuts() -> None:
    assert http.printable("ok\x1b[31m\nred\x00", 100) == "ok[31mred"
    assert len(http.printable("x" * 2_000)) == 500
