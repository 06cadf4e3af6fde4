"""The real Floorboard Discord client against our fake Discord: start it, send interactions, read answers."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import discord
from discord.gateway import DiscordWebSocket

from bot.adapters.console import ConsoleAdapter
from bot.adapters.discord import FloorboardClient, build_client
from bot.app import Floorboard, build
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.settings import load_settings
from tests.conftest import fixed_clock
from tests.fakes.discord_api import (
    APPLICATION_ID,
    Call,
    FakeDiscord,
    command_data,
    interaction,
)

GUILD = "1200000000000000001"
SUPERVISOR_ROLE = "1700000000000000001"
ADMIN_ROLE = "1700000000000000002"
EPHEMERAL = 64
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MENTION = re.compile(r"<@\d+>")
_BLOCK = re.compile(r"\n\n(?=\[(?:private to |#|team channel: |DM to ))")


@dataclass
class Exchange:
    """What one interaction produced: its callback, the edits of the original answer, followups, posts."""

    payload: dict[str, Any]
    calls: list[Call]

    @property
    def callbacks(self) -> list[Call]:
        return [c for c in self.calls if c.template.startswith("/interactions/")]

    @property
    def original(self) -> list[Call]:
        return [c for c in self.calls if c.template.endswith("/messages/@original")]

    @property
    def followups(self) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.template == "/webhooks/{webhook_id}/{webhook_token}" and c.method == "POST"
        ]

    @property
    def posts(self) -> list[Call]:
        return [c for c in self.calls if c.template == "/channels/{channel_id}/messages"]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """Every message body sent (original edits, followups, channel posts and DMs)."""
        return [c.body for c in self.original + self.followups + self.posts]


@dataclass
class Harness:
    fake: FakeDiscord
    client: FloorboardClient
    fb: Floorboard

    async def command(
        self,
        name: str,
        options: list[dict[str, Any]] | None = None,
        *,
        user: tuple[str, str],
        users: dict[str, str] | None = None,
        roles: tuple[str, ...] = (),
    ) -> Exchange:
        """Send an APPLICATION_COMMAND through the gateway; returns once the command has answered."""
        payload = interaction(
            2,
            command_data(name, options or [], users, GUILD),
            user_id=user[0],
            name=user[1],
            guild_id=GUILD,
            roles=roles,
        )
        return await self.deliver(payload)

    async def deliver(self, payload: dict[str, Any]) -> Exchange:
        """Send an APPLICATION_COMMAND payload (again, to replay it); returns once it has answered."""
        done = asyncio.ensure_future(
            self.client.wait_for(
                "app_command_completion", check=lambda i, _c: str(i.id) == payload["id"], timeout=20
            )
        )
        return await self._exchange(payload, done)

    async def press(
        self, custom_id: str, message: dict[str, Any], *, user: tuple[str, str], roles: tuple[str, ...] = ()
    ) -> Exchange:
        """Press a button; returns once the message was edited or answered."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = interaction(
            3, data, user_id=user[0], name=user[1], guild_id=GUILD, roles=roles, message=message
        )
        token = payload["token"]
        start = len(self.fake.calls)

        def answered() -> bool:
            return any(
                token in c.path and c.method in ("PATCH", "POST") and c.template.startswith("/webhooks/")
                for c in self.fake.calls[start:]
            )

        return await self._exchange(payload, asyncio.ensure_future(self.fake.wait_for(answered, 20)))

    async def click(
        self,
        custom_id: str,
        message: dict[str, Any],
        *,
        user: tuple[str, str],
        roles: tuple[str, ...] = (),
        in_dm: bool = True,
    ) -> Exchange:
        """Press a handler's button (by default in the DM it was sent to); returns once fully handled."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = interaction(
            3,
            data,
            user_id=user[0],
            name=user[1],
            guild_id=None if in_dm else GUILD,
            roles=roles,
            message=message,
            channel_id=message["channel_id"],
        )
        return await self.deliver_click(payload)

    async def deliver_click(self, payload: dict[str, Any]) -> Exchange:
        """Send a button press (again, to replay it); returns once its command has answered."""
        done = asyncio.ensure_future(
            self.client.wait_for(
                "floorboard_action_completion", check=lambda i, _p: str(i.id) == payload["id"], timeout=20
            )
        )
        return await self._exchange(payload, done)

    async def autocomplete(
        self, name: str, options: list[dict[str, Any]], *, user: tuple[str, str]
    ) -> Exchange:
        payload = interaction(
            4, command_data(name, options, None, GUILD), user_id=user[0], name=user[1], guild_id=GUILD
        )
        start = len(self.fake.calls)

        def answered() -> bool:
            return any(payload["id"] in c.path for c in self.fake.calls[start:])

        return await self._exchange(payload, asyncio.ensure_future(self.fake.wait_for(answered, 20)))

    async def _exchange(self, payload: dict[str, Any], done: asyncio.Future[Any]) -> Exchange:
        start = len(self.fake.calls)
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        await done
        return Exchange(payload, self.fake.calls[start:])


@asynccontextmanager
async def running_client(
    url: str, *, fake: FakeDiscord | None = None, **settings: Any
) -> AsyncIterator[Harness]:
    """A fake Discord on port 0 and the real client connected to it through its gateway; pass a running
    `fake` to keep what it holds (registered commands, messages) across clients, as across restarts."""
    own_fake = fake is None
    if fake is None:
        fake = await FakeDiscord((GUILD,)).start()
    saved = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    options: dict[str, Any] = {
        "discord_token": "fake-token",
        "discord_application_id": int(APPLICATION_ID),
        "discord_dev_guild_ids": [int(GUILD)],
        "discord_supervisor_role_ids": [int(SUPERVISOR_ROLE)],
        "discord_admin_role_ids": [int(ADMIN_ROLE)],
        "discord_api_base_url": fake.api_url,
        "discord_gateway_url": fake.gateway_url,
        **settings,
    }
    fb = build(load_settings(database_url=url, **options), clock=fixed_clock)
    client = build_client(fb, default_registry(), guild_ready_timeout=0.05)
    task = asyncio.create_task(client.start("fake-token"))
    try:
        ready = asyncio.ensure_future(client.wait_until_ready())
        await asyncio.wait([ready, task], timeout=20, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # the client stopped: raise why
        assert ready.done(), "the client did not get ready within 20 s"
        yield Harness(fake, client, fb)
    finally:
        await client.close()
        await asyncio.gather(task, return_exceptions=True)
        if own_fake:
            await fake.close()
        fb.close()
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved
    assert fake.invalid == [], [(c.method, c.path, c.errors) for c in fake.invalid]


def console_says(harness: Harness, line: str, as_name: str) -> str:
    """What the console adapter prints for `line` typed by `as_name`, on the same database."""
    ctx = HandlerContext.of(harness.fb)
    return ConsoleAdapter(ctx, default_registry(), io.StringIO()).say(line, as_name=as_name)


def console_blocks(text: str, header: str) -> str:
    """The console blocks sent to one place (`[private to …]` or `[#floor]`), joined."""
    blocks = [block for block in _BLOCK.split(text) if block.startswith(header)]
    return "\n".join(block.split("\n", 1)[1] if "\n" in block else "" for block in blocks) + "".join(
        block.split("\n", 1)[0].removeprefix(header) for block in blocks
    )


def numbers(text: str) -> list[str]:
    return sorted(_NUMBER.findall(_MENTION.sub("", text)))


def embed_text(body: dict[str, Any]) -> str:
    parts = [body.get("content") or ""]
    for embed in body.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts.append((embed.get("footer") or {}).get("text") or "")
        parts += [f"{field['name']} {field['value']}" for field in embed.get("fields") or []]
    return "\n".join(parts)


def private_bodies(exchange: Exchange) -> list[dict[str, Any]]:
    return [c.body for c in exchange.original] + [
        c.body for c in exchange.followups if (c.body.get("flags") or 0) & EPHEMERAL
    ]


def public_bodies(exchange: Exchange) -> list[dict[str, Any]]:
    return [c.body for c in exchange.followups if not (c.body.get("flags") or 0) & EPHEMERAL]
