"""Chat accounts of people: who a Slack or Discord user id is, and which user id a person has there."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from bot.services.people import PersonInfo
from bot.store.models import Identity, Person, Team


def person_of(connection: Connection, kind: str, user_id: str) -> PersonInfo | None:
    """The person linked to chat user `user_id` (Discord user ids are global, so any namespace counts)."""
    row = connection.execute(
        select(Person.id, Person.display_name, Person.role, Person.public_boards)
        .join(Identity, Identity.person_id == Person.id)
        .where(Identity.kind == kind, Identity.key == user_id)
        .order_by(Identity.id)
    ).first()
    return PersonInfo(*row) if row else None


def user_ids(connection: Connection, kind: str, person_ids: Iterable[int]) -> dict[int, str]:
    """Each person's chat user id on `kind` (the first linked one), for mentions and direct messages."""
    wanted = set(person_ids)
    if not wanted:
        return {}
    rows = connection.execute(
        select(Identity.person_id, Identity.key)
        .where(Identity.kind == kind, Identity.person_id.in_(wanted))
        .order_by(Identity.id)
    )
    found: dict[int, str] = {}
    for person_id, key in rows:
        found.setdefault(int(person_id), str(key))
    return found


def team_channel(connection: Connection, team_id: int, kind: str) -> str | None:
    """The team's channel on `kind` (Team.channels, e.g. {"discord": "1234"}), or None."""
    channels = connection.scalar(select(Team.channels).where(Team.id == team_id)) or {}
    channel = channels.get(kind)
    return str(channel) if channel else None
