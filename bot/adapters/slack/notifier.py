"""The Slack Notifier: channel posts, DMs and file uploads for the outbox dispatcher (contract.Notifier).

A message of several pages is posted page by page. When it is an outbox message, each page posted is
recorded under the message's dedupe key (a delivery claim, `page:<dedupe key>#<page>`): when a page
fails, the outbox retries the whole message later, and the pages already recorded are not posted again.
The dispatcher hands a Notifier the message alone, so the key is found among the outbox messages being
sent (same place, same payload); a send that is no outbox message's, or one of several identical ones
being sent at once, is posted in full. A crash between posting a page and recording it posts that page
again: at least once per page, never a whole board twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from bot.adapters.slack.blocks import SlackMessage, render_message
from bot.adapters.slack.identity import PLATFORM
from bot.clock import Clock, utc_now
from bot.handlers.contract import Message, Notifier
from bot.services import deliveries, links, workspaces

_KEY_CHARS = 280  # a delivery key holds 300; a longer dedupe key is recorded by its digest


class NotLinked(LookupError):
    """The person has no Slack account in the bound workspace, so no DM can reach them."""


class SlackNotifier:
    """Sends neutral Messages; returns the Slack id of what was sent (message ts, or file id)."""

    def __init__(
        self, client: AsyncWebClient, engine: Engine, locale: str = "en", *, clock: Clock = utc_now
    ) -> None:
        self.client = client
        self.engine = engine
        self.locale = locale
        self.clock = clock

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str:
        pages = await asyncio.to_thread(self._render, message)
        return await self._send(channel, pages, key)

    async def dm(self, person_id: int, message: Message, *, key: str | None = None) -> str:
        user = await asyncio.to_thread(self._user, person_id)
        if user is None:
            raise NotLinked(f"person {person_id} has no Slack account in the bound workspace")
        pages = await asyncio.to_thread(self._render, message)
        return await self._send(user, pages, key)

    async def upload(
        self, channel: str, filename: str, data: bytes, title: str, *, key: str | None = None
    ) -> str:
        response = await self.client.files_upload_v2(
            channel=channel, content=data, filename=filename, title=title
        )
        file = response.get("file") or {}
        return str(file.get("id", ""))

    async def _send(self, channel: str, pages: list[SlackMessage], key: str | None) -> str:
        """Every page not posted yet, in order; the ts of the first one posted now."""
        recorded = key is not None and len(pages) > 1
        posted = await asyncio.to_thread(self._posted, key, len(pages)) if recorded else set()
        first = ""
        for number, page in enumerate(pages):
            if number in posted:
                continue
            response = await self.client.chat_postMessage(channel=channel, text=page.text, blocks=page.blocks)
            first = first or str(response.get("ts", ""))
            if recorded:
                await asyncio.to_thread(self._record, _page_key(key or "", number), page)
        return first

    def _posted(self, key: str | None, pages: int) -> set[int]:
        with self.engine.connect() as connection:
            return {
                number
                for number in range(pages)
                if deliveries.seen(connection, platform=PLATFORM, key=_page_key(key or "", number))
            }

    def _record(self, page_key: str, page: SlackMessage) -> None:
        """Record a page as posted; its fingerprint is the digest of what was posted."""
        digest = hashlib.sha256(json.dumps(page.blocks, sort_keys=True).encode()).hexdigest()
        with self.engine.begin() as connection:
            deliveries.claim(
                connection, platform=PLATFORM, key=page_key, fingerprint=digest, now=self.clock()
            )

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


def _page_key(dedupe_key: str, page: int) -> str:
    """The delivery key recording that page `page` of an outbox message was posted."""
    if len(dedupe_key) > _KEY_CHARS:
        dedupe_key = hashlib.sha256(dedupe_key.encode()).hexdigest()
    return f"page:{dedupe_key}#{page}"


if TYPE_CHECKING:

    def _is_a_notifier(notifier: SlackNotifier) -> Notifier:
        return notifier  # mypy checks SlackNotifier against the contract's Notifier protocol
