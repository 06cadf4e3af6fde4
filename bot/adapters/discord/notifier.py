"""The Notifier port on Discord: channel posts, direct messages and file uploads, retried and recorded.

discord.py itself retries a 429 (after `retry_after`) and a 500/502/504/524; every such response is
recorded through an aiohttp trace (RetryLog.trace). What still fails (a 503, a refused connection, a
timeout, retries exhausted) is retried here with backoff and recorded too; when the last attempt fails
the send raises DeliveryFailed, so the outbox keeps the message and its error instead of losing it.
Every send carries a nonce with `enforce_nonce` (discord.py adds the flag to any nonce), so a send whose
response was lost cannot appear twice: Discord answers a nonce it saw from us in that channel in the last
few minutes with the message it already created. For an outbox message the nonce is derived from its
dedupe key and the page, so the outbox's own retry (after DeliveryFailed) repeats it too, and the pages
of a post that failed partway are not posted again. The dispatcher hands a Notifier the message alone, so
`post`, `dm` and `upload` find the key among the outbox messages being sent; `deliver` is given it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import discord
from sqlalchemy import Engine

from bot.adapters.discord.actions import action_view
from bot.adapters.discord.arguments import PLATFORM
from bot.adapters.discord.embeds import NO_PINGS, Page, escape, file_of, mentioned_people, render_message
from bot.handlers.contract import Action, Message, Notifier
from bot.jobs.codec import decode_bytes, decode_message
from bot.services import chat_accounts, outbox

log = logging.getLogger(__name__)
T = TypeVar("T")
_NONCE_BYTES = 12  # 24 hex characters; Discord accepts nonces up to 25
#: Retries kept in a RetryLog: the latest, for a look at what is failing now (each is logged too).
RETRY_RECORDS = 500


class DeliveryFailed(RuntimeError):
    """A send that did not reach Discord after every attempt (or was refused for good, e.g. 403/404)."""

    def __init__(self, what: str, attempts: int, error: BaseException) -> None:
        super().__init__(f"{what}: failed after {attempts} attempt(s): {error}")
        self.what = what
        self.attempts = attempts
        self.error = error


@dataclass(frozen=True, slots=True)
class RetryRecord:
    at: datetime
    what: str
    attempt: int
    reason: str


@dataclass
class RetryLog:
    """Every retried Discord call: ours (with the attempt) and discord.py's own (429 and 5xx responses)."""

    records: deque[RetryRecord] = field(default_factory=lambda: deque(maxlen=RETRY_RECORDS))
    on_retry: Callable[[RetryRecord], None] | None = None

    def add(self, what: str, attempt: int, reason: str) -> None:
        record = RetryRecord(datetime.now(UTC), what, attempt, reason)
        self.records.append(record)
        log.warning("Discord %s: attempt %d failed (%s); retrying", what, attempt, reason)
        if self.on_retry is not None:
            self.on_retry(record)

    def trace(self) -> aiohttp.TraceConfig:
        """An aiohttp trace for discord.py's session: records each 429/5xx response it will retry."""
        config = aiohttp.TraceConfig()

        async def on_request_end(
            _session: aiohttp.ClientSession, _context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
        ) -> None:
            status = params.response.status
            if status == 429 or status >= 500:
                self.add(f"{params.method} {params.url.path}", 0, f"HTTP {status}")

        config.on_request_end.append(on_request_end)
        return config


def nonce_for(key: str | None, page: int = 0) -> str:
    """The nonce of page `page` of the message with dedupe key `key`: the same for every attempt at it;
    a random one for a send that has no key (it still covers the retries of that one call)."""
    if key is None:
        return secrets.token_hex(_NONCE_BYTES)
    return hashlib.blake2b(f"{key}#{page}".encode(), digest_size=_NONCE_BYTES).hexdigest()


