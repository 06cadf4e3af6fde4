"""Running an app command, a handler's button or a paging button: acknowledge first, then the database,
then the answers.

Every interaction is deferred before anything touches the database (Discord allows 3 seconds for the
first response, a slow database may take longer), ephemerally, so the "thinking" note only the caller
sees becomes their private answer. Public answers follow as separate followups. Nothing is acknowledged
twice: after the defer only the original response is edited and followups are sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
from sqlalchemy import Connection

from bot.adapters.discord import arguments
from bot.adapters.discord.actions import Pressed, action_view
from bot.adapters.discord.embeds import NO_PINGS, Page, Rendered, mentioned_people, render_message
from bot.adapters.discord.notifier import DeliveryFailed, DiscordNotifier
from bot.adapters.discord.paging import PageState, decode_args, encode_args, pager, person_ids
from bot.handlers.context import HandlerContext
from bot.handlers.contract import Action, Actor, Command, DestinationKind, Message
from bot.handlers.dispatch import dispatch
from bot.handlers.parsing import ParseError
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import private
from bot.messages import render
from bot.services import chat_accounts, people

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One reply, rendered, and where it goes: the caller, the channel, a team channel or a DM."""

    kind: DestinationKind
    rendered: Rendered
    state: PageState | None  # for paging buttons; None when the command cannot be redrawn
    channel: str | None = None  # a team's Discord channel id
    user: str | None = None  # a DM's Discord user id
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True, slots=True)
class Roles:
    supervisor: frozenset[int] = frozenset()
    admin: frozenset[int] = frozenset()


