"""The rewards store: items priced in coins, redemptions that reserve coins and stock, and decisions.

A redemption takes the coins (wallet.spend) and one unit of stock (an UPDATE under
`CHECK (stock >= 0)`) in one transaction, so two people racing for the last item, or one person's two
requests racing for their last coins, get one success and one clear refusal. A supervisor then fulfils
it, or rejects it, which puts the coins and the stock back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError

from bot.program import MAX_REWARD_STOCK, Program
from bot.scoring.zones import hundredths
from bot.services import audit, people, wallet
from bot.services.refusals import Refused
from bot.store.models import Redemption, RewardItem
from bot.store.upsert import conflict_insert


class RewardRefused(Refused):
    """Nothing changed; `code` is a catalogue id suffix under rewards.refused, `inputs` its details."""


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    key: str
    name: str
    price: int
    stock: int | None
    active: bool


@dataclass(frozen=True, slots=True)
class RedemptionInfo:
    id: int
    person_id: int
    item_key: str
    item_name: str
    price: int
    status: str
    created_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Redeemed:
    redemption: RedemptionInfo
    wallet: wallet.Wallet
    replayed: bool


_ITEM_COLUMNS = (
    RewardItem.id,
    RewardItem.key,
    RewardItem.name,
    RewardItem.price,
    RewardItem.stock,
    RewardItem.active,
)


def sync_program_items(connection: Connection, program: Program, *, now: datetime) -> int:
    """Create the program's items that are not in the store yet; returns how many were created.

    The program's `stock` is the starting stock only: restarting never refills what was redeemed, and an
    item's price and name follow the program file.
    """
    created = 0
    for spec in program.rewards:
        created += int(
            upsert_item(
                connection,
                key=spec.id,
                name=spec.name,
                price=hundredths(spec.price),
                stock=spec.stock,
                now=now,
            )
        )
    return created


def upsert_item(
    connection: Connection, *, key: str, name: str, price: int, stock: int | None, now: datetime
) -> bool:
    """Add an item, or update an existing one's name and price (its stock is left alone); True if new."""
    inserted = connection.execute(
        conflict_insert(connection, RewardItem)
        .values(key=key, name=name, price=price, stock=stock, active=True, created_at=now)
        .on_conflict_do_nothing()
        .returning(RewardItem.id)
    ).first()
    if inserted is None:
        connection.execute(update(RewardItem).where(RewardItem.key == key).values(name=name, price=price))
    return inserted is not None


def restock(connection: Connection, key: str, added: int) -> Item:
    """Add units to an item's stock (an unlimited item stays unlimited)."""
    item = item_by_key(connection, key)
    if item is None:
        raise RewardRefused("unknown", item=key, items=", ".join(i.key for i in items(connection)))
    if item.stock is not None and item.stock + added > MAX_REWARD_STOCK:
        raise RewardRefused("stock", item=key, stock=item.stock, most=MAX_REWARD_STOCK)
    connection.execute(
        update(RewardItem)
        .where(RewardItem.id == item.id, RewardItem.stock.is_not(None))
        .values(stock=RewardItem.stock + added)
    )
    found = item_by_key(connection, key)
    assert found is not None
    return found


def items(connection: Connection) -> list[Item]:
    rows = connection.execute(
        select(*_ITEM_COLUMNS).where(RewardItem.active.is_(True)).order_by(RewardItem.price, RewardItem.key)
    )
    return [Item(*row) for row in rows]


def item_by_key(connection: Connection, key: str) -> Item | None:
    row = connection.execute(
        select(*_ITEM_COLUMNS).where(func.lower(RewardItem.key) == key.strip().lower())
    ).first()
    return Item(*row) if row else None


