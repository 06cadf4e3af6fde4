"""Webhook credentials: bearer tokens and HMAC signatures, each bound to a source."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from bot.web.auth import Unauthorized, bearer_source, sign, signature_source, uses_signature

TOKENS = {"acd-token-0123456789abcdef": "acd", "crm-token-0123456789abcdef": "crm"}
NOW = datetime(2021, 4, 1, 12, 0, tzinfo=UTC)
STAMP = int(NOW.timestamp())


def test_sign_is_hmac_sha256_of_version_timestamp_and_body() -> None:
    expected = hmac.new(b"key", b"v1:1617278400:{}", hashlib.sha256).hexdigest()

    assert sign("key", 1617278400, b"{}") == f"v1={expected}"


def test_a_bearer_token_names_its_source() -> None:
    assert bearer_source("Bearer crm-token-0123456789abcdef", TOKENS) == "crm"
    assert bearer_source("bearer  acd-token-0123456789abcdef ", TOKENS) == "acd"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic acd-token-0123456789abcdef", "Bearer nope"])
def test_a_missing_or_unknown_bearer_token_is_refused(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        bearer_source(header, TOKENS)


def test_a_signature_names_the_source_whose_token_signed() -> None:
    body = b'{"records": []}'

    assert (
        signature_source(sign("crm-token-0123456789abcdef", STAMP, body), str(STAMP), body, TOKENS, NOW)
        == "crm"
    )


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-300, True), (300, True), (-301, False), (301, False)], ids=str
)
def test_the_replay_window_is_five_minutes_either_way(offset: int, accepted: bool) -> None:
    stamp = STAMP + offset
    signature = sign("acd-token-0123456789abcdef", stamp, b"{}")

    if accepted:
        assert signature_source(signature, str(stamp), b"{}", TOKENS, NOW) == "acd"
    else:
        with pytest.raises(Unauthorized, match="window"):
            signature_source(signature, str(stamp), b"{}", TOKENS, NOW)


def test_a_signature_over_another_body_or_key_is_refused() -> None:
    with pytest.raises(Unauthorized, match="does not match"):
        signature_source(sign("acd-token-0123456789abcdef", STAMP, b"{}"), str(STAMP), b"{ }", TOKENS, NOW)
    with pytest.raises(Unauthorized, match="does not match"):
        signature_source(sign("not-a-token-0123456789ab", STAMP, b"{}"), str(STAMP), b"{}", TOKENS, NOW)


def test_signature_headers_are_detected_in_any_case() -> None:
    assert uses_signature({"x-floorboard-signature": "v1=00"})
    assert not uses_signature({"authorization": "Bearer x"})
