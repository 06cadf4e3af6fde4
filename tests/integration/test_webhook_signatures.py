"""HMAC-signed webhook posts: a valid signature is accepted; stale, future or wrong ones get 401."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import Floorboard
from bot.web.app import create_web_app
from tests.conftest import fixed_clock

TOKEN = "acd-token-0123456789abcdef"
NOW = int(fixed_clock().timestamp())


def body(external_id: str = "s1", source: str = "acd") -> bytes:
    record = {
        "source": source,
        "external_id": external_id,
        "subject": {"kind": "agent", "key": "ana"},
        "occurred_at": "2021-04-01T09:00:00-05:00",
        "facts": {"answered": True, "talk": 120, "hold": 0, "acw": 30, "rating": 4},
    }
    return json.dumps({"records": [record], "create_unknown_agents": True}).encode()


def signature(key: str, timestamp: int, payload: bytes) -> str:
    digest = hmac.new(key.encode(), f"v1:{timestamp}:".encode() + payload, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def send(client: TestClient, payload: bytes, headers: dict[str, str]) -> Any:
    return client.post(
        "/api/v1/events", content=payload, headers={"Content-Type": "application/json", **headers}
    )


@pytest.fixture
def web(app: Floorboard) -> Iterator[TestClient]:
    app.settings = app.settings.model_copy(update={"api_tokens": {TOKEN: "acd"}})
    with TestClient(create_web_app(app)) as client:
        yield client


def test_a_valid_signature_within_the_window_is_accepted(web: TestClient) -> None:
    payload = body()
    timestamp = NOW - 290

    response = send(
        web,
        payload,
        {
            "X-Floorboard-Signature": signature(TOKEN, timestamp, payload),
            "X-Floorboard-Timestamp": str(timestamp),
        },
    )

    assert response.status_code == 202, response.text
    assert [item["status"] for item in response.json()["items"]] == ["accepted"]


def test_a_signed_redelivery_is_a_duplicate(web: TestClient) -> None:
    payload = body()
    headers = {"X-Floorboard-Signature": signature(TOKEN, NOW, payload), "X-Floorboard-Timestamp": str(NOW)}

    assert send(web, payload, headers).json()["items"][0]["status"] == "accepted"
    assert send(web, payload, headers).json()["items"][0]["status"] == "duplicate"


def test_the_signing_token_binds_the_source(web: TestClient) -> None:
    payload = body(source="crm")
    headers = {"X-Floorboard-Signature": signature(TOKEN, NOW, payload), "X-Floorboard-Timestamp": str(NOW)}

    item = send(web, payload, headers).json()["items"][0]

    assert item["status"] == "rejected"
    assert item["reason"].startswith("source:")


@pytest.mark.parametrize(
    ("timestamp", "key", "signed_body", "fragment"),
    [
        (NOW - 301, TOKEN, None, "old"),
        (NOW + 301, TOKEN, None, "ahead"),
        (NOW, "some-other-secret-0123456789", None, "does not match"),
        (NOW, TOKEN, body("tampered"), "does not match"),
    ],
    ids=["expired", "future", "wrong-key", "other-body"],
)
def test_a_bad_or_stale_signature_gets_401(
    web: TestClient, timestamp: int, key: str, signed_body: bytes | None, fragment: str
) -> None:
    payload = body()
    headers = {
        "X-Floorboard-Signature": signature(key, timestamp, signed_body or payload),
        "X-Floorboard-Timestamp": str(timestamp),
    }

    response = send(web, payload, headers)

    assert response.status_code == 401
    assert fragment in response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Floorboard-Signature": "v1=00"},
        {"X-Floorboard-Signature": "v1=00", "X-Floorboard-Timestamp": "soon"},
    ],
    ids=["no-timestamp", "timestamp-not-a-number"],
)
def test_incomplete_signature_headers_get_401(web: TestClient, headers: dict[str, str]) -> None:
    assert send(web, body(), headers).status_code == 401


def test_a_signature_is_checked_even_with_a_valid_bearer_token(web: TestClient) -> None:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "X-Floorboard-Signature": "v1=00",
        "X-Floorboard-Timestamp": str(NOW),
    }

    assert send(web, body(), headers).status_code == 401
