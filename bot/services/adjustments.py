"""Supervisor adjustments: points added or removed with a reason, in the ledger and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from bot.services import audit
from bot.store.models import PointsEntry
from bot.store.upsert import conflict_insert

RULE = "adjustment"
TEMPLATE = "points.adjustment"


@dataclass(frozen=True, slots=True)
class Adjustment:
    person_id: int
    amount: int  # hundredths; negative removes points
    reason: str
    by_id: int
    by_name: str


def adjust(
    connection: Connection,
    adjustment: Adjustment,
    *,
    day: date,
    now: datetime,
    program_version: int,
    key: str,
) -> bool:
    """Write the adjustment once per `key` (a delivery identity); returns False for a replay.

    An addition is an award row, a removal a reversal row: the ledger stays append-only either way, and
    the row's inputs carry who made it and why, so `/points why` can say so.
    """
    inserted = connection.execute(
        conflict_insert(connection, PointsEntry)
        .values(
            person_id=adjustment.person_id,
            business_day=day,
            rule=RULE,
            program_version=program_version,
            revision=1,
            entry="award" if adjustment.amount > 0 else "reversal",
            amount=adjustment.amount,
            template=TEMPLATE,
            inputs={
                "by": adjustment.by_id,
                "by_name": adjustment.by_name,
                "reason": adjustment.reason,
                "points": adjustment.amount / 100,
            },
            idempotency_key=f"adjustment:{key}",
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(PointsEntry.id)
    ).first()
    if inserted is None:
        return False
    audit.record(
        connection,
        at=now,
        actor_id=adjustment.by_id,
        actor=adjustment.by_name,
        action="points.adjust",
        target=f"person:{adjustment.person_id}",
        details={
            "amount": adjustment.amount,
            "reason": adjustment.reason,
            "business_day": day.isoformat(),
            "ledger_id": int(inserted[0]),
        },
    )
    return True
