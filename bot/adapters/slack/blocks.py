"""Neutral Messages as Block Kit, built with slack_sdk.models so Slack's limits are checked.

Tables become monospace code blocks (Slack has no general table block for every client), fields a
section's fields, buttons an actions block whose values route back through the registry. A message
that exceeds a section's 3,000 characters, a message's 50 blocks or PAGE_CHARS is paged into several
Slack messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.adapters.console import format_table as table_text
from bot.adapters.slack.escape import defuse, mrkdwn_escape, plain_text, user_text
from bot.handlers.contract import Action, Fields, Image, Mention, Message, Table, Text, UserText
from bot.messages import render

SECTION_CHARS = 3000
BLOCKS_PER_MESSAGE = 50
FIELDS_PER_SECTION = 10
HEADER_CHARS = 150
FALLBACK_CHARS = 300
PAGE_CHARS = 12_000  # a long message is cut by Slack clients; a board pages well before that
ACTION_PREFIX = "fb_action_"

UserOf = Callable[[int], str | None]


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One message as chat.postMessage / respond take it: blocks and the notification fallback text."""

    text: str
    blocks: list[dict[str, Any]]


def render_message(message: Message, user_of: UserOf, locale: str = "en") -> list[SlackMessage]:
    """The message as one or more Slack messages (pages), each within Block Kit's limits."""
    blocks: list[Block] = []
    if message.title:
        blocks.append(HeaderBlock(text=PlainTextObject(text=_clip(plain_text(message.title), HEADER_CHARS))))
    inline = ""
    for segment in message.segments:
        if isinstance(segment, Text):
            inline += defuse(mrkdwn_escape(segment.text))
        elif isinstance(segment, UserText):
            inline += user_text(segment.text)
        elif isinstance(segment, Mention):
            inline += mention(segment, user_of)
        else:
            blocks.extend(_sections(inline))
            inline = ""
            blocks.extend(_structured(segment, locale))
    blocks.extend(_sections(inline))
    if message.actions:
        blocks.append(buttons(message.actions))
    pages = _pages(blocks)
    out = []
    for number, page in enumerate(pages, start=1):
        if len(pages) > 1:
            note = render("slack.page", locale, page=number, pages=len(pages))
            page = [*page, ContextBlock(elements=[MarkdownTextObject(text=note)])]
        out.append(SlackMessage(_fallback(message, page), [block.to_dict() for block in page]))
    return out


def _pages(blocks: list[Block]) -> list[list[Block]]:
    """Blocks split into messages of at most 49 blocks (one is left for the page note) and PAGE_CHARS."""
    pages: list[list[Block]] = [[]]
    size = 0
    for block in blocks:
        length = len(json.dumps(block.to_dict()))
        if pages[-1] and (len(pages[-1]) >= BLOCKS_PER_MESSAGE - 1 or size + length > PAGE_CHARS):
            pages.append([])
            size = 0
        pages[-1].append(block)
        size += length
    return pages


def mention(segment: Mention, user_of: UserOf) -> str:
    """`<@U123>` for a person linked in this workspace; otherwise their name in bold, defused."""
    user = user_of(segment.person_id)
    if user:
        return f"<@{user}>"
    return f"*{defuse(mrkdwn_escape(segment.display_name))}*"


def buttons(actions: Iterable[Action]) -> ActionsBlock:
    elements = []
    for index, action in enumerate(actions):
        value = json.dumps({"command": action.command, "args": action.args}, separators=(",", ":"))
        style = action.style if action.style in ("primary", "danger") else None
        elements.append(
            ButtonElement(
                text=PlainTextObject(text=_clip(plain_text(action.label), 75)),
                action_id=f"{ACTION_PREFIX}{index}",
                value=value,
                style=style,
            )
        )
    return ActionsBlock(elements=elements)


def _sections(text: str) -> list[Block]:
    text = text.strip("\n")
    if not text.strip():
        return []
    return [
        SectionBlock(text=MarkdownTextObject(text=chunk))
        for chunk in _chunks(text.split("\n"), SECTION_CHARS)
    ]


def _structured(segment: object, locale: str) -> list[Block]:
    if isinstance(segment, Table):
        return _table_sections(segment)
    if isinstance(segment, Fields):
        return _field_sections(segment)
    if isinstance(segment, Image):
        line = render("slack.image", locale, alt=segment.alt, filename=segment.filename)
        return [ContextBlock(elements=[MarkdownTextObject(text=defuse(mrkdwn_escape(line)))])]
    return []


def _table_sections(table: Table) -> list[Block]:
    """Aligned columns in code blocks; the header row repeats on every page of rows."""
    safe = Table(
        tuple(_cell(cell) for cell in table.headers),
        tuple(tuple(_cell(cell) for cell in row) for row in table.rows),
        table.align,
    )
    header, *rows = table_text(safe).split("\n")
    fence = len("```\n") * 2 + len(header) + 1
    blocks: list[Block] = []
    for chunk in _chunks(rows or [""], SECTION_CHARS - fence):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"```\n{header}\n{chunk}\n```")))
    return blocks


def _cell(text: str) -> str:
    return defuse(mrkdwn_escape(text.replace("`", "ˋ")))


def _field_sections(fields: Fields) -> list[Block]:
    items = [
        MarkdownTextObject(
            text=_clip(f"*{defuse(mrkdwn_escape(name))}*\n{defuse(mrkdwn_escape(value))}", 2000)
        )
        for name, value in fields.items
    ]
    return [
        SectionBlock(fields=items[i : i + FIELDS_PER_SECTION])
        for i in range(0, len(items), FIELDS_PER_SECTION)
    ]


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Lines joined into chunks of at most `limit` characters; an over-long line is cut."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = _clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fallback(message: Message, page: list[Block]) -> str:
    """The notification text: the title, else the first section's words."""
    if message.title:
        return _clip(plain_text(message.title), FALLBACK_CHARS)
    for block in page:
        if isinstance(block, SectionBlock) and block.text is not None:
            return _clip(block.text.text, FALLBACK_CHARS)
    return " "
