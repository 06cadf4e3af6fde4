"""Peer kudos: a row per recipient keyed by the delivery; the recipient's points in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.program import Program
from bot.scoring.zones import hundredths
from bot.services import people
from bot.store.models import Kudos, PointsEntry

RULE = "kudos"
TEMPLATE = "points.kudos"
# Characters of a reason: it is repeated in the team post and each DM, and Discord caps a message at 2,000.
MAX_REASON = 500


class KudosRefused(ValueError):
    """Nothing was written; `code` names the refusing rule (a catalogue id suffix), `inputs` its details."""

    def __init__(self, code: str, **inputs: Any) -> None:
        super().__init__(code)
        self.code = code
        self.inputs = inputs


@dataclass(frozen=True, slots=True)
class Gift:
    giver_id: int
    receiver_ids: tuple[int, ...]
    reason: str
    value_tag: str | None
    delivery_key: str


@dataclass(frozen=True, slots=True)
class Given:
    """`kudos_ids` maps each receiver to its kudos row; `replayed`: the delivery was applied before."""

    kudos_ids: dict[int, int]
    replayed: bool
    used_today: int
    allowance: int
    points: int
    value_tag: str | None = None


def give(
    connection: Connection, program: Program, gift: Gift, *, day: date, now: datetime, program_version: int
) -> Given:
    """Record kudos from one giver to each receiver within the daily allowance; raises KudosRefused."""
    receivers = tuple(dict.fromkeys(gift.receiver_ids))
    policy = program.kudos
    if not receivers:
        raise KudosRefused("no_receivers")
    if gift.giver_id in receivers:
        raise KudosRefused("self")
    if not gift.reason.strip():
        raise KudosRefused("reason")
    if len(gift.reason.strip()) > MAX_REASON:
        raise KudosRefused("too_long", length=len(gift.reason.strip()), limit=MAX_REASON)
    value = _value(program, gift.value_tag)
    people.lock(connection, gift.giver_id)
    used = used_on(connection, gift.giver_id, day)
    if used + len(receivers) > policy.daily_allowance:
        raise KudosRefused(
            "allowance",
            used=used,
            allowance=policy.daily_allowance,
            asked=len(receivers),
            left=max(policy.daily_allowance - used, 0),
        )
    rows = [
        {
            "giver_id": gift.giver_id,
            "receiver_id": receiver,
            "reason": gift.reason.strip(),
            "value_tag": value,
            "business_day": day,
            "delivery_key": gift.delivery_key,
            "created_at": now,
        }
        for receiver in receivers
    ]
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    inserted = connection.execute(
        dialect.insert(Kudos).on_conflict_do_nothing().returning(Kudos.id, Kudos.receiver_id), rows
    ).all()
    amount = hundredths(policy.points)
    if not inserted:
        return Given(
            _existing(connection, gift.delivery_key), True, used, policy.daily_allowance, amount, value
        )
    kudos_ids = {int(receiver): int(kudos_id) for kudos_id, receiver in inserted}
    if amount:
        connection.execute(
            insert(PointsEntry),
            [
                _ledger_row(gift, value, receiver, kudos_id, amount, day, now, program_version)
                for receiver, kudos_id in kudos_ids.items()
            ],
        )
    return Given(kudos_ids, False, used + len(kudos_ids), policy.daily_allowance, amount, value)


def used_on(connection: Connection, giver_id: int, day: date) -> int:
    """Kudos the giver has given on a business day; each recipient counts one."""
    return int(
        connection.scalar(
            select(func.count(Kudos.id)).where(
                Kudos.giver_id == giver_id, Kudos.business_day == day, Kudos.revoked_at.is_(None)
            )
        )
        or 0
    )


def _value(program: Program, tag: str | None) -> str | None:
    if tag is None:
        return None
    for value in program.kudos.values:
        if value.lower() == tag.lower():
            return value
    raise KudosRefused("value", value=tag, values=list(program.kudos.values))


def _existing(connection: Connection, delivery_key: str) -> dict[int, int]:
    rows = connection.execute(select(Kudos.receiver_id, Kudos.id).where(Kudos.delivery_key == delivery_key))
    return {int(receiver): int(kudos_id) for receiver, kudos_id in rows}


def _ledger_row(
    gift: Gift,
    value: str | None,
    receiver: int,
    kudos_id: int,
    amount: int,
    day: date,
    now: datetime,
    version: int,
) -> dict[str, Any]:
    return {
        "person_id": receiver,
        "business_day": day,
        "rule": RULE,
        "program_version": version,
        "revision": 1,
        "entry": "award",
        "amount": amount,
        "template": TEMPLATE,
        "inputs": {
            "giver": gift.giver_id,
            "reason": gift.reason.strip(),
            "value": value,
            "kudos_id": kudos_id,
            "points": amount / 100,
        },
        "idempotency_key": f"kudos:{kudos_id}",
        "created_at": now,
    }
