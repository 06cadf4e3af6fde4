"""The Discord client on its own thread and event loop, next to the web server of `floorboard run`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine
from typing import Any

from bot.adapters.discord.client import FloorboardClient, build_client
from bot.app import Floorboard
from bot.handlers.contract import Message
from bot.handlers.registry import Registry

log = logging.getLogger(__name__)
STOP_TIMEOUT_SECONDS = 15.0


class DiscordRunner:
    """Starts the client in a daemon thread (`start`) and closes it cleanly (`stop`)."""

    def __init__(self, fb: Floorboard, registry: Registry) -> None:
        if not fb.settings.discord_token:
            raise ValueError("FLOORBOARD_DISCORD_TOKEN is not set")
        self.fb = fb
        self.registry = registry
        self.client: FloorboardClient | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="discord", daemon=True)
        self.error: BaseException | None = None
        self._closing: asyncio.Future[None] | None = None

    @property
    def notifier(self) -> LoopBridgeNotifier:
        """The client's Notifier for callers on another event loop (the scheduler's outbox dispatcher)."""
        return LoopBridgeNotifier(self)

    async def call(self, coroutine: Coroutine[Any, Any, str]) -> str:
        """Run a coroutine of the client's on the client's own loop and wait for it from this loop."""
        if self.client is None or self._loop.is_closed():
            coroutine.close()
            raise RuntimeError("the Discord client is not running")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))

    def start(self) -> DiscordRunner:
        self._thread.start()
        self._ready.wait(timeout=STOP_TIMEOUT_SECONDS)
        return self

    def stop(self) -> None:
        """Close the client from any thread; returns once its thread has finished."""
        if self.client is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the client has stopped
                self._loop.call_soon_threadsafe(self._close)
        self._thread.join(timeout=STOP_TIMEOUT_SECONDS)

    def _close(self) -> None:
        if self.client is not None:
            self._closing = asyncio.ensure_future(self.client.close())

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as error:  # reported by `floorboard run`; the web server keeps serving
            self.error = error
            log.exception("the Discord client stopped")
        finally:
            self._ready.set()
            self._cancel_leftovers()
            self._loop.close()

    def _cancel_leftovers(self) -> None:
        """discord.py may leave tasks behind (a pending ready wait); cancel them before the loop closes."""
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

    async def _main(self) -> None:
        self.client = build_client(self.fb, self.registry)
        self._ready.set()
        token = self.fb.settings.discord_token
        assert token is not None
        async with self.client:  # closes the client however start() ends
            await self.client.start(token)


class LoopBridgeNotifier:
    """The Discord Notifier as seen from another event loop: each send runs on the client's loop."""

    def __init__(self, runner: DiscordRunner) -> None:
        self.runner = runner

    def _client(self) -> FloorboardClient:
        if self.runner.client is None:
            raise RuntimeError("the Discord client is not running")
        return self.runner.client

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str:
        return await self.runner.call(self._client().notifier.post(channel, message, key=key))

    async def dm(self, person_id: int, message: Message, *, key: str | None = None) -> str:
        return await self.runner.call(self._client().notifier.dm(person_id, message, key=key))

    async def upload(
        self, channel: str, filename: str, data: bytes, title: str, *, key: str | None = None
    ) -> str:
        notifier = self._client().notifier
        return await self.runner.call(notifier.upload(channel, filename, data, title, key=key))