class DiscordNotifier:
    """Implements bot.handlers.contract.Notifier; `channel` is a Discord channel id."""

    def __init__(
        self,
        client: discord.Client,
        engine: Engine,
        retries: RetryLog,
        *,
        attempts: int = 4,
        backoff_seconds: float = 0.5,
        locale: str = "en",
    ) -> None:
        self.client = client
        self.engine = engine
        self.retries = retries
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.locale = locale

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str:
        return await self._post(channel, message, key)

    async def dm(self, person_id: int, message: Message, *, key: str | None = None) -> str:
        return await self._dm(person_id, message, key)

    async def upload(
        self, channel: str, filename: str, data: bytes, title: str, *, key: str | None = None
    ) -> str:
        return await self._upload(channel, filename, data, title, key)

    async def deliver(self, item: outbox.Claimed) -> str:
        """Send one claimed outbox message, with nonces from its dedupe key."""
        payload, where, key = item.payload, item.destination, item.dedupe_key
        operation = payload.get("op")
        if operation == "post":
            return await self._post(str(where["channel"]), decode_message(payload["message"]), key)
        if operation == "dm":
            return await self._dm(int(where["person_id"]), decode_message(payload["message"]), key)
        if operation == "upload":
            data = decode_bytes(payload["data"])
            return await self._upload(str(where["channel"]), payload["filename"], data, payload["title"], key)
        raise ValueError(f"outbox message {key}: unknown operation {operation!r}")

    async def send_pages(
        self, channel: str, pages: Sequence[Page], actions: Sequence[Action] = (), *, key: str | None = None
    ) -> str:
        """Each page as its own message (one embed each keeps every message within 6000 characters);
        the buttons of `actions` go under the last one."""
        target = self.client.get_partial_messageable(int(channel))
        return await self._send_all(target, pages, actions, f"post to channel {channel}", key)

    async def dm_user(
        self, user_id: str, pages: Sequence[Page], actions: Sequence[Action] = (), *, key: str | None = None
    ) -> str:
        # Discord's spec types recipient_id as a snowflake string; discord.py's create_dm would send an int.
        opened = await self._retrying(
            f"open DM with user {user_id}",
            lambda: self.client.http.start_private_message(user_id),
        )
        dm_channel = self.client.get_partial_messageable(int(opened["id"]), type=discord.ChannelType.private)
        return await self._send_all(dm_channel, pages, actions, f"DM to user {user_id}", key)

    async def _post(self, channel: str, message: Message, key: str | None) -> str:
        return await self.send_pages(channel, await self._pages(message), message.actions, key=key)

    async def _dm(self, person_id: int, message: Message, key: str | None) -> str:
        users = await asyncio.to_thread(self._user_ids, {person_id})
        user = users.get(person_id)
        if user is None:
            raise DeliveryFailed(f"DM to person {person_id}", 0, LookupError("no linked Discord account"))
        return await self.dm_user(user, await self._pages(message), message.actions, key=key)

    async def _upload(self, channel: str, filename: str, data: bytes, title: str, key: str | None) -> str:
        target = self.client.get_partial_messageable(int(channel))
        nonce = nonce_for(key)

        async def send() -> discord.Message:
            return await target.send(
                content=escape(title), file=file_of(data, filename), nonce=nonce, allowed_mentions=NO_PINGS
            )

        sent = await self._retrying(f"upload {filename} to channel {channel}", send)
        return str(sent.id)

    async def _send_all(
        self,
        target: discord.abc.Messageable,
        pages: Sequence[Page],
        actions: Sequence[Action],
        what: str,
        key: str | None,
    ) -> str:
        last = len(pages) - 1
        ids = [
            await self._send(target, page, what, nonce_for(key, number), actions if number == last else ())
            for number, page in enumerate(pages)
        ]
        return ids[0]

    async def _send(
        self,
        target: discord.abc.Messageable,
        page: Page,
        what: str,
        nonce: str,
        actions: Sequence[Action] = (),
    ) -> str:
        view = action_view(actions)
        buttons: dict[str, Any] = {"view": view} if view is not None else {}

        async def send() -> discord.Message:
            return await target.send(
                embed=page.embed, files=page.files(), nonce=nonce, allowed_mentions=NO_PINGS, **buttons
            )

        sent = await self._retrying(what, send)
        return str(sent.id)

    async def _retrying(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        for number in range(1, self.attempts + 1):
            try:
                return await attempt()
            except discord.HTTPException as error:
                if error.status != 429 and error.status < 500:
                    raise DeliveryFailed(what, number, error) from error
                failure: BaseException = error
            except discord.RateLimited as error:
                failure = error
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                failure = error
            if number == self.attempts:
                raise DeliveryFailed(what, number, failure) from failure
            self.retries.add(what, number, _reason(failure))
            await asyncio.sleep(self.backoff_seconds * 2 ** (number - 1))
        raise AssertionError("unreachable: the loop returns or raises")

    async def _pages(self, message: Message) -> tuple[Page, ...]:
        users = await asyncio.to_thread(self._user_ids, mentioned_people(message))
        return render_message(message, users, self.locale).pages

    def _user_ids(self, person_ids: set[int]) -> dict[int, str]:
        with self.engine.connect() as connection:
            return chat_accounts.user_ids(connection, PLATFORM, person_ids)


if TYPE_CHECKING:

    def _is_a_notifier(notifier: DiscordNotifier) -> Notifier:
        return notifier  # mypy checks DiscordNotifier against the contract's Notifier protocol


def _reason(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
