"""Running an app command, a handler's button or a paging button: acknowledge first, then the database,
then the answers.

Every interaction is deferred before anything touches the database (Discord allows 3 seconds for the
first response, a slow database may take longer), ephemerally, so the "thinking" note only the caller
sees becomes their private answer. Public answers follow as separate followups. Nothing is acknowledged
twice: after the defer only the original response is edited and followups are sent, and an interaction
delivered again (a gateway replay, or a second replica that received it too) is left to the delivery
that acknowledged it.

Team-channel posts and DMs that a command sends (a kudos post, the recipients' notices, an approval
request) go through the outbox in the transaction after the command's, are tried at once, and when that
fails stay there for the dispatcher to retry, with the same nonces, so they are neither lost nor doubled.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord
from sqlalchemy import Connection

from bot.adapters.discord import arguments
from bot.adapters.discord.actions import Pressed, action_view
from bot.adapters.discord.embeds import NO_PINGS, Page, Rendered, mentioned_people, render_message
from bot.adapters.discord.notifier import DiscordNotifier
from bot.adapters.discord.paging import (
    PageState,
    Paging,
    StoredPages,
    decode_args,
    encode_args,
    pager,
    person_ids,
)
from bot.handlers.context import HandlerContext
from bot.handlers.contract import Action, Actor, Command, DestinationKind, Message
from bot.handlers.dispatch import dispatch
from bot.handlers.parsing import ParseError
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import private
from bot.jobs.codec import decode_message, encode_message
from bot.messages import render
from bot.services import chat_accounts, kept_replies, outbox, people

log = logging.getLogger(__name__)
#: Discord's JSON error code for a second response to one interaction.
ALREADY_ACKNOWLEDGED = 40060
#: Interaction ids remembered as acknowledged; a gateway replay comes within minutes, not thousands later.
REMEMBERED_INTERACTIONS = 4096
#: The outbox payload of a reply kept for its paging buttons.


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One answer to the interaction, rendered: privately to the caller, or in the channel it came from."""

    kind: DestinationKind  # CALLER or ORIGIN
    rendered: Rendered
    paging: Paging | None  # for paging buttons; None when the answer has one page
    actions: tuple[Action, ...] = ()
    reply: int = 0  # its index among the command's replies, which a rerun page looks for


