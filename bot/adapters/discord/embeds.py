"""Messages as Discord embeds within Discord's limits; a long table is split into pages.

Limits (discord.com/developers/docs/resources/message#embed-object-embed-limits): title 256, description
4096, 25 fields (name 256, value 1024), footer 2048, and 6000 characters in all. User text is escaped so it
can neither format nor mention; every send also carries allowed_mentions that ping no one.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.adapters.console import format_table
from bot.handlers.contract import Fields, Image, Mention, Message, Segment, Table, Text, UserText
from bot.messages import render

TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
TOTAL = 6000
ROWS_PER_PAGE = 15
COLOUR = 0x2E86AB
#: Nothing a bot sends may ping: not @everyone/@here, not a role, not a user.
NO_PINGS = discord.AllowedMentions.none()
_ZERO_WIDTH = "\u200b"
_FENCE = "```"


class SpecFile(discord.File):
    """A discord.File whose attachment id is sent as a string, as Discord's API spec types it (a
    snowflake); discord.py writes the index as an integer, which Discord also accepts."""

    def to_dict(self, index: int) -> dict[str, Any]:
        return {**super().to_dict(index), "id": str(index)}


def file_of(data: bytes, filename: str) -> discord.File:
    return SpecFile(io.BytesIO(data), filename=filename)


@dataclass(frozen=True, slots=True)
class Page:
    embed: discord.Embed
    images: tuple[Image, ...] = ()

    def files(self) -> list[discord.File]:
        """Fresh file objects (a discord.File is consumed by one send)."""
        return [file_of(image.data, image.filename) for image in self.images]


@dataclass(frozen=True, slots=True)
class Rendered:
    """One Message as pages; `pages` has one entry unless a table was too long for one embed."""

    pages: tuple[Page, ...]
    mentioned: frozenset[int] = field(default_factory=frozenset)


def escape(text: str) -> str:
    """Text that can neither format (markdown) nor mention: every @ is followed by a zero-width space."""
    return discord.utils.escape_markdown(text).replace("@", "@" + _ZERO_WIDTH)


def mentioned_people(message: Message) -> set[int]:
    return {segment.person_id for segment in message.segments if isinstance(segment, Mention)}


def render_message(
    message: Message, user_ids: Mapping[int, str], locale: str = "en", *, rows_per_page: int = ROWS_PER_PAGE
) -> Rendered:
    """Pages of `message`: mentions as <@id> for linked people (they render but never ping), else bold."""
    title = _clip(message.title or "", TITLE)
    before, table, after, fields, images = _split(message.segments, user_ids)
    footer_room = len(render("discord.page", locale, page=999, pages=999))
    embed_fields = _fields(fields)
    fields_size = sum(len(name) + len(value) for name, value in embed_fields)
    if len(fields) > FIELDS or fields_size > TOTAL - DESCRIPTION - len(title) - footer_room:
        # Too many or too long for fields: the same lines go into the text, where they can be paged.
        after = _join(after, *(f"**{name}**: {value}" for name, value in embed_fields))
        embed_fields, fields_size = [], 0
    budget = min(DESCRIPTION, TOTAL - len(title) - fields_size - footer_room)
    if table is None:
        bodies = _text_pages(_join(before, after), budget)
    else:
        bodies = _table_pages(before, table, after, budget, rows_per_page)
    pages = []
    for number, body in enumerate(bodies, start=1):
        embed = discord.Embed(title=title or None, description=body or None, colour=COLOUR)
        for name, value in embed_fields:
            embed.add_field(name=name, value=value, inline=True)
        if len(bodies) > 1:
            embed.set_footer(text=render("discord.page", locale, page=number, pages=len(bodies)))
        if images:
            embed.set_image(url=f"attachment://{images[0].filename}")
        pages.append(Page(embed, tuple(images)))
    return Rendered(tuple(pages), frozenset(mentioned_people(message)))


def embed_size(embed: discord.Embed) -> int:
    """Characters Discord counts toward the 6000 limit."""
    return len(embed)


def _split(
    segments: Sequence[Segment], user_ids: Mapping[int, str]
) -> tuple[str, Table | None, str, list[tuple[str, str]], list[Image]]:
    """Text before the first table, that table, text after it, the fields and the images."""
    before: list[str] = []
    after: list[str] = []
    table: Table | None = None
    fields: list[tuple[str, str]] = []
    images: list[Image] = []
    for segment in segments:
        text_parts = after if table is not None else before
        if isinstance(segment, Text | UserText):
            text_parts.append(escape(segment.text))
        elif isinstance(segment, Mention):
            user = user_ids.get(segment.person_id)
            text_parts.append(f"<@{user}>" if user else f"**{escape(segment.display_name)}**")
        elif isinstance(segment, Table):
            if table is None:
                table = segment
            else:  # on lines of its own, so paging can tell the block from the text
                text_parts.append(f"\n{_code_block(format_table(segment))}\n")
        elif isinstance(segment, Fields):
            fields.extend(segment.items)
        elif isinstance(segment, Image):
            images.append(segment)
    return "".join(before).strip(), table, "".join(after).strip(), fields, images


def _fields(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(_clip(escape(name), FIELD_NAME), _clip(escape(value), FIELD_VALUE)) for name, value in items]


def _table_pages(before: str, table: Table, after: str, budget: int, rows_per_page: int) -> list[str]:
    """The table in code blocks of whole rows over as many pages as it needs, every block closed.

    Short text around the table (a title line, a count) is repeated on each page; text too long for that
    (more than half a page) runs onto pages of its own before and after the table, so nothing is lost."""
    around = sum(len(part) + 1 for part in (before, after) if part)  # each with its line break
    if around <= budget // 2:
        blocks = _table_blocks(table, budget - around, rows_per_page)
        return [_join(before, block, after) for block in blocks]
    pieces = [*_pieces(before, budget), *_table_blocks(table, budget, rows_per_page), *_pieces(after, budget)]
    return _flow(pieces, budget)


def _table_blocks(table: Table, room: int, rows_per_page: int) -> list[str]:
    """Code blocks of the table's rows, each within `room`: up to `rows_per_page` rows a block, fewer when
    rows are wide; a single row wider than `room` is clipped line by line."""
    rows = list(table.rows)
    size = max(1, rows_per_page)
    while True:
        chunks = [rows[start : start + size] for start in range(0, len(rows), size)] or [[]]
        blocks = [_code_block(_table_text(table, chunk)) for chunk in chunks]
        if all(len(block) <= room for block in blocks):
            return blocks
        if size == 1:
            return [_fit_block(block, room) for block in blocks]
        size = max(1, size // 2)


def _fit_block(block: str, room: int) -> str:
    """A code block within `room`: each of its lines clipped alike, the fences kept."""
    lines = block.split("\n")[1:-1]
    width = max(1, (room - 2 * len(_FENCE) - len(lines) - 1) // max(1, len(lines)))
    return "\n".join([_FENCE, *(_clip(line, width) for line in lines), _FENCE])


def _pieces(text: str, budget: int) -> list[str]:
    """Text as the pieces a page may not split: lines, and code blocks (re-fenced in parts when one is
    longer than a page)."""
    pieces: list[str] = []
    block: list[str] | None = None
    for line in text.split("\n") if text else []:
        if block is not None:
            block.append(line)
            if line == _FENCE:
                pieces.extend(_split_block(block, budget))
                block = None
        elif line == _FENCE:
            block = [line]
        else:
            pieces.append(_clip(line, budget))
    if block is not None:  # an unclosed fence: close it, so the pages after are not code
        pieces.extend(_split_block([*block, _FENCE], budget))
    return pieces


def _split_block(lines: list[str], budget: int) -> list[str]:
    inner = lines[1:-1]
    room = budget - 2 * len(_FENCE) - 2
    blocks: list[str] = []
    current: list[str] = []
    for line in (_clip(line, room) for line in inner):
        if current and len("\n".join([*current, line])) > room:
            blocks.append("\n".join([_FENCE, *current, _FENCE]))
            current = []
        current.append(line)
    blocks.append("\n".join([_FENCE, *current, _FENCE]))
    return blocks


def _flow(pieces: list[str], budget: int) -> list[str]:
    """Pieces on pages in order, a new page when the next would not fit; none is cut."""
    pages: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > budget:
            pages.append(current)
            current = piece
        else:
            current = f"{current}\n{piece}" if current else piece
    pages.append(current)
    return pages


def _text_pages(text: str, budget: int) -> list[str]:
    """Long text in pages of whole lines (a line longer than a page is clipped), never cut short."""
    return _flow(_pieces(text, budget), budget)


def _table_text(table: Table, rows: list[tuple[str, ...]]) -> str:
    return format_table(Table(table.headers, tuple(rows), table.align))


def _code_block(text: str) -> str:
    # A fence inside a cell would end the block early; a zero-width space keeps the backticks apart.
    return f"{_FENCE}\n{text.replace('`', '`' + _ZERO_WIDTH)}\n{_FENCE}"


def _join(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
