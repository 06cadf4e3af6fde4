"""The post ledger: a scheduled post or announcement is claimed once per (team, kind, period).

The claim is an INSERT … ON CONFLICT DO NOTHING in the transaction that also writes the post's outbox
messages: a second replica firing the same tick, a restart or a retried tick finds the row and does nothing.
Beside the ledger: when each (team, kind) schedule was first seen, where catch-up after an outage stops,
and how far each announcement source has been read. All in the database, so no replica keeps state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.models import AnnouncementMark, Post, PostSchedule


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
        _dialect(connection).insert(Post).values(row).on_conflict_do_nothing().returning(Post.id)
    ).scalar()
    return None if inserted is None else int(inserted)


def claimed_periods(connection: Connection, team_id: int, kind: str, since: datetime) -> set[str]:
    """Periods of (team, kind) in the ledger whose post was due at or after `since`."""
    rows = connection.scalars(
        select(Post.period).where(Post.team_id == team_id, Post.kind == kind, Post.due_at >= since)
    )
    return set(rows)


def finish_empty(connection: Connection, post_id: int, reason: str) -> None:
    """End a claimed post that had nothing to say (a kudos digest of a quiet week) as `skipped`."""
    connection.execute(
        update(Post).where(Post.id == post_id).values(status="skipped", details={"reason": reason})
    )


def last_due(connection: Connection, team_id: int, kind: str) -> datetime | None:
    """When the latest post of (team, kind) in the ledger was due, posted or skipped."""
    latest = connection.scalar(
        select(func.max(Post.due_at)).where(Post.team_id == team_id, Post.kind == kind)
    )
    return None if latest is None else aware(latest)


def schedule_start(connection: Connection, team_id: int, kind: str, now: datetime) -> datetime:
    """When (team, kind) was first seen scheduled; the first tick that asks records `now`."""
    started = select(PostSchedule.first_tick_at).where(
        PostSchedule.team_id == team_id, PostSchedule.kind == kind
    )
    first = connection.scalar(started)
    if first is None:
        connection.execute(
            _dialect(connection)
            .insert(PostSchedule)
            .values(team_id=team_id, kind=kind, first_tick_at=now)
            .on_conflict_do_nothing()
        )
        first = connection.scalar(started)  # another replica's first tick may have been first
    return aware(first) if first is not None else now


def read_mark(connection: Connection, source: str) -> datetime | None:
    """How far announcement `source` has been read; None before its first read."""
    seen = connection.scalar(select(AnnouncementMark.seen_until).where(AnnouncementMark.source == source))
    return None if seen is None else aware(seen)


def advance_mark(connection: Connection, source: str, until: datetime) -> None:
    """Move `source`'s mark forward to `until`; never back (a slower replica's tick may finish last)."""
    moved = connection.execute(
        update(AnnouncementMark)
        .where(AnnouncementMark.source == source, AnnouncementMark.seen_until < until)
        .values(seen_until=until)
    )
    if moved.rowcount == 0:
        connection.execute(
            _dialect(connection)
            .insert(AnnouncementMark)
            .values(source=source, seen_until=until)
            .on_conflict_do_nothing()
        )


def aware(instant: datetime) -> datetime:
    """A stored instant as an aware UTC datetime (SQLite hands back naive UTC)."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def _dialect(connection: Connection) -> Any:
    return postgresql if connection.dialect.name == "postgresql" else sqlite
