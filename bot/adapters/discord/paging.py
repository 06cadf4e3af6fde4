"""Paging buttons that keep working after a restart: nothing they need lives in memory.

`fb:pg:<page>:<reply>:<command>:<args>`: the page wanted, which reply of the command holds the board, and
the command's arguments in its params' order (percent-encoded, comma-separated). Pressing one reruns the
read-only command as the person who pressed it and shows that page.

`fb:ps:<page>:<key>`: the page wanted of a reply kept in the database (`kept_replies`, row `key`). A
writing command's reply is kept as it was sent and redrawn from there, so turning its pages never runs
the command again; a read-only command whose arguments pass Discord's 100 characters keeps its command
and arguments there and is rerun as above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import discord

from bot.handlers.contract import Param, ParamKind, PersonRef
from bot.handlers.registry import CommandSpec
from bot.scoring.periods import Period

if TYPE_CHECKING:
    from bot.adapters.discord.interactions import DiscordAdapter

CUSTOM_ID_LIMIT = 100
TEMPLATE = (
    r"fb:(?:pg:(?P<page>\d+):(?P<reply>\d+):(?P<command>[a-z0-9_-]+):(?P<args>[^:]*)"
    r"|ps:(?P<kept_page>\d+):(?P<key>\d+))"
)
_SAFE = "-_.~+"


@dataclass(frozen=True, slots=True)
class PageState:
    command: str
    args: str  # encoded; decoded against the command's params when the button is pressed
    reply: int
    page: int

    def custom_id(self) -> str:
        return f"fb:pg:{self.page}:{self.reply}:{self.command}:{self.args}"

    def fits(self) -> bool:
        return len(self.custom_id()) <= CUSTOM_ID_LIMIT

    def at(self, page: int) -> PageState:
        return PageState(self.command, self.args, self.reply, page)


@dataclass(frozen=True, slots=True)
class StoredPages:
    """Pages of a reply kept in the database: `key` is its row, `page` the one wanted."""

    key: int
    page: int

    def custom_id(self) -> str:
        return f"fb:ps:{self.page}:{self.key}"

    def at(self, page: int) -> StoredPages:
        return StoredPages(self.key, page)


Paging = PageState | StoredPages


def encode_args(spec: CommandSpec, args: dict[str, Any]) -> str:
    return ",".join(encode_value(args.get(param.name)) for param in spec.params)


def decode_args(spec: CommandSpec, encoded: str, names: dict[int, str]) -> dict[str, Any]:
    """Arguments back from `encode_args`; people get their display names from `names` (person id → name)."""
    values = encoded.split(",") if spec.params else []
    if len(values) != len(spec.params):
        raise ValueError(f"custom id holds {len(values)} arguments, /{spec.name} takes {len(spec.params)}")
    return {
        param.name: decode_value(param, unquote(raw), names)
        for param, raw in zip(spec.params, values, strict=True)
    }


def decode_value(param: Param, text: str, names: dict[int, str]) -> Any:
    """One argument back from `encode_value` (already unquoted), typed by its param's kind."""
    if param.kind is ParamKind.PEOPLE:
        return tuple(_person(part, names) for part in text.split("+") if part)
    if not text:
        return None
    if param.kind is ParamKind.PERSON:
        return _person(text, names)
    if param.kind is ParamKind.DATE:
        return date.fromisoformat(text)
    if param.kind is ParamKind.PERIOD:
        return Period(text)
    if param.kind is ParamKind.INTEGER:
        return int(text)
    if param.kind is ParamKind.NUMBER:
        return float(text)
    return text


def person_ids(spec: CommandSpec, encoded: str) -> set[int]:
    """The people an encoded argument list names, to look their names up before decoding."""
    values = encoded.split(",")
    found: set[int] = set()
    for param, raw in zip(spec.params, values, strict=False):
        if param.kind in (ParamKind.PERSON, ParamKind.PEOPLE):
            found.update(int(part) for part in unquote(raw).split("+") if part.isdigit())
    return found


def encode_value(value: Any) -> str:
    """A value as custom_id text: people by id, several joined by +, percent-encoded."""
    if value is None:
        return ""
    if isinstance(value, PersonRef):
        return str(value.person_id)
    if isinstance(value, tuple | list):
        return quote("+".join(encode_value(item) for item in value), safe=_SAFE)
    if isinstance(value, Enum):
        return quote(str(value.value), safe=_SAFE)
    if isinstance(value, date):
        return value.isoformat()
    return quote(str(value), safe=_SAFE)


def _person(text: str, names: dict[int, str]) -> PersonRef:
    person_id = int(text)
    return PersonRef(person_id, names.get(person_id, ""))


class PageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """ "◀" or "▶" on a paged answer, of either form; registered with the client so it works on messages
    sent before a restart."""

    def __init__(self, state: Paging, label: str) -> None:
        super().__init__(
            discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, custom_id=state.custom_id())
        )
        self.state = state

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        page = int(match["page"] or match["kept_page"])
        state: Paging = (
            StoredPages(int(match["key"]), page)
            if match["key"] is not None
            else PageState(match["command"], match["args"], int(match["reply"]), page)
        )
        label = item.label if isinstance(item, discord.ui.Button) and item.label else "…"
        return cls(state, label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        adapter: DiscordAdapter = interaction.client.adapter
        if isinstance(self.state, StoredPages):
            await adapter.turn_stored_page(interaction, self.state)
        else:
            await adapter.turn_page(interaction, self.state)


def pager(state: Paging, pages: int, previous: str, following: str) -> discord.ui.View | None:
    """The buttons for page `state.page` of `pages`; None when there is one page or no room for state."""
    if pages <= 1 or (isinstance(state, PageState) and not state.at(pages).fits()):
        return None
    view = discord.ui.View(timeout=None)
    if state.page > 0:
        view.add_item(_button(state.at(state.page - 1), previous))
    if state.page < pages - 1:
        view.add_item(_button(state.at(state.page + 1), following))
    return view


def _button(state: Paging, label: str) -> discord.ui.Item[Any]:
    return PageButton(state, label)
