"""The contract between platform-neutral handlers and every adapter (DESIGN.md §3).

A handler takes a Command and returns Messages. Adapters parse platform payloads into Commands and render
Messages: Block Kit on Slack, embeds on Discord, plain text on the console.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who typed the command: the linked person (None until linked), roles and supervised teams."""

    person_id: int | None
    display_name: str
    roles: frozenset[Role] = frozenset({Role.AGENT})
    supervised_team_ids: frozenset[int] = frozenset()
    platform: str = "console"
    platform_user_id: str = ""

    def has(self, role: Role) -> bool:
        return role in self.roles or Role.ADMIN in self.roles


class ParamKind(StrEnum):
    PERSON = "person"
    PEOPLE = "people"
    METRIC = "metric"
    PERIOD = "period"
    TEAM = "team"
    LEAGUE = "league"
    TEXT = "text"
    CHOICE = "choice"
    DATE = "date"
    INTEGER = "integer"
    NUMBER = "number"  # a decimal such as 3.5 (Discord: a NUMBER option)


@dataclass(frozen=True, slots=True)
class Param:
    """A typed parameter: Slack and the console parse text into it; Discord builds an option from it."""

    name: str
    kind: ParamKind
    help: str
    required: bool = False
    choices: tuple[str, ...] = ()
    autocomplete: str | None = None
    # TEXT only: typed as one quoted string (or name="…"), never as bare words, so a word that fits no
    # other param is an error that names it instead of silently starting the text.
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class PersonRef:
    person_id: int
    display_name: str


@dataclass(frozen=True, slots=True)
class Command:
    """One invocation: `delivery_id` is the platform's delivery identity, the key against replays."""

    name: str
    actor: Actor
    args: dict[str, Any]
    delivery_id: str
    origin_channel: str | None = None
    locale: str = "en"


class DestinationKind(StrEnum):
    CALLER = "caller"  # private to the person who typed the command (ephemeral)
    ORIGIN = "origin"  # the channel the command came from
    TEAM_CHANNEL = "team_channel"
    DM = "dm"


@dataclass(frozen=True, slots=True)
class Destination:
    kind: DestinationKind
    team_id: int | None = None
    person_id: int | None = None

    @property
    def private(self) -> bool:
        return self.kind in (DestinationKind.CALLER, DestinationKind.DM)


CALLER = Destination(DestinationKind.CALLER)
ORIGIN = Destination(DestinationKind.ORIGIN)


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class UserText:
    """Text a user typed: adapters escape it so it can never mention or broadcast."""

    text: str


@dataclass(frozen=True, slots=True)
class Mention:
    person_id: int
    display_name: str


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Fields:
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Image:
    filename: str
    data: bytes
    alt: str


Segment = Text | UserText | Mention | Table | Fields | Image


@dataclass(frozen=True, slots=True)
class Action:
    """A button: pressing it runs `command` with `args` through the registry."""

    label: str
    command: str
    args: dict[str, Any] = field(default_factory=dict)
    style: str = "default"


@dataclass(frozen=True, slots=True)
class Message:
    destination: Destination
    segments: tuple[Segment, ...]
    title: str | None = None
    actions: tuple[Action, ...] = ()


class Notifier(Protocol):
    """Outbound port every adapter implements; the outbox dispatcher sends through it.

    `key` is the outbox message's dedupe key when the dispatcher sends one: a platform that can make a
    resend idempotent (a nonce, a record of the pages already posted) derives it from the key.
    """

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str: ...

    async def dm(self, person_id: int, message: Message, *, key: str | None = None) -> str: ...

    async def upload(
        self, channel: str, filename: str, data: bytes, title: str, *, key: str | None = None
    ) -> str: ...


class HandlerError(Exception):
    """A user-facing refusal; the message is already rendered from the catalogue."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
