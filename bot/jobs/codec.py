"""Messages as JSON for the outbox: what is sent is fixed when the post is claimed, not when it is sent."""

from __future__ import annotations

import base64
from typing import Any

from bot.handlers.contract import (
    Action,
    Destination,
    DestinationKind,
    Fields,
    Image,
    Mention,
    Message,
    Segment,
    Table,
    Text,
    UserText,
)


def encode_message(message: Message) -> dict[str, Any]:
    return {
        "destination": {
            "kind": message.destination.kind.value,
            "team_id": message.destination.team_id,
            "person_id": message.destination.person_id,
        },
        "title": message.title,
        "segments": [_encode_segment(segment) for segment in message.segments],
        "actions": [
            {"label": a.label, "command": a.command, "args": a.args, "style": a.style}
            for a in message.actions
        ],
    }


def decode_message(data: dict[str, Any]) -> Message:
    where = data["destination"]
    return Message(
        Destination(DestinationKind(where["kind"]), where.get("team_id"), where.get("person_id")),
        tuple(_decode_segment(segment) for segment in data["segments"]),
        data.get("title"),
        tuple(
            Action(a["label"], a["command"], a.get("args", {}), a.get("style", "default"))
            for a in data["actions"]
        ),
    )


def encode_bytes(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode_bytes(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def _encode_segment(segment: Segment) -> dict[str, Any]:
    if isinstance(segment, Text):
        return {"type": "text", "text": segment.text}
    if isinstance(segment, UserText):
        return {"type": "user_text", "text": segment.text}
    if isinstance(segment, Mention):
        return {"type": "mention", "person_id": segment.person_id, "display_name": segment.display_name}
    if isinstance(segment, Table):
        return {
            "type": "table",
            "headers": list(segment.headers),
            "rows": [list(row) for row in segment.rows],
            "align": list(segment.align),
        }
    if isinstance(segment, Fields):
        return {"type": "fields", "items": [list(item) for item in segment.items]}
    return {
        "type": "image",
        "filename": segment.filename,
        "data": encode_bytes(segment.data),
        "alt": segment.alt,
    }


def _decode_segment(data: dict[str, Any]) -> Segment:
    kind = data["type"]
    if kind == "text":
        return Text(data["text"])
    if kind == "user_text":
        return UserText(data["text"])
    if kind == "mention":
        return Mention(int(data["person_id"]), data["display_name"])
    if kind == "table":
        return Table(
            tuple(data["headers"]), tuple(tuple(row) for row in data["rows"]), tuple(data.get("align", ()))
        )
    if kind == "fields":
        return Fields(tuple((name, value) for name, value in data["items"]))
    if kind == "image":
        return Image(data["filename"], decode_bytes(data["data"]), data["alt"])
    raise ValueError(f"unknown segment type {kind!r} in an outbox message")
