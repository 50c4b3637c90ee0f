"""How every webhook this system sends is signed (platform status pushes and alerts), and how a
receiver checks it.

Two headers:

- ``X-Ads-Timestamp``: Unix seconds when it was signed;
- ``X-Ads-Signature``: ``v1=`` + hex HMAC-SHA256, keyed with the shared secret, of the
  timestamp, a dot, and the raw body bytes (``b"1767225600." + body``).

A receiver recomputes the signature over the bytes it received, compares in constant time,
and refuses timestamps further than a few minutes from its clock (replays);
``verify_signature`` does exactly that.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Ads-Timestamp"
SIGNATURE_HEADER = "X-Ads-Signature"
SIGNATURE_VERSION = "v1"
# Receivers should refuse a timestamp further than this from their clock.
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Ads-Signature`` value for ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={digest.hexdigest()}"


def signed_headers(*, secret: str | None, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of a signed JSON POST; unsigned (timestamp only) when there is no secret
    (an alert webhook may have none)."""
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(timestamp)}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    return headers


def verify_signature(
    *,
    secret: str,
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """For receivers: whether a request is authentic and fresh. ``now`` is Unix seconds."""
    if not timestamp_header or not signature_header:
        return False
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature_header.strip())
