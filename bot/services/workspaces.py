"""The chat workspace an organisation is bound to: the first one to make contact, one per platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from bot.store.models import ChatWorkspace, table_of
from bot.store.upsert import insert_ignoring_conflicts


def bind(connection: Connection, platform: str, workspace_id: str, now: datetime) -> str:
    """The workspace id `platform` is bound to, binding `workspace_id` if none is yet.

    The unique key on platform decides a race between two first contacts; the loser sees the winner.
    """
    row = {"platform": platform, "workspace_id": workspace_id, "bound_at": now}
    insert_ignoring_conflicts(connection, table_of(ChatWorkspace), [row])
    bound = connection.scalar(select(ChatWorkspace.workspace_id).where(ChatWorkspace.platform == platform))
    return str(bound)


def bound(connection: Connection, platform: str) -> str | None:
    return connection.scalar(select(ChatWorkspace.workspace_id).where(ChatWorkspace.platform == platform))
