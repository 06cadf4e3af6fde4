"""The audit log: who did what, to whom, when and why, written in the transaction of the action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from bot.store.models import AuditEntry


@dataclass(frozen=True, slots=True)
class AuditLine:
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]


def record(
    connection: Connection,
    *,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    target: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    connection.execute(
        insert(AuditEntry).values(
            at=at, actor_id=actor_id, actor=actor, action=action, target=target, details=details or {}
        )
    )


def entries(connection: Connection, *, action_prefix: str = "", target: str | None = None) -> list[AuditLine]:
    """Audit lines in the order written, optionally those whose action starts with `action_prefix`."""
    query = select(
        AuditEntry.at,
        AuditEntry.actor_id,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.target,
        AuditEntry.details,
    ).order_by(AuditEntry.id)
    if action_prefix:
        query = query.where(AuditEntry.action.startswith(action_prefix, autoescape=True))
    if target is not None:
        query = query.where(AuditEntry.target == target)
    return [AuditLine(*row) for row in connection.execute(query)]
