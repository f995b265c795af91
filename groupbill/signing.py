"""Signed outgoing HTTP bodies: `Groupbill-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed with the shared secret>`. Provisioning webhooks (provisioning.webhook)
and the company's outgoing event webhooks (notices.webhooks) sign the same way, so a
receiver checks both with `verify_signature` (or the README's few lines)."""

import hashlib
import hmac
import time

SIGNATURE_TOLERANCE = 300  # seconds a receiver should accept a signature for
_MAX_TIMESTAMP_DIGITS = 15


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes | str,
    tolerance_seconds: int = SIGNATURE_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Whether `header` (a `Groupbill-Signature` value) signs exactly `body` with `secret`
    and was made within `tolerance_seconds` of `now` (default: the wall clock). Several
    `v1=` entries are allowed (any one may match), which lets a secret be rotated."""
    if not secret or not isinstance(header, str):
        return False
    if isinstance(body, str):
        body = body.encode()
    timestamps, signatures = [], []
    for part in header.split(","):
        name, equals, value = part.strip().partition("=")
        if not equals:
            continue
        if name == "t":
            timestamps.append(value)
        elif name == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not signatures:
        return False
    [t] = timestamps
    if not (t.isascii() and t.isdigit() and len(t) <= _MAX_TIMESTAMP_DIGITS):
        return False
    timestamp = int(t)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = _digest(secret, timestamp, body).encode()
    # compare_digest on bytes: a non-ASCII str would raise instead of answering False.
    return any(hmac.compare_digest(expected, s.encode()) for s in signatures)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
