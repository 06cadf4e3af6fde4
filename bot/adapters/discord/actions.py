"""A Message's actions as buttons whose custom_id carries the registry command and its arguments.

`fb:act:<command>:<name>=<value>,…`: the command (a space written as `.`, `challenge.join`) and each
argument by name, percent-encoded as for paging. Pressing one runs that command through the registry as
the person who pressed it, with the interaction id as delivery identity; nothing lives in memory, so a
button keeps working after a restart. A button whose custom_id would pass Discord's 100 characters, or
beyond Discord's 5 rows of 5, is left out and logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import discord

from bot.adapters.discord.paging import CUSTOM_ID_LIMIT, decode_value, encode_value
from bot.handlers.contract import Action, ParamKind
from bot.handlers.registry import CommandSpec

if TYPE_CHECKING:
    from bot.adapters.discord.interactions import DiscordAdapter

log = logging.getLogger(__name__)
TEMPLATE = r"fb:act:(?P<command>[a-z0-9_.-]+):(?P<args>[^:]*)"
BUTTONS_PER_ROW = 5
ROWS = 5
_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
    "success": discord.ButtonStyle.success,
}


@dataclass(frozen=True, slots=True)
class Pressed:
    """What a button asks for: the registry command and its arguments, still encoded."""

    command: str
    args: str

    @classmethod
    def of(cls, action: Action) -> Pressed:
        args = ",".join(f"{name}={encode_value(value)}" for name, value in action.args.items())
        return cls(action.command, args)

    def custom_id(self) -> str:
        return f"fb:act:{self.command.replace(' ', '.')}:{self.args}"

    def raw_args(self) -> dict[str, str]:
        pairs = (part.partition("=") for part in self.args.split(",") if part)
        return {name: unquote(value) for name, _, value in pairs}

    def person_ids(self, spec: CommandSpec) -> set[int]:
        """The people the arguments name, to look their names up before decoding."""
        kinds = {param.name: param.kind for param in spec.params}
        found: set[int] = set()
        for name, text in self.raw_args().items():
            if kinds.get(name) in (ParamKind.PERSON, ParamKind.PEOPLE):
                found.update(int(part) for part in text.split("+") if part.isdigit())
        return found

    def decode(self, spec: CommandSpec, names: dict[int, str]) -> dict[str, Any]:
        """Typed arguments for `spec`; a name the command no longer takes is dropped."""
        params = {param.name: param for param in spec.params}
        args: dict[str, Any] = {}
        for name, text in self.raw_args().items():
            param = params.get(name)
            if param is None:
                log.warning("button for /%s names an unknown argument %r", spec.name, name)
                continue
            args[name] = decode_value(param, text, names)
        return args


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """A handler's button (approve, deny…); registered with the client so old messages keep working."""

    def __init__(self, pressed: Pressed, label: str, style: str = "default", row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=_STYLES.get(style, discord.ButtonStyle.secondary),
                custom_id=pressed.custom_id(),
                row=row,
            )
        )
        self.pressed = pressed

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ActionButton:
        pressed = Pressed(match["command"].replace(".", " "), match["args"])
        label = item.label if isinstance(item, discord.ui.Button) and item.label else "…"
        return cls(pressed, label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        adapter: DiscordAdapter = interaction.client.adapter
        await adapter.run_action(interaction, self.pressed)


def add_actions(view: discord.ui.View, actions: Sequence[Action], first_row: int = 0) -> int:
    """Add a button per action, 5 to a row from `first_row`; returns how many were added."""
    added = 0
    room = (ROWS - first_row) * BUTTONS_PER_ROW
    for action in actions:
        pressed = Pressed.of(action)
        if len(pressed.custom_id()) > CUSTOM_ID_LIMIT or added == room:
            log.warning("button %r for /%s left out: no room on Discord", action.label, action.command)
            continue
        row = first_row + added // BUTTONS_PER_ROW
        view.add_item(ActionButton(pressed, action.label, action.style, row))
        added += 1
    return added


def action_view(actions: Sequence[Action], pager: discord.ui.View | None = None) -> discord.ui.View | None:
    """One view with the paging buttons (their own first row) and the actions; None when empty."""
    if not actions:
        return pager
    view = pager if pager is not None else discord.ui.View(timeout=None)
    added = add_actions(view, actions, first_row=1 if pager is not None else 0)
    return view if added or pager is not None else None
