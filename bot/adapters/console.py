"""The console adapter: a line typed as in Slack goes through the registry; replies come back as plain text.

Every Message is printed with its destination, so a terminal (or a test) sees what each place would get:
`[private to Martha]`, `[#floor]`, `[team channel: Blue]`, `[DM to Jim]`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from itertools import count
from typing import TextIO

from sqlalchemy import Connection

from bot.handlers.access import actor_for, unlinked_actor
from bot.handlers.context import HandlerContext
from bot.handlers.contract import (
    Actor,
    Command,
    Destination,
    DestinationKind,
    Fields,
    Image,
    Mention,
    Message,
    PersonRef,
    Segment,
    Table,
    Text,
    UserText,
)
from bot.handlers.dispatch import dispatch
from bot.handlers.parsing import ParseError, parse_args, split_command, vocabulary
from bot.handlers.registry import Registry
from bot.handlers.replies import private
from bot.messages import render
from bot.services import people

PLATFORM = "console"


class ConsoleAdapter:
    """Runs command lines as a named person and renders the replies as text; also a Notifier."""

    def __init__(
        self,
        ctx: HandlerContext,
        registry: Registry,
        out: TextIO,
        *,
        namespace: str = "console",
        channel: str = "floor",
        locale: str = "en",
    ) -> None:
        self.ctx = ctx
        self.registry = registry
        self.out = out
        self.namespace = namespace
        self.channel = channel
        self.locale = locale
        self._sent = count(1)

    def say(self, line: str, *, as_name: str, delivery_id: str | None = None) -> str:
        """Run one line as `as_name`, write every destination's text to the stream and return it."""
        try:
            actor = self.actor(as_name)
            replies = self.handle(line, actor=actor, delivery_id=delivery_id)
        except people.AmbiguousName as error:
            message = render(
                "console.ambiguous_caller", self.locale, name=error.name, count=len(error.candidates)
            )
            replies = [private(message)]
        text = self.render_all(replies, caller=as_name.strip())
        self.out.write(text + "\n")
        return text

    def actor(self, name: str) -> Actor:
        """The person `--as NAME` names: a console identity, else a display name (linked on first use).

        Raises people.AmbiguousName when several people have that display name and no identity decides.
        """
        with self.ctx.engine.begin() as connection:
            person = people.console_person(connection, self.namespace, name)
            if person is not None:
                return actor_for(connection, person, platform=PLATFORM, platform_user_id=name)
        return unlinked_actor(name.strip(), platform=PLATFORM, platform_user_id=name)

    def handle(self, line: str, *, actor: Actor, delivery_id: str | None = None) -> list[Message]:
        """Parse `line` into a Command through the registry's params and dispatch it.

        A fresh delivery id per line makes two identical kudos two kudos; pass `delivery_id` to replay one.
        """
        name, text = self.registry.resolve(*split_command(line))
        spec = self.registry.get(name)
        args = {}
        if spec is not None and (actor.person_id is not None or not spec.linked):
            try:
                with self.ctx.engine.connect() as connection:
                    vocab = vocabulary(
                        connection,
                        lambda handle: self._mention(connection, handle),
                        self.locale,
                        [rule.id for rule in self.ctx.program.league_rules()],
                    )
                    args = parse_args(spec, text, vocab)
            except ParseError as error:
                return [private(error.message)]
        command = Command(
            name,
            actor,
            args,
            delivery_id or uuid.uuid4().hex,
            origin_channel=self.channel,
            locale=self.locale,
        )
        return dispatch(self.registry, command, self.ctx)

    def render_all(self, messages: Iterable[Message], *, caller: str) -> str:
        return "\n\n".join(self.render(message, caller=caller) for message in messages)

    def render(self, message: Message, *, caller: str) -> str:
        """`[destination] title` then the body as plain text."""
        header = self._destination(message.destination, caller)
        if message.title:
            header = f"{header} {message.title}"
        body = render_segments(message.segments, self.locale)
        buttons = [
            render("console.button", self.locale, label=a.label, command=a.command) for a in message.actions
        ]
        return "\n".join(part for part in (header, body, *buttons) if part)

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str:
        self.out.write(self._notice(f"[#{channel}]", message))
        return f"console:{next(self._sent)}"

    async def dm(self, person_id: int, message: Message, *, key: str | None = None) -> str:
        header = self._destination(Destination(DestinationKind.DM, person_id=person_id), caller="")
        self.out.write(self._notice(header, message))
        return f"console:{next(self._sent)}"

    async def upload(
        self, channel: str, filename: str, data: bytes, title: str, *, key: str | None = None
    ) -> str:
        line = render("console.file", self.locale, title=title, filename=filename, size=len(data))
        self.out.write(f"[#{channel}]\n{line}\n\n")
        return f"console:{next(self._sent)}"

    def _notice(self, header: str, message: Message) -> str:
        title = f" {message.title}" if message.title else ""
        return f"{header}{title}\n{render_segments(message.segments, self.locale)}\n\n"

    def _destination(self, destination: Destination, caller: str) -> str:
        locale = self.locale
        if destination.kind is DestinationKind.CALLER:
            return render("console.to.caller", locale, name=caller)
        if destination.kind is DestinationKind.ORIGIN:
            return render("console.to.origin", locale, channel=self.channel)
        with self.ctx.engine.connect() as connection:
            if destination.kind is DestinationKind.TEAM_CHANNEL and destination.team_id is not None:
                team = people.team(connection, destination.team_id)
                name = team.name if team else render("console.unknown_team", locale, team=destination.team_id)
                return render("console.to.team_channel", locale, team=name)
            person = (
                people.get(connection, destination.person_id) if destination.person_id is not None else None
            )
        name = (
            person.display_name
            if person
            else render("console.unknown_person", locale, person=destination.person_id)
        )
        return render("console.to.dm", locale, name=name)

    def _mention(self, connection: Connection, handle: str) -> PersonRef | None:
        return resolve_mention(connection, self.namespace, handle, self.locale)


