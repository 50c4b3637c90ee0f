from __future__ import annotations

from ads.core.signing import sign, verify_signature

BODY = b'{"sent_at":"2026-06-10T12:00:00+00:00","campaigns":[{"id":"1","status":"paused"}]}'


def test_a_receiver_accepts_the_signature_of_the_exact_body_and_timestamp() -> None:
    signature = sign("secret", 1_780_000_000, BODY)
    assert signature.startswith("v1=") and len(signature) == 3 + 64
    assert verify_signature(
        secret="secret",
        body=BODY,
        timestamp_header="1780000000",
        signature_header=signature,
        now=1_780_000_010,
    )


def test_a_receiver_refuses_a_changed_body_another_secret_or_an_old_timestamp() -> None:
    signature = sign("secret", 1_780_000_000, BODY)
    checks = [
        dict(body=BODY.replace(b"paused", b"running"), secret="secret", now=1_780_000_000),
        dict(body=BODY, secret="other", now=1_780_000_000),
        dict(body=BODY, secret="secret", now=1_780_000_000 + 301),
    ]
    for check in checks:
        assert not verify_signature(
            secret=str(check["secret"]),
            body=check["body"],  # type: ignore[arg-type]
            timestamp_header="1780000000",
            signature_header=signature,
            now=float(check["now"]),  # type: ignore[arg-type]
        )
    assert not verify_signature(
        secret="secret", body=BODY, timestamp_header=None, signature_header=signature, now=0
    )