@dataclass(frozen=True, slots=True)
class Planned:
    """What an interaction sends: its answers, and the outbox ids of its team posts and DMs."""

    answers: list[Outgoing]
    notices: list[int] = field(default_factory=list)


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
        self._acknowledged: OrderedDict[int, None] = OrderedDict()

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
        self, interaction: discord.Interaction[Any], name: str, work: Callable[[], Planned]
    ) -> None:
        if not await self._acknowledge(interaction, ephemeral=True, thinking=True):
            return
        try:
            planned = await asyncio.to_thread(work)
        except Exception:
            log.exception("/%s failed for Discord user %s", name, interaction.user.id)
            await interaction.edit_original_response(
                content=render("discord.failed", self.locale), allowed_mentions=NO_PINGS
            )
            return
        try:
            await self._deliver(interaction, planned.answers)
        finally:
            await self._send_notices(planned.notices)

    async def _acknowledge(self, interaction: discord.Interaction[Any], **defer: Any) -> bool:
        """Defer, once per interaction; False when it was acknowledged already, here or elsewhere."""
        if interaction.id in self._acknowledged:
            log.info("Discord interaction %s delivered again: answered already", interaction.id)
            return False
        self._acknowledged[interaction.id] = None
        if len(self._acknowledged) > REMEMBERED_INTERACTIONS:
            self._acknowledged.popitem(last=False)
        try:
            await interaction.response.defer(**defer)
        except discord.HTTPException as error:
            if error.code != ALREADY_ACKNOWLEDGED:
                raise
            log.info("Discord interaction %s was acknowledged by another delivery", interaction.id)
            return False
        return True

    async def turn_page(self, interaction: discord.Interaction[Any], state: PageState) -> None:
        """A paging button of a read-only command: rerun it as the presser, show the asked page."""
        if not await self._acknowledge(interaction):
            return
        spec = self.registry.get(state.command)
        answers = await asyncio.to_thread(self._page_replies, interaction, spec, state) if spec else []
        await self._show_page(interaction, _reply(answers, state.reply), answers, state.page)

    async def turn_stored_page(self, interaction: discord.Interaction[Any], stored: StoredPages) -> None:
        """A paging button of a kept reply: redraw it as it was sent (a writing command's answer, never
        run again), or rerun the read-only command kept there."""
        if not await self._acknowledge(interaction):
            return
        kept = await asyncio.to_thread(self._kept, stored)
        if isinstance(kept, PageState):
            spec = self.registry.get(kept.command)
            answers = await asyncio.to_thread(self._page_replies, interaction, spec, kept) if spec else []
            await self._show_page(interaction, _reply(answers, kept.reply), answers, stored.page)
        else:
            await self._show_page(interaction, kept, [], stored.page)

    async def _show_page(
        self,
        interaction: discord.Interaction[Any],
        board: Outgoing | None,
        answers: list[Outgoing],
        page: int,
    ) -> None:
        """Edit the pressed message to page `page` of `board`; when the board is gone (the command now
        answers differently, e.g. a refusal for this presser), tell the presser privately what it says
        now and leave the message as it was."""
        if board is None or page >= len(board.rendered.pages):
            answer = next((out for out in answers if out.kind is DestinationKind.CALLER), None)
            content = None if answer is not None else render("discord.page_gone", self.locale)
            first = answer.rendered.pages[0] if answer is not None else None
            await interaction.followup.send(**_page_kwargs(first, None, content=content), ephemeral=True)
            return
        shown = board.rendered.pages[page]
        view = action_view(board.actions, self._pager(board.paging, len(board.rendered.pages)))
        await interaction.edit_original_response(
            embed=shown.embed, attachments=shown.files(), view=view, allowed_mentions=NO_PINGS
        )

    def _command_replies(
        self, interaction: discord.Interaction[Any], spec: CommandSpec, values: dict[str, Any]
    ) -> Planned:
        with self.ctx.engine.connect() as connection:
            caller = self._actor(connection, interaction)
            try:
                args = (
                    arguments.arguments(connection, spec, values, self.locale)
                    if caller.person_id is not None or not spec.linked
                    else {}
                )
            except ParseError as error:
                refused: list[Message] | None = [private(error.message)]
                args = {}
            else:
                refused = None
        replies = refused if refused is not None else self._dispatch(interaction, spec.name, caller, args)
        with self.ctx.engine.begin() as connection:
            return self._plan(connection, replies, spec, args, delivery=str(interaction.id))

    def _action_replies(self, interaction: discord.Interaction[Any], pressed: Pressed) -> Planned:
        spec = self.registry.get(pressed.command)
        with self.ctx.engine.connect() as connection:
            caller = self._actor(connection, interaction)
            if spec is None:
                args: dict[str, Any] = {}
            else:
                args = pressed.decode(spec, people.names(connection, pressed.person_ids(spec)))
        replies = self._dispatch(interaction, pressed.command, caller, args)
        if spec is None:
            return Planned(self._plain_outgoing(replies))
        with self.ctx.engine.begin() as connection:
            return self._plan(connection, replies, spec, args, delivery=str(interaction.id))

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
        with self.ctx.engine.begin() as connection:
            planned = self._plan(
                connection, replies, spec, args, delivery=str(interaction.id), page=state.page, notices=False
            )
        return planned.answers

    def _kept(self, stored: StoredPages) -> PageState | Outgoing | None:
        """What a kept-page button points at: a read-only command to rerun, or a reply redrawn."""
        with self.ctx.engine.connect() as connection:
            payload = kept_replies.payload_of(connection, stored.key, arguments.PLATFORM)
            if payload is None:
                return None
            if "message" not in payload:
                return PageState(payload["command"], payload["args"], int(payload["reply"]), stored.page)
            reply = decode_message(payload["message"])
            users = chat_accounts.user_ids(connection, arguments.PLATFORM, mentioned_people(reply))
        rendered = render_message(reply, users, self.locale)
        return Outgoing(DestinationKind.CALLER, rendered, stored, reply.actions)

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

    def _plan(
        self,
        connection: Connection,
        replies: list[Message],
        spec: CommandSpec,
        args: dict[str, Any],
        *,
        delivery: str,
        page: int = 0,
        notices: bool = True,
    ) -> Planned:
        """The answers rendered, with their paging; team posts and DMs queued in the outbox (unless
        `notices` is False: a page redrawn sends nothing new)."""
        mentioned = set().union(*(mentioned_people(reply) for reply in replies)) if replies else set()
        dm_people = {
            reply.destination.person_id
            for reply in replies
            if reply.destination.kind is DestinationKind.DM and reply.destination.person_id is not None
        }
        users = chat_accounts.user_ids(connection, arguments.PLATFORM, mentioned | dm_people)
        answers: list[Outgoing] = []
        queued: list[int | None] = []
        for index, reply in enumerate(replies):
            kind = reply.destination.kind
            if kind in (DestinationKind.TEAM_CHANNEL, DestinationKind.DM):
                notice = self._notice(connection, reply, users)
                if notice is not None:
                    if notices:
                        queued.append(self._enqueue(connection, f"{delivery}:{index}", notice, reply))
                    continue
                if kind is DestinationKind.DM:
                    continue  # the person has no Discord account
                kind = DestinationKind.ORIGIN  # the team has no Discord channel: post where asked
            rendered = render_message(reply, users, self.locale)
            paging = None
            if len(rendered.pages) > 1:
                paging = self._paging(
                    connection, spec, args, reply, index, page, delivery, len(rendered.pages)
                )
            answers.append(Outgoing(kind, rendered, paging, reply.actions, index))
        return Planned(answers, [notice_id for notice_id in queued if notice_id is not None])

    def _notice(
        self, connection: Connection, reply: Message, users: dict[int, str]
    ) -> tuple[str, dict[str, Any]] | None:
        """The outbox operation and destination of a team post or a DM; None when it has no place on
        Discord (a team without a Discord channel, a person without a Discord account)."""
        destination = reply.destination
        if destination.kind is DestinationKind.TEAM_CHANNEL and destination.team_id is not None:
            channel = chat_accounts.team_channel(connection, destination.team_id, arguments.PLATFORM)
            return ("post", {"platform": arguments.PLATFORM, "channel": channel}) if channel else None
        if destination.kind is DestinationKind.DM:
            person = destination.person_id
            if person is not None and person in users:
                return "dm", {"platform": arguments.PLATFORM, "person_id": person}
            log.info("no Discord account for person %s: DM not sent", person)
        return None

    def _enqueue(
        self, connection: Connection, key: str, notice: tuple[str, dict[str, Any]], reply: Message
    ) -> int | None:
        operation, destination = notice
        return outbox.enqueue(
            connection,
            dedupe_key=f"discord:notice:{key}",
            destination=destination,
            payload={"op": operation, "message": encode_message(reply)},
            now=self.ctx.clock(),
        )

    def _paging(
        self,
        connection: Connection,
        spec: CommandSpec,
        args: dict[str, Any],
        reply: Message,
        index: int,
        page: int,
        delivery: str,
        pages: int,
    ) -> Paging:
        """Buttons for a paged answer. A read-only command is rerun for each page, from its custom_id or,
        when its arguments do not fit there, from a kept row; a writing command's answer is kept as sent
        and redrawn from there, so a button never applies the command again."""
        if not spec.writes:
            state = PageState(spec.name, encode_args(spec, args), index, page)
            if state.at(pages).fits():
                return state
            digest = hashlib.sha256(f"{state.command}:{state.reply}:{state.args}".encode()).hexdigest()
            kept: dict[str, Any] = {"command": state.command, "args": state.args, "reply": index}
            key = f"discord:pages:{digest}"
        else:
            kept = {"message": encode_message(reply)}
            key = f"discord:pages:{delivery}:{index}"  # the answer it was
        row = kept_replies.keep(
            connection, key=key, platform=arguments.PLATFORM, payload=kept, now=self.ctx.clock()
        )
        return StoredPages(row, page)

    async def _deliver(self, interaction: discord.Interaction[Any], answers: list[Outgoing]) -> None:
        private_ones = [out for out in answers if out.kind is DestinationKind.CALLER]
        public_ones = [out for out in answers if out.kind is DestinationKind.ORIGIN]
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

    async def _send_notices(self, notice_ids: list[int]) -> None:
        """Try the team posts and DMs just queued; one that fails is marked so and retried by the outbox
        dispatcher, its nonces unchanged."""
        if not notice_ids:
            return
        engine, clock = self.ctx.engine, self.ctx.clock
        claimed = await asyncio.to_thread(
            outbox.claim, engine, clock(), limit=len(notice_ids), ids=notice_ids
        )
        for item in claimed:
            if not await asyncio.to_thread(outbox.hold, engine, item, clock()):
                continue  # its lease ran out while the ones before were sent: another sender has it
            try:
                sent = await self.notifier.deliver(item)
            except Exception as error:  # of any kind: the outbox records it and retries
                reason = f"{type(error).__name__}: {error}"
                await asyncio.to_thread(outbox.mark_failed, engine, item, clock(), reason)
                continue
            await asyncio.to_thread(outbox.mark_sent, engine, item, clock())
            log.info("sent %s as %s", item.dedupe_key, sent)

    def _pager(self, paging: Paging | None, pages: int) -> discord.ui.View | None:
        if paging is None:
            return None
        previous = render("discord.previous", self.locale)
        following = render("discord.next", self.locale)
        return pager(paging, pages, previous, following)

    def _edit_kwargs(self, out: Outgoing) -> dict[str, Any]:
        page = out.rendered.pages[0]
        view = action_view(out.actions, self._pager(out.paging, len(out.rendered.pages)))
        kwargs: dict[str, Any] = {"embed": page.embed, "allowed_mentions": NO_PINGS}
        if page.images:
            kwargs["attachments"] = page.files()
        if view is not None:
            kwargs["view"] = view
        return kwargs

    def _send_kwargs(self, out: Outgoing) -> dict[str, Any]:
        pager = self._pager(out.paging, len(out.rendered.pages))
        return _page_kwargs(out.rendered.pages[0], action_view(out.actions, pager))


def _reply(answers: list[Outgoing], index: int) -> Outgoing | None:
    return next((out for out in answers if out.reply == index), None)


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
