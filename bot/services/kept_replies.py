"""Answers kept for their paging buttons: written once under a key, read back by id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.models import KeptReply


def keep(connection: Connection, *, key: str, platform: str, payload: dict[str, Any], now: datetime) -> int:
    """The id of the reply kept under `key`: this payload, or the one kept there before (a redelivered
    interaction or the same long board asked again)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    row = {"key": key, "platform": platform, "payload": payload, "created_at": now}
    inserted = connection.execute(
        dialect.insert(KeptReply).values(row).on_conflict_do_nothing().returning(KeptReply.id)
    ).scalar()
    if inserted is not None:
        return int(inserted)
    return int(connection.scalars(select(KeptReply.id).where(KeptReply.key == key)).one())


def payload_of(connection: Connection, reply_id: int, platform: str) -> dict[str, Any] | None:
    """What reply `reply_id` of `platform` holds, or None when there is none."""
    payload: dict[str, Any] | None = connection.scalar(
        select(KeptReply.payload).where(KeptReply.id == reply_id, KeptReply.platform == platform)
    )
    return payload
