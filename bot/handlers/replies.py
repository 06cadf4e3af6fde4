"""Building Messages from catalogue templates whose placeholders may hold mentions or user text."""

from __future__ import annotations

from collections.abc import Sequence
from string import Formatter
from typing import Any

from bot.handlers.contract import (
    CALLER,
    Destination,
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
from bot.messages import render, template

_SEGMENT_TYPES = (Text, UserText, Mention, Table, Fields, Image)


def private(*parts: str | Segment, title: str | None = None) -> Message:
    """A message only the caller sees."""
    return message(CALLER, *parts, title=title)


def message(destination: Destination, *parts: str | Segment, title: str | None = None) -> Message:
    return Message(destination, tuple(Text(part) if isinstance(part, str) else part for part in parts), title)


def segments(message_id: str, locale: str, **inputs: Any) -> tuple[Segment, ...]:
    """The catalogue sentence as segments: a Segment (or a list of them) input stays a segment, so a kudos
    reason stays UserText and a person stays a Mention; other inputs are formatted into Text."""
    out: list[Segment] = []
    for literal, field_name, spec, _conversion in Formatter().parse(
        template(message_id, locale, inputs.get("count"))
    ):
        if literal:
            out.append(Text(literal))
        if field_name is None:
            continue
        value = inputs[field_name]
        if isinstance(value, _SEGMENT_TYPES):
            out.append(value)
        elif isinstance(value, list | tuple) and all(isinstance(item, _SEGMENT_TYPES) for item in value):
            out.extend(value)
        else:
            out.append(Text(format(value, spec or "")))
    return _merge(out)


def mention(person: PersonRef) -> Mention:
    return Mention(person.person_id, person.display_name)


def people_list(persons: Sequence[PersonRef], locale: str) -> list[Segment]:
    """`@Martha`, `@Martha and @Jim`, `@A, @B and @C`."""
    out: list[Segment] = []
    for index, person in enumerate(persons):
        if index:
            last = index == len(persons) - 1
            out.append(Text(render("common.and" if last else "common.comma", locale)))
        out.append(mention(person))
    return out


def _merge(parts: list[Segment]) -> tuple[Segment, ...]:
    merged: list[Segment] = []
    for part in parts:
        if isinstance(part, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1].text + part.text)
        else:
            merged.append(part)
    return tuple(merged)
