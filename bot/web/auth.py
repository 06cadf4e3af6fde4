"""Webhook credentials: a bearer token, or an HMAC signature keyed by the token; each bound to a source."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime

REPLAY_WINDOW_SECONDS = 300
SIGNATURE_HEADER = "X-Floorboard-Signature"
TIMESTAMP_HEADER = "X-Floorboard-Timestamp"


class Unauthorized(Exception):
    """Missing, unknown or expired credentials; the message says which (never which token)."""


def sign(token: str, timestamp: int, body: bytes) -> str:
    """The `X-Floorboard-Signature` value: `v1=` + hex HMAC-SHA256 of `v1:{timestamp}:{body}`, keyed by the
    token."""
    message = b"v1:" + str(timestamp).encode() + b":" + body
    return "v1=" + hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(token: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(token, timestamp, body), TIMESTAMP_HEADER: str(timestamp)}


def uses_signature(headers: Mapping[str, str]) -> bool:
    return SIGNATURE_HEADER.lower() in {name.lower() for name in headers}


def bearer_source(authorization: str | None, tokens: Mapping[str, str]) -> str:
    """The source bound to the bearer token in an `Authorization` header."""
    if not authorization:
        raise Unauthorized(
            f"send Authorization: Bearer <token>, or sign the body ({SIGNATURE_HEADER}, {TIMESTAMP_HEADER})"
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be: Bearer <token>")
    source = _match(tokens, lambda candidate: hmac.compare_digest(candidate.encode(), token.strip().encode()))
    if source is None:
        raise Unauthorized("unknown API token")
    return source


def signature_source(
    signature: str | None, timestamp: str | None, body: bytes, tokens: Mapping[str, str], now: datetime
) -> str:
    """The source whose token signed this body, within the replay window around `now`."""
    if not signature or not timestamp:
        raise Unauthorized(f"a signed request needs both {SIGNATURE_HEADER} and {TIMESTAMP_HEADER}")
    try:
        sent = int(timestamp)
    except ValueError:
        raise Unauthorized(f"{TIMESTAMP_HEADER} must be unix seconds, got {timestamp!r}") from None
    skew = now.timestamp() - sent
    if abs(skew) > REPLAY_WINDOW_SECONDS:
        raise Unauthorized(
            f"{TIMESTAMP_HEADER} is {abs(skew):.0f} s {'old' if skew > 0 else 'ahead'}; "
            f"the window is {REPLAY_WINDOW_SECONDS} s (check the sender's clock)"
        )
    offered = signature.strip().encode()
    source = _match(
        tokens, lambda candidate: hmac.compare_digest(sign(candidate, sent, body).encode(), offered)
    )
    if source is None:
        raise Unauthorized(f"{SIGNATURE_HEADER} does not match the body for any API token")
    return source


def _match(tokens: Mapping[str, str], matches: Callable[[str], bool]) -> str | None:
    found = None
    for token, source in tokens.items():
        if matches(token):
            found = source
    return found
