"""The outbox: effects outside the database (chat posts) written in the transaction that causes them,
then claimed under a lease, sent, and marked sent or failed (DESIGN.md §2.2).

A claim is a compare-and-set on the row's state, so two dispatchers never hold one message at once. The
attempt number taken with the claim is its token (every claim bumps it): `hold` renews the lease right
before the send only while the token still matches, and it fences the later mark, so a sender whose lease
ran out neither sends nor overwrites the outcome of the one that took over. A crash between sending and
marking resends that one message when the lease expires: at most what was not marked.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.models import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# Candidates read beyond `limit`, so a claim that loses a race for the oldest message takes the next one.
_SPARE_CANDIDATES = 4


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    dedupe_key: str
    destination: dict[str, Any]
    payload: dict[str, Any]
    attempt: int


def backoff(attempt: int) -> timedelta:
    """The wait before retrying after failed attempt number `attempt` (1-based): 30 s, 1 min, 2 min…"""
    wait: timedelta = FIRST_RETRY * 2 ** max(attempt - 1, 0)
    return min(wait, LONGEST_RETRY)


def enqueue(
    connection: Connection,
    *,
    dedupe_key: str,
    destination: dict[str, Any],
    payload: dict[str, Any],
    now: datetime,
) -> int | None:
    """Add a message in the caller's transaction; None when `dedupe_key` is already there."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    row = {
        "dedupe_key": dedupe_key,
        "destination": destination,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "available_at": now,
        "created_at": now,
    }
    inserted = connection.execute(
        dialect.insert(OutboxMessage).values(row).on_conflict_do_nothing().returning(OutboxMessage.id)
    ).scalar()
    return None if inserted is None else int(inserted)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.available_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
    )


def claim(
    engine: Engine,
    now: datetime,
    *,
    limit: int = 20,
    lease: timedelta = LEASE,
    ids: Collection[int] | None = None,
) -> list[Claimed]:
    """Take up to `limit` messages that are due, or whose sender's lease expired, oldest first; only
    those of `ids` when given (a sender trying at once what it has just enqueued).

    Every lease starts now: a caller that takes several sends them one after another, so it must `hold`
    each right before sending it. The dispatcher takes one at a time.
    """
    due = _claimable(now) if ids is None else and_(_claimable(now), OutboxMessage.id.in_(list(ids)))
    with engine.begin() as connection:
        candidates = connection.scalars(
            select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit + _SPARE_CANDIDATES)
        ).all()
    claimed: list[Claimed] = []
    for message_id in candidates:
        if len(claimed) == limit:
            break
        with engine.begin() as connection:
            row = connection.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, _claimable(now))
                .values(status="sending", lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
                .returning(
                    OutboxMessage.dedupe_key,
                    OutboxMessage.destination,
                    OutboxMessage.payload,
                    OutboxMessage.attempts,
                )
            ).first()
        if row is not None:
            claimed.append(Claimed(int(message_id), row[0], row[1], row[2], int(row[3])))
    return claimed


def hold(engine: Engine, item: Claimed, now: datetime, *, lease: timedelta = LEASE) -> bool:
    """Renew `item`'s lease from `now`, right before sending it; False when the claim is no longer ours
    (its lease ran out and another sender took the message, bumping the attempt number): do not send."""
    with engine.begin() as connection:
        result = connection.execute(update(OutboxMessage).where(*_held(item)).values(lease_until=now + lease))
    return result.rowcount == 1


def mark_sent(engine: Engine, item: Claimed, now: datetime) -> bool:
    """Record the send; False when the claim was lost (the lease ran out and another sender took over)."""
    with engine.begin() as connection:
        result = connection.execute(
            update(OutboxMessage)
            .where(*_held(item))
            .values(status="sent", sent_at=now, lease_until=None, last_error=None)
        )
    return result.rowcount == 1


def mark_failed(
    engine: Engine, item: Claimed, now: datetime, error: str, *, max_attempts: int = MAX_ATTEMPTS
) -> str:
    """Record a failed attempt: back to pending after a backoff, or `failed` for good after the last one."""
    final = item.attempt >= max_attempts
    values: dict[str, Any] = {"lease_until": None, "last_error": error[:2000]}
    if final:
        values["status"] = "failed"
    else:
        values.update(status="pending", available_at=now + backoff(item.attempt))
    with engine.begin() as connection:
        connection.execute(update(OutboxMessage).where(*_held(item)).values(**values))
    status = str(values["status"])
    log.warning("outbox %s attempt %d failed (%s): %s", item.dedupe_key, item.attempt, status, error)
    return status


def _held(item: Claimed) -> tuple[ColumnElement[bool], ...]:
    return (
        OutboxMessage.id == item.id,
        OutboxMessage.status == "sending",
        OutboxMessage.attempts == item.attempt,
    )
