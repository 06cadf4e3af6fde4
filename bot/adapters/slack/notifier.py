"""The Slack Notifier: channel posts, DMs and file uploads for the outbox dispatcher (contract.Notifier)."""

from __future__ import annotations

import asyncio

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from bot.adapters.slack.blocks import SlackMessage, render_message
from bot.adapters.slack.identity import PLATFORM
from bot.handlers.contract import Message
from bot.services import links, workspaces


class NotLinked(LookupError):
    """The person has no Slack account in the bound workspace, so no DM can reach them."""


class SlackNotifier:
    """Sends neutral Messages; returns the Slack id of what was sent (message ts, or file id)."""

    def __init__(self, client: AsyncWebClient, engine: Engine, locale: str = "en") -> None:
        self.client = client
        self.engine = engine
        self.locale = locale

    async def post(self, channel: str, message: Message) -> str:
        pages = await asyncio.to_thread(self._render, message)
        return await self._send(channel, pages)

    async def dm(self, person_id: int, message: Message) -> str:
        user = await asyncio.to_thread(self._user, person_id)
        if user is None:
            raise NotLinked(f"person {person_id} has no Slack account in the bound workspace")
        pages = await asyncio.to_thread(self._render, message)
        return await self._send(user, pages)

    async def upload(self, channel: str, filename: str, data: bytes, title: str) -> str:
        response = await self.client.files_upload_v2(
            channel=channel, content=data, filename=filename, title=title
        )
        file = response.get("file") or {}
        return str(file.get("id", ""))

    async def _send(self, channel: str, pages: list[SlackMessage]) -> str:
        first = ""
        for page in pages:
            response = await self.client.chat_postMessage(channel=channel, text=page.text, blocks=page.blocks)
            first = first or str(response.get("ts", ""))
        return first

    def _render(self, message: Message) -> list[SlackMessage]:
        with self.engine.connect() as connection:
            team = workspaces.bound(connection, PLATFORM) or ""

            def user_of(person_id: int) -> str | None:
                return links.user_of(connection, person_id, PLATFORM, team)

            return render_message(message, user_of, self.locale)

    def _user(self, person_id: int) -> str | None:
        with self.engine.connect() as connection:
            team = workspaces.bound(connection, PLATFORM)
            return links.user_of(connection, person_id, PLATFORM, team) if team else None
