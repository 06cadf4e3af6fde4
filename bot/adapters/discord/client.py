"""The discord.py client, built from settings: it owns the command tree and syncs it on start-up.

Development (guild ids set): the commands are registered in those guilds only, where changes show at once,
and the global list is emptied, so no command appears twice. Production (no guild ids, or
`discord_global_commands`): one global list, and the configured development guilds' own lists are
emptied, so a server that was used for development does not show every command twice after the switch.
Every sync is a bulk overwrite (PUT), so a restart replaces the commands instead of adding copies.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bot.adapters.discord.actions import ActionButton
from bot.adapters.discord.commands import AutocompleteSource, app_commands_for, default_sources
from bot.adapters.discord.interactions import DiscordAdapter, Roles
from bot.adapters.discord.notifier import DiscordNotifier, RetryLog
from bot.adapters.discord.paging import PageButton
from bot.app import Floorboard
from bot.handlers.context import HandlerContext
from bot.handlers.registry import Registry
from bot.settings import Settings

log = logging.getLogger(__name__)


class FloorboardClient(discord.Client):
    """A client with its CommandTree, the adapter the commands call and the Notifier for the outbox."""

    def __init__(
        self,
        fb: Floorboard,
        registry: Registry,
        *,
        sources: dict[str, AutocompleteSource] | None = None,
        retries: RetryLog | None = None,
        **options: Any,
    ) -> None:
        settings = fb.settings
        self.retry_log = retries or RetryLog()
        intents = discord.Intents.none()
        intents.guilds = True  # GUILD_CREATE only; members and message content are never needed
        if settings.discord_application_id is not None:
            options.setdefault("application_id", settings.discord_application_id)
        super().__init__(
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            http_trace=self.retry_log.trace(),
            **options,
        )
        self.dev_guild_ids: tuple[int, ...] = tuple(settings.discord_dev_guild_ids)
        self.global_commands = settings.discord_global_commands or not self.dev_guild_ids
        self.tree: app_commands.CommandTree[FloorboardClient] = app_commands.CommandTree(self)
        self.notifier = DiscordNotifier(self, fb.engine, self.retry_log)
        roles = Roles(
            frozenset(settings.discord_supervisor_role_ids), frozenset(settings.discord_admin_role_ids)
        )
        self.adapter = DiscordAdapter(HandlerContext.of(fb), registry, self.notifier, roles)
        all_sources = {**default_sources(), **(sources or {})}
        self.floorboard_commands = app_commands_for(registry, self.adapter, all_sources)
        self.synced: list[app_commands.AppCommand] = []

    async def setup_hook(self) -> None:
        self.add_dynamic_items(PageButton, ActionButton)
        self.synced = await sync_commands(
            self.tree, self.floorboard_commands, self.dev_guild_ids, global_commands=self.global_commands
        )


async def sync_commands(
    tree: app_commands.CommandTree[Any],
    commands: Sequence[app_commands.Command[Any, ..., None] | app_commands.Group],
    guild_ids: Sequence[int],
    *,
    global_commands: bool = False,
) -> list[app_commands.AppCommand]:
    """Register `commands` in `guild_ids` (development) or globally (production, or no guild ids), never
    in both; returns what Discord holds."""
    tree.clear_commands(guild=None)
    guilds = [discord.Object(guild_id) for guild_id in guild_ids]
    if global_commands or not guilds:
        for command in commands:
            tree.add_command(command)
        synced = await tree.sync()
        for guild in guilds:
            tree.clear_commands(guild=guild)
            await tree.sync(guild=guild)  # empties the development list left in that guild
        log.info("synced %d global Discord commands; emptied guilds %s", len(synced), list(guild_ids))
        return synced
    synced = []
    for command in commands:
        tree.add_command(command, guilds=guilds)
    for guild in guilds:
        synced.extend(await tree.sync(guild=guild))
    await tree.sync()  # empties the global list: a guild never shows a command twice
    log.info("synced %d Discord commands to guilds %s", len(synced), list(guild_ids))
    return synced


def redirect_endpoints(settings: Settings) -> None:
    """Point discord.py at another REST base URL and gateway (tests, proxies).

    discord.py reads both from class attributes (http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) and
    offers no per-client option, so the override is process-wide; unset settings leave Discord's own.
    """
    if settings.discord_api_base_url:
        discord.http.Route.BASE = settings.discord_api_base_url.rstrip("/")
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def build_client(
    fb: Floorboard,
    registry: Registry,
    *,
    sources: dict[str, AutocompleteSource] | None = None,
    retries: RetryLog | None = None,
    **options: Any,
) -> FloorboardClient:
    """The client for `fb`'s settings; start it with `await client.start(fb.settings.discord_token)`.

    `options` go to discord.Client (for example `guild_ready_timeout`)."""
    redirect_endpoints(fb.settings)
    return FloorboardClient(fb, registry, sources=sources, retries=retries, **options)
