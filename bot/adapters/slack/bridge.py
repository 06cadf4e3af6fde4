"""From a Slack request to replies in Slack: parse, dispatch and plan on a worker thread, send on the loop.

Listeners acknowledge first and then call the bridge, so a slow database never delays an ack. Everything
that touches the database (who the caller is, the command itself, who a mention is, where a team's
channel is) runs through `asyncio.to_thread`; only Slack calls run on the event loop.

Replies to the caller and to the channel go through the request's response_url, which Slack takes at most
five times: the first page of each reply goes there while it has uses left, and every other page (a long
board's page 2 onwards) through chat.postEphemeral or chat.postMessage, in order.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Connection

from bot.adapters.console import resolve_mention
from bot.adapters.slack import approvers
from bot.adapters.slack.blocks import SlackMessage, render_message
from bot.adapters.slack.escape import unescape
from bot.adapters.slack.identity import PLATFORM, Identities, OtherWorkspace
from bot.handlers.context import HandlerContext
from bot.handlers.contract import Actor, Command, DestinationKind, Message, PersonRef
from bot.handlers.dispatch import dispatch
from bot.handlers.parsing import ParseError, parse_args, vocabulary
from bot.handlers.registry import Registry
from bot.handlers.replies import private
from bot.messages import render
from bot.services import links, people

log = logging.getLogger(__name__)

ROOT = "floorboard"
KUDOS = "kudos"
_MENTIONED = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")

Respond = Callable[..., Awaitable[Any]]
Route = Literal["ephemeral", "in_channel", "post", "dm"]


class ResponseUrl:
    """A request's response_url (Bolt's `respond`): Slack takes at most USES posts to one, in 30 minutes."""

    USES = 5

    def __init__(self, respond: Respond) -> None:
        self._respond = respond
        self.left = self.USES

    async def post(self, page: SlackMessage, response_type: str) -> bool:
        """Whether Slack took the page; False once the uses are spent or when Slack refuses the post
        (a response_url used up or older than 30 minutes answers 404), and then for good."""
        if self.left <= 0:
            return False
        self.left -= 1
        answer = await self._respond(
            text=page.text, blocks=page.blocks, response_type=response_type, replace_original=False
        )
        status = getattr(answer, "status_code", 200)
        if status != 200:
            self.left = 0
            log.warning(
                "the response_url refused a reply (%s %s); the rest goes through the Web API",
                status,
                getattr(answer, "body", ""),
            )
            return False
        return True


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from: the workspace, the caller, the channel and a response_url if any."""

    team: str
    user: str
    channel: str | None = None
    reply: ResponseUrl | None = None

    @classmethod
    def of(cls, team: str, user: str, channel: str | None, respond: Respond | None = None) -> Origin:
        return cls(team, user, channel, ResponseUrl(respond) if respond is not None else None)


@dataclass(frozen=True, slots=True)
class Outgoing:
    route: Route
    target: str | None  # the channel or user for post/dm
    message: SlackMessage
    first: bool = True  # the first page of its reply


def route_command(slash: str, text: str, registry: Registry) -> tuple[str, str]:
    """`/floorboard kudos @a thanks` → (`kudos`, `@a thanks`); `/floorboard optout` stays the root
    command; `/leaderboard csat` → (`leaderboard`, `csat`); `/challenge create …` and
    `/floorboard challenge create …` → (`challenge create`, `…`); a bare `/floorboard` is its help."""
    name = slash.lstrip("/").lower()
    if name != ROOT:
        return registry.resolve(name, text)
    sub, _, rest = text.strip().partition(" ")
    if not sub:
        return ROOT, "help"
    group = sub.lower()
    if group != ROOT and (registry.get(group) is not None or registry.subcommands(group)):
        return registry.resolve(group, rest.strip())
    return ROOT, text.strip()