def resolve_mention(
    connection: Connection, namespace: str, handle: str, locale: str = "en", *, kind: str = PLATFORM
) -> PersonRef | None:
    """`@Martha` or `@"Martha Jones"`: a chat identity of `kind` (a console name, a Slack user id), the
    display name, or a unique first name."""
    try:
        person = (
            people.by_identity(connection, kind, namespace, handle)
            or people.by_display_name(connection, handle)
            or people.by_first_name(connection, handle)
        )
    except people.AmbiguousName as error:
        raise ParseError(
            render(
                "parse.ambiguous_person",
                locale,
                handle=f"@{handle}",
                candidates=", ".join(error.candidates),
                first=error.candidates[0],
            )
        ) from None
    return PersonRef(person.id, person.display_name) if person else None


def render_segments(segments: Iterable[Segment], locale: str = "en") -> str:
    """Plain text: mentions as @Name, tables as aligned columns, fields as `name: value` lines."""
    text = ""
    for segment in segments:
        if isinstance(segment, Text | UserText):
            text += segment.text
        elif isinstance(segment, Mention):
            text += f"@{segment.display_name}"
        elif isinstance(segment, Table):
            text = _block(text, format_table(segment))
        elif isinstance(segment, Fields):
            text = _block(text, "\n".join(f"{name}: {value}" for name, value in segment.items))
        elif isinstance(segment, Image):
            line = render(
                "console.image", locale, alt=segment.alt, filename=segment.filename, size=len(segment.data)
            )
            text = _block(text, line)
    return text.strip("\n")


def _block(text: str, block: str) -> str:
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}{block}\n"


def format_table(table: Table) -> str:
    """Aligned columns, two spaces apart; `align` "right" right-justifies a column."""
    rows = [table.headers, *table.rows]
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(len(table.headers))]
    lines = []
    for row in rows:
        cells = []
        for i, width in enumerate(widths):
            cell = row[i] if i < len(row) else ""
            right = i < len(table.align) and table.align[i] == "right"
            cells.append(cell.rjust(width) if right else cell.ljust(width))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
