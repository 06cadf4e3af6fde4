"""What one scheduled post sends, before it is addressed to a platform: the public message for the team's
channels, files to upload there, and private DMs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.handlers.contract import Message


@dataclass(frozen=True, slots=True)
class Upload:
    """A file posted with the message. `inline_name`, when set, is the plain name it takes where a
    platform shows it inside the message itself (Discord's embed image, `attachment://recap.png`)."""

    filename: str
    data: bytes
    title: str
    inline_name: str | None = None


@dataclass(frozen=True, slots=True)
class PostContent:
    """`public` goes to every channel of the team; `dms` to each person on the team's first platform.

    `data` is the figures the post was built from (the preview's JSON), chart series included.
    """

    public: Message | None
    uploads: tuple[Upload, ...] = ()
    dms: tuple[tuple[int, Message], ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TeamRef:
    id: int
    key: str
    name: str