class DiscordAdapter:
    """The handlers behind Discord: one instance per client, sharing the app's engine and registry."""

    def __init__(
        self,
        ctx: HandlerContext,
        registry: Registry,
        notifier: DiscordNotifier,
        roles: Roles = Roles(),
        locale: str = "en",
    ) -> None:
        self.ctx = ctx
        self.registry = registry
        self.notifier = notifier
        self.roles = roles
        self.locale = locale

    async def run(
        self, interaction: discord.Interaction[Any], spec: CommandSpec, values: dict[str, Any]
    ) -> None:
        """An app command: defer (ephemeral), dispatch in a worker thread, then deliver every reply."""
        await self._answer(interaction, spec.name, lambda: self._command_replies(interaction, spec, values))

    async def run_action(self, interaction: discord.Interaction[Any], pressed: Pressed) -> None:
        """A handler's button: its command runs as the presser, answered like a command (privately)."""
        await self._answer(interaction, pressed.command, lambda: self._action_replies(interaction, pressed))
        # Listeners (and tests) learn that a press was fully handled, as app_command_completion says so
        # for commands.
        interaction.client.dispatch("floorboard_action_completion", interaction, pressed)

    async def _answer(
        self, interaction: discord.Interaction[Any], name: str, work: Callable[[], list[Outgoing]]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            outgoing = await asyncio.to_thread(work)
        except Exception:
            log.exception("/%s failed for Discord user %s", name, interaction.user.id)
            await interaction.edit_original_response(
                content=render("discord.failed", self.locale), allowed_mentions=NO_PINGS
            )
            return
        await self._deliver(interaction, outgoing)

    async def turn_page(self, interaction: discord.Interaction[Any], state: PageState) -> None:
        """A paging button: acknowledge as a message update, redraw the board, show the asked page."""
        await interaction.response.defer()
        spec = self.registry.get(state.command)
        outgoing = await asyncio.to_thread(self._page_replies, interaction, spec, state) if spec else []
        board = next(
            (out for out in outgoing if out.state is not None and out.state.reply == state.reply), None
        )
        if board is None or state.page >= len(board.rendered.pages):
            # The board is gone (the command now answers differently, e.g. a refusal for this presser):
            # tell the presser privately what the command says now, and leave the message as it was.
            answer = next((out for out in outgoing if out.kind is DestinationKind.CALLER), None)
            content = None if answer is not None else render("discord.page_gone", self.locale)
            page = answer.rendered.pages[0] if answer is not None else None
            await interaction.followup.send(**_page_kwargs(page, None, content=content), ephemeral=True)
            return
        page = board.rendered.pages[state.page]
        view = action_view(board.actions, self._pager(state, len(board.rendered.pages)))
        await interaction.edit_original_response(
            embed=page.embed, attachments=page.files(), view=view, allowed_mentions=NO_PINGS
        )

    def _command_replies(
        self, interaction: discord.Interaction[Any], spec: CommandSpec, values: dict[str, Any]
    ) -> list[Outgoing]:
        with self.ctx.engine.connect() as connection:
            caller = self._actor(connection, interaction)
            try:
                args = (
                    arguments.arguments(connection, spec, values, self.locale)
                    if caller.person_id is not None or not spec.linked
                    else {}
                )
            except ParseError as error:
                return self._outgoing(connection, [private(error.message)], spec, {})
        replies = self._dispatch(interaction, spec.name, caller, args)
        with self.ctx.engine.connect() as connection:
            return self._outgoing(connection, replies, spec, args)

    def _action_replies(self, interaction: discord.Interaction[Any], pressed: Pressed) -> list[Outgoing]:
        spec = self.registry.get(pressed.command)
        with self.ctx.engine.connect() as connection:
            caller = self._actor(connection, interaction)
            if spec is None:
                args: dict[str, Any] = {}
            else:
                args = pressed.decode(spec, people.names(connection, pressed.person_ids(spec)))
        replies = self._dispatch(interaction, pressed.command, caller, args)
        if spec is None:
            return self._plain_outgoing(replies)
        with self.ctx.engine.connect() as connection:
            return self._outgoing(connection, replies, spec, args)

    def _plain_outgoing(self, replies: list[Message]) -> list[Outgoing]:
        """Replies to a button whose command is gone: the refusal, privately."""
        return [
            Outgoing(DestinationKind.CALLER, render_message(reply, {}, self.locale), None)
            for reply in replies
            if reply.destination.kind is DestinationKind.CALLER
        ]

    def _page_replies(
        self, interaction: discord.Interaction[Any], spec: CommandSpec, state: PageState
    ) -> list[Outgoing]:
        with self.ctx.engine.connect() as connection:
            caller = self._actor(connection, interaction)
            names = people.names(connection, person_ids(spec, state.args))
        args = decode_args(spec, state.args, names)
        replies = self._dispatch(interaction, spec.name, caller, args)
        with self.ctx.engine.connect() as connection:
            return self._outgoing(connection, replies, spec, args, page=state.page)

    def _actor(self, connection: Connection, interaction: discord.Interaction[Any]) -> Actor:
        return arguments.actor(
            connection,
            interaction.user,
            supervisor_roles=self.roles.supervisor,
            admin_roles=self.roles.admin,
            guild_id=interaction.guild_id,
        )

    def _dispatch(
        self, interaction: discord.Interaction[Any], name: str, caller: Actor, args: dict[str, Any]
    ) -> list[Message]:
        channel = str(interaction.channel_id) if interaction.channel_id else None
        command = Command(name, caller, args, str(interaction.id), origin_channel=channel, locale=self.locale)
        return dispatch(self.registry, command, self.ctx)

    def _outgoing(
        self,
        connection: Connection,
        replies: list[Message],
        spec: CommandSpec,
        args: dict[str, Any],
        page: int = 0,
    ) -> list[Outgoing]:
        mentioned = set().union(*(mentioned_people(reply) for reply in replies)) if replies else set()
        dm_people = {
            reply.destination.person_id
            for reply in replies
            if reply.destination.kind is DestinationKind.DM and reply.destination.person_id is not None
        }
        users = chat_accounts.user_ids(connection, arguments.PLATFORM, mentioned | dm_people)
        encoded = None if spec.writes else encode_args(spec, args)
        out = []
        for index, reply in enumerate(replies):
            rendered = render_message(reply, users, self.locale)
            state = PageState(spec.name, encoded, index, page) if encoded is not None else None
            destination = reply.destination
            if destination.kind is DestinationKind.TEAM_CHANNEL and destination.team_id is not None:
                channel = chat_accounts.team_channel(connection, destination.team_id, arguments.PLATFORM)
                kind = DestinationKind.TEAM_CHANNEL if channel else DestinationKind.ORIGIN
                out.append(Outgoing(kind, rendered, state, channel=channel, actions=reply.actions))
            elif destination.kind is DestinationKind.DM:
                user = users.get(destination.person_id) if destination.person_id is not None else None
                if user is None:
                    log.info("no Discord account for person %s: DM not sent", destination.person_id)
                    continue
                out.append(Outgoing(DestinationKind.DM, rendered, state, user=user, actions=reply.actions))
            else:
                out.append(Outgoing(destination.kind, rendered, state, actions=reply.actions))
        return out

    async def _deliver(self, interaction: discord.Interaction[Any], outgoing: list[Outgoing]) -> None:
        private_ones = [out for out in outgoing if out.kind is DestinationKind.CALLER]
        public_ones = [out for out in outgoing if out.kind is DestinationKind.ORIGIN]
        if private_ones:
            first = private_ones[0]
            await interaction.edit_original_response(**self._edit_kwargs(first))
        else:
            await interaction.edit_original_response(
                content=render("discord.posted", self.locale), allowed_mentions=NO_PINGS
            )
        for out in private_ones[1:]:
            await interaction.followup.send(**self._send_kwargs(out), ephemeral=True)
        for out in public_ones:
            await interaction.followup.send(**self._send_kwargs(out))
        for out in outgoing:
            try:
                if out.kind is DestinationKind.TEAM_CHANNEL and out.channel is not None:
                    await self.notifier.send_pages(out.channel, out.rendered.pages, out.actions)
                elif out.kind is DestinationKind.DM and out.user is not None:
                    await self.notifier.dm_user(out.user, out.rendered.pages, out.actions)
            except DeliveryFailed:
                # The command itself succeeded and answered; a notice that could not be delivered is
                # logged with its cause (the notifier has already retried what can be retried).
                log.exception(
                    "Discord notice for /%s not delivered", interaction.command and interaction.command.name
                )

    def _pager(self, state: PageState | None, pages: int) -> discord.ui.View | None:
        if state is None:
            return None
        previous = render("discord.previous", self.locale)
        following = render("discord.next", self.locale)
        return pager(state, pages, previous, following)

    def _edit_kwargs(self, out: Outgoing) -> dict[str, Any]:
        page = out.rendered.pages[0]
        view = action_view(out.actions, self._pager(out.state, len(out.rendered.pages)))
        kwargs: dict[str, Any] = {"embed": page.embed, "allowed_mentions": NO_PINGS}
        if page.images:
            kwargs["attachments"] = page.files()
        if view is not None:
            kwargs["view"] = view
        return kwargs

    def _send_kwargs(self, out: Outgoing) -> dict[str, Any]:
        pager = self._pager(out.state, len(out.rendered.pages))
        return _page_kwargs(out.rendered.pages[0], action_view(out.actions, pager))


def _page_kwargs(
    page: Page | None, view: discord.ui.View | None, content: str | None = None
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS, "wait": True}
    if content is not None:
        kwargs["content"] = content
    if page is not None:
        kwargs["embed"] = page.embed
        if page.images:
            kwargs["files"] = page.files()
    if view is not None:
        kwargs["view"] = view
    return kwargs