class Bridge:
    def __init__(
        self, ctx: HandlerContext, registry: Registry, identities: Identities, locale: str = "en"
    ) -> None:
        self.ctx = ctx
        self.registry = registry
        self.identities = identities
        self.locale = locale

    async def actor(self, client: AsyncWebClient, origin: Origin, name: str = "") -> Actor | None:
        """The caller, or None after telling them this workspace is not the bound one."""
        try:
            return await self.identities.actor(client, origin.team, origin.user, name)
        except OtherWorkspace:
            await self.send(client, origin, [private(render("slack.other_workspace", self.locale))])
            return None

    async def run_text(
        self,
        client: AsyncWebClient,
        origin: Origin,
        name: str,
        text: str,
        delivery_id: str,
        user_name: str = "",
    ) -> None:
        """A command typed as text (slash commands): parse through the registry's params and dispatch."""
        actor = await self.actor(client, origin, user_name)
        if actor is None:
            return
        mentioned = _MENTIONED.findall(text)
        await self.identities.link_users(client, origin.team, mentioned)
        bots = await self.identities.bots(client, mentioned) if name == KUDOS else {}
        replies = await asyncio.to_thread(
            self._parse_and_dispatch, name, text, actor, delivery_id, origin, bots
        )
        if name == approvers.COMMAND and actor.person_id is None:
            replies = await approvers.with_group_approvers(self, client, origin, replies)
        await self.send(client, origin, replies)

    async def run_args(
        self,
        client: AsyncWebClient,
        origin: Origin,
        actor: Actor,
        name: str,
        args: dict[str, Any],
        delivery_id: str,
    ) -> None:
        """A command whose arguments are already typed (modals, buttons)."""
        command = Command(name, actor, args, delivery_id, origin_channel=origin.channel, locale=self.locale)
        replies = await asyncio.to_thread(dispatch, self.registry, command, self.ctx)
        await self.send(client, origin, replies)

    async def people_of(
        self, client: AsyncWebClient, team: str, users: list[str], *, no_bots: bool = False
    ) -> list[PersonRef] | str:
        """The people Slack users are, linking by e-mail first; a refusal message if one is unknown (or,
        with `no_bots`, a bot user)."""
        if no_bots:
            bots = await self.identities.bots(client, users)
            if bots:
                return render("kudos.refused.bot", self.locale, name=", ".join(bots.values()))
        await self.identities.link_users(client, team, users)
        return await asyncio.to_thread(self._people_of, team, users)

    async def send(self, client: AsyncWebClient, origin: Origin, replies: list[Message]) -> None:
        for outgoing in await asyncio.to_thread(self.plan, origin, replies):
            try:
                await self._deliver(client, origin, outgoing)
            except SlackApiError as error:  # one unreachable place does not cost the others their reply
                log.warning(
                    "%s to %s failed: %s", outgoing.route, outgoing.target, error.response.get("error")
                )

    async def failed(self, client: AsyncWebClient, origin: Origin, what: str) -> None:
        """Call from an `except` block after the ack: the error is logged once, with its traceback, and
        the caller is told privately (without the database, which may be what failed)."""
        log.exception("%s failed after its ack", what)
        sorry = private(render("slack.failed", self.locale))
        pages = render_message(sorry, lambda _person: None, self.locale)
        try:
            for page in pages:
                await self._deliver(client, origin, Outgoing("ephemeral", origin.user, page))
        except Exception as error:  # the failure itself is logged above; this is only the apology
            log.warning("could not tell %s that %s failed: %s", origin.user, what, error)

    def plan(self, origin: Origin, replies: list[Message]) -> list[Outgoing]:
        """Each reply rendered, with where it goes: mentions and team channels are looked up here."""
        planned: list[Outgoing] = []
        with self.ctx.engine.connect() as connection:

            def user_of(person_id: int) -> str | None:
                return links.user_of(connection, person_id, PLATFORM, origin.team)

            for reply in replies:
                route, target = self._where(connection, origin, reply, user_of)
                if route is None:
                    log.info("no Slack destination for %s; not sent", reply.destination)
                    continue
                for number, page in enumerate(render_message(reply, user_of, self.locale)):
                    planned.append(Outgoing(route, target, page, first=number == 0))
        return planned

    def _where(
        self, connection: Connection, origin: Origin, reply: Message, user_of: Callable[[int], str | None]
    ) -> tuple[Route | None, str | None]:
        kind = reply.destination.kind
        if kind is DestinationKind.CALLER:
            return "ephemeral", origin.user
        if kind is DestinationKind.DM:
            person_id = reply.destination.person_id
            user = user_of(person_id) if person_id is not None else None
            return ("dm", user) if user else (None, None)
        if kind is DestinationKind.TEAM_CHANNEL and reply.destination.team_id is not None:
            channel = people.team_channel(connection, reply.destination.team_id, PLATFORM)
            if channel:
                return "post", channel
        return "in_channel", origin.channel

    async def _deliver(self, client: AsyncWebClient, origin: Origin, outgoing: Outgoing) -> None:
        page = outgoing.message
        if outgoing.route in ("dm", "post"):
            await client.chat_postMessage(channel=outgoing.target or "", text=page.text, blocks=page.blocks)
            return
        if outgoing.first and origin.reply is not None and await origin.reply.post(page, outgoing.route):
            return
        if outgoing.route == "in_channel" and origin.channel:
            try:
                await client.chat_postMessage(channel=origin.channel, text=page.text, blocks=page.blocks)
                return
            except SlackApiError as error:  # e.g. a private channel without the bot: the caller still sees it
                log.info("chat.postMessage to %s failed: %s", origin.channel, error.response.get("error"))
        await self._private(client, origin, page)

    async def _private(self, client: AsyncWebClient, origin: Origin, page: SlackMessage) -> None:
        """An ephemeral message in the origin channel, or a DM when there is none or the bot is not in it."""
        if origin.channel:
            try:
                await client.chat_postEphemeral(
                    channel=origin.channel, user=origin.user, text=page.text, blocks=page.blocks
                )
                return
            except SlackApiError as error:  # e.g. not_in_channel
                log.info("chat.postEphemeral in %s failed: %s", origin.channel, error.response.get("error"))
        await client.chat_postMessage(channel=origin.user, text=page.text, blocks=page.blocks)

    def _parse_and_dispatch(
        self,
        name: str,
        text: str,
        actor: Actor,
        delivery_id: str,
        origin: Origin,
        bots: dict[str, str] | None = None,
    ) -> list[Message]:
        spec = self.registry.get(name)
        args: dict[str, Any] = {}
        refused = bots or {}

        def person(connection: Connection, handle: str) -> PersonRef | None:
            if handle in refused:  # a bot named where people are expected: no kudos for bots
                raise ParseError(render("kudos.refused.bot", self.locale, name=refused[handle]))
            return resolve_handle(connection, origin.team, handle, self.locale)

        if spec is not None and (actor.person_id is not None or not spec.linked):
            try:
                with self.ctx.engine.connect() as connection:
                    vocab = vocabulary(
                        connection,
                        lambda handle: person(connection, handle),
                        self.locale,
                        [rule.id for rule in self.ctx.program.league_rules()],
                    )
                    args = parse_args(spec, text, vocab)
            except ParseError as error:
                return [private(error.message)]
        args = {key: unescape(value) if isinstance(value, str) else value for key, value in args.items()}
        command = Command(name, actor, args, delivery_id, origin_channel=origin.channel, locale=self.locale)
        return dispatch(self.registry, command, self.ctx)

    def _people_of(self, team: str, users: list[str]) -> list[PersonRef] | str:
        found = []
        with self.ctx.engine.connect() as connection:
            for user in users:
                person = people.by_identity(connection, PLATFORM, team, user)
                if person is None:
                    return render("parse.unknown_person", self.locale, handle=f"<@{user}>")
                found.append(PersonRef(person.id, person.display_name))
        return found


def resolve_handle(connection: Connection, team: str, handle: str, locale: str) -> PersonRef | None:
    """A mention: a Slack user id linked in this workspace, else a display name or unique first name."""
    return resolve_mention(connection, team, handle, locale, kind=PLATFORM)
