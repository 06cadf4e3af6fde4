"""Our fake Discord holds requests to what Discord itself refuses, so the adapter's tests mean something:
bodies that are not JSON, a second acknowledgement, unknown fields, oversized embeds; and it honours
`enforce_nonce` as Discord does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord_api import FakeDiscord

CHANNEL = "/channels/1400000000000000001/messages"
BOT = {"Authorization": "Bot fake-token"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    yield server
    await server.close()


async def send(fake: FakeDiscord, method: str, path: str, **request: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(headers=BOT) as session,
        session.request(method, fake.api_url + path, **request) as response,
    ):
        return response.status, await response.json()


def embed(description: str) -> dict[str, Any]:
    return {"title": "Board", "description": description}


async def test_a_body_that_is_not_json_is_refused_and_recorded(fake):
    status, answer = await send(
        fake, "POST", CHANNEL, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (status, answer["code"]) == (400, 50035)
    [call] = fake.invalid
    assert call.status == 400 and call.errors[0].startswith("the body is not JSON")
    assert fake.messages == {}


async def test_a_second_acknowledgement_is_refused_as_discord_does(fake):
    callback = "/interactions/1500000000000009999/token-x/callback"
    first, _ = await send(fake, "POST", callback, json={"type": 5, "data": {"flags": 64}})
    second, answer = await send(fake, "POST", callback, json={"type": 4, "data": {"content": "again"}})
    assert first == 200
    assert (second, answer["code"]) == (400, 40060)
    [refused] = fake.invalid
    assert (refused.code, refused.errors) == (40060, ["Interaction has already been acknowledged."])


async def test_unknown_fields_and_oversized_embeds_are_refused(fake):
    unknown, _ = await send(fake, "POST", CHANNEL, json={"content": "hi", "ping_everyone": True})
    # Two embeds within 4096 each but 8000 characters together: over Discord's 6000 for one message.
    too_long, _ = await send(fake, "POST", CHANNEL, json={"embeds": [embed("x" * 4000), embed("y" * 4000)]})
    at_limit, _ = await send(fake, "POST", CHANNEL, json={"embeds": [embed("x" * 4000), embed("y" * 1990)]})
    # An edit is not a create: discord.py sends `tts` with edits and Discord ignores it there.
    edited, _ = await send(
        fake, "PATCH", "/webhooks/1/token-y/messages/@original", json={"content": "edited", "tts": False}
    )
    assert (unknown, too_long, at_limit, edited) == (400, 400, 200, 200)
    assert [call.errors for call in fake.invalid] == [
        ["ping_everyone: not a field of POST /channels/{channel_id}/messages"],
        ["embeds: 8010 characters in all, Discord allows 6000"],
    ]


async def test_a_repeated_nonce_answers_the_message_already_created(fake):
    now = [1000.0]
    fake.clock = lambda: now[0]
    once = {"content": "standings", "nonce": "post-1-0", "enforce_nonce": True}
    _, first = await send(fake, "POST", CHANNEL, json=once)
    _, repeated = await send(fake, "POST", CHANNEL, json=once)
    _, elsewhere = await send(fake, "POST", "/channels/1400000000000000002/messages", json=once)
    _, unenforced = await send(fake, "POST", CHANNEL, json={**once, "enforce_nonce": False})
    now[0] += fake.nonce_window
    _, later = await send(fake, "POST", CHANNEL, json=once)
    assert repeated["id"] == first["id"]
    assert len({first["id"], elsewhere["id"], unenforced["id"], later["id"]}) == 4
    assert len(fake.messages["1400000000000000001"]) == 3
