"""The command registry shared by every adapter: names, help, roles, typed parameters and handlers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.handlers.contract import Command, Message, Param, Role

if TYPE_CHECKING:
    from bot.handlers.context import HandlerContext

Handler = Callable[[Command, "HandlerContext"], list[Message]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    help: str
    handler: Handler
    params: tuple[Param, ...] = ()
    roles: frozenset[Role] = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
    writes: bool = False  # claims the delivery id before running, so a replay has no effect
    linked: bool = True  # needs a caller linked to a person on the roster (False: /help works for anyone)


@dataclass
class Registry:
    commands: dict[str, CommandSpec] = field(default_factory=dict)

    def add(self, spec: CommandSpec) -> CommandSpec:
        if spec.name in self.commands:
            raise ValueError(f"command {spec.name!r} registered twice")
        self.commands[spec.name] = spec
        return spec

    def get(self, name: str) -> CommandSpec | None:
        return self.commands.get(name)

    # Subcommands are registered under two-word names ("challenge create"): Discord builds a command group
    # with subcommands from them; text adapters (Slack, the console) call `resolve` on `/challenge create …`.

    def resolve(self, name: str, text: str) -> tuple[str, str]:
        """(`challenge`, `create x`) -> (`challenge create`, `x`) when that subcommand is registered."""
        first, _, rest = text.strip().partition(" ")
        candidate = f"{name} {first.lower()}"
        if first and candidate in self.commands:
            return candidate, rest.strip()
        return name, text

    def subcommands(self, group: str) -> list[CommandSpec]:
        """The specs registered as `group <sub>`, by name."""
        return [spec for spec in self if spec.name.startswith(f"{group} ")]

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(sorted(self.commands.values(), key=lambda spec: spec.name))
