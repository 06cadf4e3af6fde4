"""Peer kudos: a row per recipient keyed by the delivery; the recipient's points (and coins) in the same
transaction. Rules: no self-kudos, no bots, a daily and an optional weekly allowance, a cap on kudos
between the same two people per week (either way, against farming), company values as tags. A
supervisor's revoke writes reversal entries, never deletes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.program import Program
from bot.scoring.periods import Period, window
from bot.scoring.zones import hundredths
from bot.services import audit, people, wallet
from bot.services.refusals import Refused
from bot.store.models import CoinEntry, Kudos, Person, PointsEntry

RULE = "kudos"
TEMPLATE = "points.kudos"
# Characters of a reason: it is repeated in the team post and each DM, and Discord caps a message at 2,000.
MAX_REASON = 500


class KudosRefused(Refused):
    """Nothing was written; `code` names the refusing rule (a catalogue id suffix), `inputs` its details."""


@dataclass(frozen=True, slots=True)
class Gift:
    giver_id: int
    receiver_ids: tuple[int, ...]
    reason: str
    value_tag: str | None
    delivery_key: str
    private: bool = False


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
    bots = _bots(connection, (gift.giver_id, *receivers))
    if gift.giver_id in bots:
        raise KudosRefused("bot_giver", name=bots[gift.giver_id])
    if bots:
        raise KudosRefused("bot", name=", ".join(sorted(bots.values())))
    # the giver (allowances) and each receiver (the pair cap counts both directions), in id order
    people.lock(connection, gift.giver_id, *receivers)
    used = used_on(connection, gift.giver_id, day)
    if used + len(receivers) > policy.daily_allowance:
        raise KudosRefused(
            "allowance",
            used=used,
            allowance=policy.daily_allowance,
            asked=len(receivers),
            left=max(policy.daily_allowance - used, 0),
        )
    week = window(Period.WEEK, day, program.week_starts_on)
    if policy.weekly_allowance is not None:
        used_week = _given_between(connection, gift.giver_id, *week)
        if used_week + len(receivers) > policy.weekly_allowance:
            raise KudosRefused(
                "weekly_allowance",
                used=used_week,
                allowance=policy.weekly_allowance,
                asked=len(receivers),
                left=max(policy.weekly_allowance - used_week, 0),
            )
    if policy.max_per_pair_per_week is not None:
        for receiver in receivers:
            between = pair_count(connection, gift.giver_id, receiver, *week)
            if between >= policy.max_per_pair_per_week:
                raise KudosRefused(
                    "pair",
                    name=people.names(connection, {receiver}).get(receiver, "?"),
                    count=between,
                    limit=policy.max_per_pair_per_week,
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
            "private": gift.private,
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
    coins = hundredths(policy.coins)
    if coins:
        for receiver, kudos_id in sorted(kudos_ids.items()):  # wallets locked in id order
            wallet.credit(
                connection,
                receiver,
                coins,
                kind="kudos",
                key=f"kudos:{kudos_id}",
                template="coins.kudos",
                inputs={"kudos_id": kudos_id, "giver": gift.giver_id},
                now=now,
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


def _given_between(connection: Connection, giver_id: int, start: date, end: date) -> int:
    return int(
        connection.scalar(
            select(func.count(Kudos.id)).where(
                Kudos.giver_id == giver_id, Kudos.business_day.between(start, end), Kudos.revoked_at.is_(None)
            )
        )
        or 0
    )


def pair_count(connection: Connection, a: int, b: int, start: date, end: date) -> int:
    """Kudos between a and b, in either direction, over [start, end], revoked ones left out."""
    return int(
        connection.scalar(
            select(func.count(Kudos.id)).where(
                or_(
                    and_(Kudos.giver_id == a, Kudos.receiver_id == b),
                    and_(Kudos.giver_id == b, Kudos.receiver_id == a),
                ),
                Kudos.business_day.between(start, end),
                Kudos.revoked_at.is_(None),
            )
        )
        or 0
    )


def _bots(connection: Connection, person_ids: tuple[int, ...]) -> dict[int, str]:
    """The display names, by id, of the people the roster marks as bot accounts (its `bot` column)."""
    rows = connection.execute(
        select(Person.id, Person.display_name, Person.attributes).where(Person.id.in_(person_ids))
    )
    return {int(pid): name for pid, name, attributes in rows if people.is_bot(attributes)}


@dataclass(frozen=True, slots=True)
class KudosInfo:
    id: int
    giver_id: int
    receiver_id: int
    reason: str
    value_tag: str | None
    business_day: date
    private: bool
    revoked: bool


@dataclass(frozen=True, slots=True)
class BoardRow:
    person_id: int
    received: int
    top_value: str | None


def revoke(
    connection: Connection,
    kudos_id: int,
    *,
    by_id: int,
    by_name: str,
    reason: str,
    now: datetime,
    program_version: int,
) -> KudosInfo:
    """Revoke one kudos: its row is marked, its points and coins reversed by new entries, and the audit
    log says who and why. Raises KudosRefused("no_kudos" or "revoked")."""
    marked = connection.execute(
        update(Kudos).where(Kudos.id == kudos_id, Kudos.revoked_at.is_(None)).values(revoked_at=now)
    )
    found = get(connection, kudos_id)
    if found is None:
        raise KudosRefused("no_kudos", id=kudos_id)
    if not marked.rowcount:
        raise KudosRefused("revoked", id=kudos_id)
    awarded = int(
        connection.scalar(
            select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
                PointsEntry.idempotency_key == f"kudos:{kudos_id}"
            )
        )
        or 0
    )
    if awarded:
        connection.execute(
            insert(PointsEntry).values(
                person_id=found.receiver_id,
                business_day=found.business_day,
                rule=RULE,
                program_version=program_version,
                revision=2,
                entry="reversal",
                amount=-awarded,
                template="points.kudos_revoked",
                inputs={"kudos_id": kudos_id, "by": by_id, "reason": reason, "points": -awarded / 100},
                idempotency_key=f"kudos:{kudos_id}:revoked",
                created_at=now,
            )
        )
    coins = connection.scalar(
        select(CoinEntry.amount).where(CoinEntry.idempotency_key == f"kudos:{kudos_id}")
    )
    if coins:
        wallet.credit(
            connection,
            found.receiver_id,
            -int(coins),
            kind="revoke",
            key=f"kudos:{kudos_id}:revoked",
            template="coins.kudos_revoked",
            inputs={"kudos_id": kudos_id, "by": by_id},
            now=now,
        )
    audit.record(
        connection,
        at=now,
        actor_id=by_id,
        actor=by_name,
        action="kudos.revoke",
        target=f"kudos:{kudos_id}",
        details={
            "reason": reason,
            "giver": found.giver_id,
            "receiver": found.receiver_id,
            "points": -awarded,
            "coins": -int(coins or 0),
        },
    )
    return found


def get(connection: Connection, kudos_id: int) -> KudosInfo | None:
    rows = _infos(connection, Kudos.id == kudos_id)
    return rows[0] if rows else None


def recent(connection: Connection, receiver_ids: set[int] | None, start: date, end: date) -> list[KudosInfo]:
    """Kudos given over [start, end] (to these receivers when given), newest first."""
    condition: ColumnElement[bool] = Kudos.business_day.between(start, end)
    if receiver_ids is not None:
        condition = condition & Kudos.receiver_id.in_(sorted(receiver_ids))
    return _infos(connection, condition)


def board(
    connection: Connection, start: date, end: date, *, limit: int, public_only: bool = False
) -> list[BoardRow]:
    """Most kudos received over [start, end], revoked ones left out, private ones counted; ties in id
    order. `public_only` leaves out people who opted out of public boards."""
    received = func.count(Kudos.id).label("received")
    rows = connection.execute(
        select(Kudos.receiver_id, received)
        .where(_received_in(start, end, public_only))
        .group_by(Kudos.receiver_id)
        .order_by(received.desc(), Kudos.receiver_id)
        .limit(limit)
    ).all()
    out = []
    for receiver, count in rows:
        tags = connection.execute(
            select(Kudos.value_tag, func.count(Kudos.id).label("n"))
            .where(
                Kudos.receiver_id == receiver,
                Kudos.business_day.between(start, end),
                Kudos.revoked_at.is_(None),
                Kudos.value_tag.is_not(None),
            )
            .group_by(Kudos.value_tag)
            .order_by(func.count(Kudos.id).desc(), Kudos.value_tag)
            .limit(1)
        ).first()
        out.append(BoardRow(int(receiver), int(count), tags[0] if tags else None))
    return out


def receivers(connection: Connection, start: date, end: date, *, public_only: bool = False) -> int:
    """How many people received kudos over [start, end] (the board's headcount)."""
    return int(
        connection.scalar(
            select(func.count(func.distinct(Kudos.receiver_id))).where(_received_in(start, end, public_only))
        )
        or 0
    )


def _received_in(start: date, end: date, public_only: bool) -> ColumnElement[bool]:
    condition = and_(Kudos.business_day.between(start, end), Kudos.revoked_at.is_(None))
    if public_only:
        shown = select(Person.id).where(Person.public_boards.is_(True))
        condition = and_(condition, Kudos.receiver_id.in_(shown))
    return condition


def _infos(connection: Connection, condition: Any) -> list[KudosInfo]:
    rows = connection.execute(
        select(
            Kudos.id,
            Kudos.giver_id,
            Kudos.receiver_id,
            Kudos.reason,
            Kudos.value_tag,
            Kudos.business_day,
            Kudos.private,
            Kudos.revoked_at.is_not(None),
        )
        .where(condition)
        .order_by(Kudos.id.desc())
    )
    return [KudosInfo(*row) for row in rows]
