"""The post ledger: a scheduled post or announcement is claimed once per (team, kind, period).

The claim is an INSERT … ON CONFLICT DO NOTHING in the transaction that also writes the post's outbox
messages: a second replica firing the same tick, a restart or a retried tick finds the row and does nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.models import Post


def claim(
    connection: Connection,
    *,
    team_id: int,
    kind: str,
    period: str,
    due_at: datetime,
    now: datetime,
    late: bool = False,
    status: str = "queued",
    details: dict[str, Any] | None = None,
) -> int | None:
    """The new ledger row's id, or None when (team, kind, period) was claimed before."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    row = {
        "team_id": team_id,
        "kind": kind,
        "period": period,
        "status": status,
        "due_at": due_at,
        "claimed_at": now,
        "late": late,
        "details": details or {},
    }
    inserted = connection.execute(
        dialect.insert(Post).values(row).on_conflict_do_nothing().returning(Post.id)
    ).scalar()
    return None if inserted is None else int(inserted)


def claimed_periods(connection: Connection, team_id: int, kind: str, since: datetime) -> set[str]:
    """Periods of (team, kind) in the ledger whose post was due at or after `since`."""
    rows = connection.scalars(
        select(Post.period).where(Post.team_id == team_id, Post.kind == kind, Post.due_at >= since)
    )
    return set(rows)
