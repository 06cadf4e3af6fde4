"""`floorboard rewards …` (the coins store) and `floorboard audit` (who did what, when and why)."""

from __future__ import annotations

import json
import re

import typer
from rich.table import Table

from bot.messages import formats
from bot.program import MAX_REWARD_PRICE, MAX_REWARD_STOCK, REWARD_ID
from bot.scoring.zones import hundredths
from bot.services import audit, rewards
from bot.terminal.common import console, fail, opened_app


def register(app: typer.Typer) -> None:
    store = typer.Typer(help="The rewards store: items priced in coins, with stock.", no_args_is_help=True)
    app.add_typer(store, name="rewards")

    @store.command("list")
    def list_items() -> None:
        """Every item with its price in coins and its stock (∞: unlimited)."""
        with opened_app() as fb, fb.engine.connect() as connection:
            found = rewards.items(connection)
        table = Table(title="Rewards store", title_justify="left")
        for column, justify in (("id", "left"), ("name", "left"), ("price", "right"), ("stock", "right")):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for item in found:
            stock = "∞" if item.stock is None else str(item.stock)
            table.add_row(item.key, item.name, formats.hundredths(item.price), stock)
        console.print(table)

    @store.command("add")
    def add(
        key: str = typer.Argument(..., help="the item's id, a lower-case word such as 'mug'"),
        name: str = typer.Option(..., "--name", help="what agents see"),
        price: float = typer.Option(..., "--price", help="coins, more than 0"),
        stock: int | None = typer.Option(None, "--stock", help="starting stock; leave out for unlimited"),
    ) -> None:
        """Add an item, or change an existing item's name and price (its stock is kept: use restock)."""
        if not re.fullmatch(REWARD_ID, key) or len(key) > 100:
            raise fail(
                f"{key!r} is not an item id: use a lower-case word of letters, digits, '-' or '_' "
                "(e.g. 'mug' or 'early-finish'), as agents type it in /redeem"
            )
        if not 0 < price <= MAX_REWARD_PRICE:  # also NaN
            raise fail(f"--price must be more than 0 and at most {MAX_REWARD_PRICE:,} coins, got {price}")
        if stock is not None and not 0 <= stock <= MAX_REWARD_STOCK:
            raise fail(f"--stock must be from 0 to {MAX_REWARD_STOCK:,} units, got {stock}")
        with opened_app() as fb, fb.engine.begin() as connection:
            created = rewards.upsert_item(
                connection, key=key, name=name, price=hundredths(price), stock=stock, now=fb.clock()
            )
            audit.record(
                connection,
                at=fb.clock(),
                actor_id=None,
                actor="cli",
                action="rewards.item_add" if created else "rewards.item_update",
                target=f"reward:{key}",
                details={"name": name, "price": hundredths(price), "stock": stock},
            )
        console.print(f"{'added' if created else 'updated'} {key}: {name}, {formats.trim(price)} coins")

    @store.command("restock")
    def restock(
        key: str = typer.Argument(..., help="the item's id"),
        added: int = typer.Argument(..., help="units to add (at least 1)"),
    ) -> None:
        """Add units to an item's stock."""
        if not 1 <= added <= MAX_REWARD_STOCK:
            raise fail(f"add from 1 to {MAX_REWARD_STOCK:,} units, got {added}")
        with opened_app() as fb, fb.engine.begin() as connection:
            try:
                item = rewards.restock(connection, key, added)
            except rewards.RewardRefused as refused:
                if refused.code == "stock":
                    raise fail(
                        f"{key} has {refused.inputs['stock']:,} in stock: adding {added:,} would take it "
                        f"past the most an item holds, {MAX_REWARD_STOCK:,}"
                    ) from None
                raise fail(f"no reward {key!r}; items: {refused.inputs.get('items') or 'none'}") from None
            audit.record(
                connection,
                at=fb.clock(),
                actor_id=None,
                actor="cli",
                action="rewards.restock",
                target=f"reward:{key}",
                details={"added": added, "stock": item.stock},
            )
        console.print(f"{key}: stock {'∞' if item.stock is None else item.stock}")

    @app.command("audit")
    def show_audit(
        action: str = typer.Option("", "--action", help="only actions starting with this, e.g. challenge."),
        output: str = typer.Option("table", "--format", "-f", help="table or json"),
    ) -> None:
        """The audit log: when, who, what, on what, and the details (reasons included)."""
        with opened_app() as fb, fb.engine.connect() as connection:
            lines = audit.entries(connection, action_prefix=action)
        if output == "json":
            typer.echo(
                json.dumps(
                    [
                        {
                            "at": line.at.isoformat(),
                            "actor": line.actor,
                            "actor_id": line.actor_id,
                            "action": line.action,
                            "target": line.target,
                            "details": line.details,
                        }
                        for line in lines
                    ],
                    indent=2,
                    ensure_ascii=False,
                )
            )
            return
        table = Table(title="Audit log", title_justify="left")
        for column in ("at", "actor", "action", "target", "details"):
            table.add_column(column)
        for line in lines:
            details = json.dumps(line.details, ensure_ascii=False, sort_keys=True)
            table.add_row(
                line.at.isoformat(timespec="seconds"), line.actor, line.action, line.target or "", details
            )
        console.print(table)