def redeem(
    connection: Connection,
    program: Program,
    *,
    person_id: int,
    item_key: str,
    delivery_key: str,
    now: datetime,
) -> Redeemed:
    """Reserve the coins and one unit of the item; raises RewardRefused (nothing written) when it can't."""
    existing = _by_delivery(connection, delivery_key)
    if existing is not None:
        return Redeemed(existing, wallet.wallet(connection, program, person_id, now=now), True)
    item = item_by_key(connection, item_key)
    if item is None or not item.active:
        raise RewardRefused("unknown", item=item_key, items=", ".join(i.key for i in items(connection)))
    if item.stock is not None:
        try:
            with connection.begin_nested():
                connection.execute(
                    update(RewardItem).where(RewardItem.id == item.id).values(stock=RewardItem.stock - 1)
                )
        except IntegrityError:
            raise RewardRefused("out_of_stock", item=item.name) from None
    redemption_id = connection.execute(
        conflict_insert(connection, Redemption)
        .values(
            person_id=person_id,
            item_id=item.id,
            price=item.price,
            status="pending",
            delivery_key=delivery_key,
            created_at=now,
        )
        .returning(Redemption.id)
    ).scalar_one()
    try:
        after = wallet.spend(
            connection,
            program,
            person_id,
            item.price,
            key=f"redeem:{redemption_id}",
            template="coins.redeem",
            inputs={"item": item.key, "name": item.name, "redemption": int(redemption_id)},
            now=now,
        )
    except wallet.InsufficientCoins as short:
        raise RewardRefused("coins", item=item.name, price=item.price, available=short.available) from None
    audit.record(
        connection,
        at=now,
        actor_id=person_id,
        actor=people.names(connection, {person_id}).get(person_id, f"person:{person_id}"),
        action="rewards.redeem",
        target=f"redemption:{redemption_id}",
        details={"item": item.key, "price": item.price},
    )
    found = get(connection, int(redemption_id))
    assert found is not None
    return Redeemed(found, after, False)


def decide(
    connection: Connection,
    *,
    redemption_id: int,
    approve: bool,
    by_id: int,
    by_name: str,
    note: str | None,
    now: datetime,
) -> RedemptionInfo:
    """Fulfil or reject a pending redemption, once: a rejection refunds its coins and its stock."""
    status = "fulfilled" if approve else "rejected"
    changed = connection.execute(
        update(Redemption)
        .where(Redemption.id == redemption_id, Redemption.status == "pending")
        .values(status=status, decided_by=by_id, decided_at=now, note=note)
        .returning(Redemption.person_id, Redemption.item_id, Redemption.price)
    ).first()
    if changed is None:
        found = get(connection, redemption_id)
        if found is None:
            raise RewardRefused("no_redemption", id=redemption_id)
        raise RewardRefused("decided", id=redemption_id, status=found.status)
    if not approve:
        connection.execute(
            update(RewardItem)
            .where(RewardItem.id == changed.item_id, RewardItem.stock.is_not(None))
            .values(stock=RewardItem.stock + 1)
        )
        wallet.credit(
            connection,
            int(changed.person_id),
            int(changed.price),
            kind="refund",
            key=f"refund:{redemption_id}",
            template="coins.refund",
            inputs={"redemption": redemption_id, "note": note or ""},
            now=now,
        )
    audit.record(
        connection,
        at=now,
        actor_id=by_id,
        actor=by_name,
        action=f"rewards.{'fulfil' if approve else 'reject'}",
        target=f"redemption:{redemption_id}",
        details={"person": int(changed.person_id), "price": int(changed.price), "note": note},
    )
    found = get(connection, redemption_id)
    assert found is not None
    return found


def get(connection: Connection, redemption_id: int) -> RedemptionInfo | None:
    rows = _redemptions(connection, Redemption.id == redemption_id)
    return rows[0] if rows else None


def history(connection: Connection, person_id: int) -> list[RedemptionInfo]:
    """The person's redemptions, newest first."""
    return _redemptions(connection, Redemption.person_id == person_id)


def pending(connection: Connection, person_ids: set[int] | None = None) -> list[RedemptionInfo]:
    """Redemptions waiting for a decision (of these people, when given), newest first."""
    condition = Redemption.status == "pending"
    if person_ids is not None:
        condition = condition & Redemption.person_id.in_(sorted(person_ids))
    return _redemptions(connection, condition)


def _by_delivery(connection: Connection, delivery_key: str) -> RedemptionInfo | None:
    rows = _redemptions(connection, Redemption.delivery_key == delivery_key)
    return rows[0] if rows else None


def _redemptions(connection: Connection, condition: Any) -> list[RedemptionInfo]:
    rows = connection.execute(
        select(
            Redemption.id,
            Redemption.person_id,
            RewardItem.key,
            RewardItem.name,
            Redemption.price,
            Redemption.status,
            Redemption.created_at,
            Redemption.decided_by,
            Redemption.decided_at,
            Redemption.note,
        )
        .join(RewardItem, RewardItem.id == Redemption.item_id)
        .where(condition)
        .order_by(Redemption.id.desc())
    )
    return [RedemptionInfo(*tuple(row)) for row in rows]
