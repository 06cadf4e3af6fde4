"""The coins wallet: an append-only coins ledger and a balance row the database keeps from going negative.

Coins come from points (the program's `coins.per_point`, on the all-time total, rounded down once, so the
remainder carries), from challenge rewards and from kudos. The wallet row is the running sum of the
ledger, split in two columns: `available`, which spending takes down under `CHECK (available >= 0)`, and
`debt`, where a points reversal lands once `available` is used up. The shown balance is available − debt:
a reversal after spending may take it below zero; a spend never can, whatever runs concurrently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError

from bot.program import Program
from bot.scoring.progression import coins_earned
from bot.store.models import CoinEntry, CoinWallet, PointsEntry
from bot.store.upsert import conflict_insert

CreditKind = Literal["earned", "challenge", "kudos", "refund", "revoke"]


class InsufficientCoins(ValueError):
    """The database refused the spend: the wallet holds `available` hundredths, the price was `price`."""

    def __init__(self, available: int, price: int) -> None:
        super().__init__(f"{available} available, {price} asked")
        self.available = available
        self.price = price


@dataclass(frozen=True, slots=True)
class Wallet:
    available: int
    debt: int

    @property
    def balance(self) -> int:
        return self.available - self.debt


@dataclass(frozen=True, slots=True)
class CoinChange:
    amount: int
    kind: str
    template: str
    inputs: dict[str, Any]
    at: datetime


def wallet(connection: Connection, program: Program, person_id: int, *, now: datetime) -> Wallet:
    """The person's wallet after crediting coins earned from points since the last look."""
    _lock(connection, person_id)
    _sync_earned(connection, program, person_id, now)
    return _read(connection, person_id)


def credit(
    connection: Connection,
    person_id: int,
    amount: int,
    *,
    kind: CreditKind,
    key: str,
    template: str,
    inputs: dict[str, Any],
    now: datetime,
) -> bool:
    """Add (or, negative, take back) coins once per `key`; returns False when the key was applied before.

    A negative amount pays from `available` first and puts the rest in `debt`; a positive one pays the
    debt off first.
    """
    _lock(connection, person_id)
    if not _write_entry(connection, person_id, amount, kind, key, template, inputs, now):
        return False
    _apply(connection, person_id, amount)
    return True


def spend(
    connection: Connection,
    program: Program,
    person_id: int,
    price: int,
    *,
    key: str,
    template: str,
    inputs: dict[str, Any],
    now: datetime,
) -> Wallet:
    """Take `price` hundredths from `available`; raises InsufficientCoins when the CHECK refuses it.

    The decrement is a single UPDATE inside a savepoint: the database, not a read in Python, decides, so
    concurrent spends from one wallet can never overdraw it.
    """
    _lock(connection, person_id)
    _sync_earned(connection, program, person_id, now)
    try:
        with connection.begin_nested():
            connection.execute(
                update(CoinWallet)
                .where(CoinWallet.person_id == person_id)
                .values(available=CoinWallet.available - price, revision=CoinWallet.revision + 1)
            )
    except IntegrityError:
        raise InsufficientCoins(_read(connection, person_id).available, price) from None
    _write_entry(connection, person_id, -price, "redeem", key, template, inputs, now)
    return _read(connection, person_id)


def history(connection: Connection, person_id: int, limit: int = 50) -> list[CoinChange]:
    rows = connection.execute(
        select(CoinEntry.amount, CoinEntry.kind, CoinEntry.template, CoinEntry.inputs, CoinEntry.created_at)
        .where(CoinEntry.person_id == person_id)
        .order_by(CoinEntry.id.desc())
        .limit(limit)
    )
    return [CoinChange(*row) for row in rows]


def changes_between(
    connection: Connection, person_id: int, start: datetime, end: datetime
) -> list[CoinChange]:
    """The person's coins changes made in [start, end), oldest first (a business day's, for explanations)."""
    rows = connection.execute(
        select(CoinEntry.amount, CoinEntry.kind, CoinEntry.template, CoinEntry.inputs, CoinEntry.created_at)
        .where(CoinEntry.person_id == person_id, CoinEntry.created_at >= start, CoinEntry.created_at < end)
        .order_by(CoinEntry.id)
    )
    return [CoinChange(*row) for row in rows]


def ledger_sum(connection: Connection, person_id: int) -> int:
    return int(
        connection.scalar(
            select(func.coalesce(func.sum(CoinEntry.amount), 0)).where(CoinEntry.person_id == person_id)
        )
        or 0
    )


def _lock(connection: Connection, person_id: int) -> None:
    """Create the wallet row if needed and lock it for the transaction (SQLite has one writer anyway)."""
    connection.execute(
        conflict_insert(connection, CoinWallet)
        .values(person_id=person_id, available=0, debt=0, earned_synced=0, revision=0)
        .on_conflict_do_nothing()
    )
    connection.execute(
        select(CoinWallet.person_id).where(CoinWallet.person_id == person_id).with_for_update()
    )


def _read(connection: Connection, person_id: int) -> Wallet:
    row = connection.execute(
        select(CoinWallet.available, CoinWallet.debt).where(CoinWallet.person_id == person_id)
    ).one()
    return Wallet(int(row.available), int(row.debt))


def _sync_earned(connection: Connection, program: Program, person_id: int, now: datetime) -> None:
    points = int(
        connection.scalar(
            select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(PointsEntry.person_id == person_id)
        )
        or 0
    )
    earned = coins_earned(points, program.coins.per_point)
    synced, revision = connection.execute(
        select(CoinWallet.earned_synced, CoinWallet.revision).where(CoinWallet.person_id == person_id)
    ).one()
    delta = earned - int(synced)
    if not delta:
        return
    _write_entry(
        connection,
        person_id,
        delta,
        "earned",
        f"earned:{person_id}:r{int(revision) + 1}",
        "coins.earned",
        {"points": points / 100, "per_point": program.coins.per_point, "earned": earned / 100},
        now,
    )
    connection.execute(
        update(CoinWallet).where(CoinWallet.person_id == person_id).values(earned_synced=earned)
    )
    _apply(connection, person_id, delta)


def _apply(connection: Connection, person_id: int, amount: int) -> None:
    current = _read(connection, person_id)
    net = current.available - current.debt + amount
    connection.execute(
        update(CoinWallet)
        .where(CoinWallet.person_id == person_id)
        .values(available=max(net, 0), debt=max(-net, 0), revision=CoinWallet.revision + 1)
    )


def _write_entry(
    connection: Connection,
    person_id: int,
    amount: int,
    kind: str,
    key: str,
    template: str,
    inputs: dict[str, Any],
    now: datetime,
) -> bool:
    inserted = connection.execute(
        conflict_insert(connection, CoinEntry)
        .values(
            person_id=person_id,
            amount=amount,
            kind=kind,
            template=template,
            inputs=inputs,
            idempotency_key=key,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(CoinEntry.id)
    ).first()
    return inserted is not None
