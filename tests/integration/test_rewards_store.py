"""The rewards store: redemptions reserve coins and stock, approvals fulfil, rejections refund; concurrent
requests race for the last coins and the last item on PostgreSQL, and the database decides."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.app import Floorboard
from bot.handlers.contract import DestinationKind
from bot.services import audit, rewards, wallet
from bot.store.models import CoinEntry, CoinWallet, Redemption, RewardItem
from tests.conftest import make_app
from tests.unit.test_handlers_world import SUPERVISOR, say, seed, text

NOW = datetime(2021, 4, 1, 12, tzinfo=UTC)
PROGRAM = """
rewards:
  - {id: mug, name: Floorboard mug, price: 10}
  - {id: day-off, name: Half a day off, price: 40, stock: 1}
"""


def _app(url: str, tmp_path: Path) -> Floorboard:
    program = tmp_path / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    app = make_app(url, program_file=program)
    with app.engine.begin() as connection:
        rewards.sync_program_items(connection, app.program, now=NOW)
    return app


def _give_coins(app: Floorboard, person_id: int, coins: int, key: str) -> None:
    with app.engine.begin() as connection:
        wallet.credit(
            connection,
            person_id,
            coins * 100,
            kind="challenge",
            key=key,
            template="coins.challenge",
            inputs={},
            now=NOW,
        )


def _wallet(app: Floorboard, person_id: int) -> wallet.Wallet:
    with app.engine.begin() as connection:
        return wallet.wallet(connection, app.program, person_id, now=NOW)


def _race(count: int, action: Callable[[int], str]) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes: list[str] = [""] * count

    def run(index: int) -> None:
        barrier.wait()
        outcomes[index] = action(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _redeem(app: Floorboard, person_id: int, item: str, key: str) -> str:
    try:
        with app.engine.begin() as connection:
            rewards.redeem(
                connection, app.program, person_id=person_id, item_key=item, delivery_key=key, now=NOW
            )
        return "ok"
    except rewards.RewardRefused as refused:
        return refused.code


def test_racing_for_the_last_coins_never_overdraws(postgres_url: str, tmp_path: Path) -> None:
    app = _app(postgres_url, tmp_path)
    ids = seed(app, {"Jim Park": [5] * 5})
    jim = ids["Jim Park"]
    earned = _wallet(app, jim).balance  # coins from Jim's points, before the challenge coins
    _give_coins(app, jim, 30, "grant")
    affordable = (earned + 3000) // 1000  # mugs at 10 coins
    outcomes = _race(8, lambda i: _redeem(app, jim, "mug", f"race:{i}"))
    assert outcomes.count("ok") == affordable
    assert outcomes.count("coins") == 8 - affordable
    after = _wallet(app, jim)
    assert after.balance == earned + 3000 - affordable * 1000
    assert after.balance >= 0 and after.debt == 0
    with app.engine.connect() as connection:
        assert wallet.ledger_sum(connection, jim) == after.balance
        assert connection.scalar(select(func.count()).select_from(Redemption)) == affordable
    app.close()


def test_racing_for_the_last_item_never_oversells(postgres_url: str, tmp_path: Path) -> None:
    app = _app(postgres_url, tmp_path)
    ids = seed(app)
    agents = [
        ids[name] for name in ("Martha Jones", "Jim Park", "Ann Lee", "Ben Cole", "Cara Diaz", "Dan Fox")
    ]
    for person in agents:
        _give_coins(app, person, 100, f"grant:{person}")
    outcomes = _race(len(agents), lambda i: _redeem(app, agents[i], "day-off", f"race:{i}"))
    assert sorted(outcomes) == ["ok"] + ["out_of_stock"] * (len(agents) - 1)
    with app.engine.connect() as connection:
        assert connection.scalar(select(RewardItem.stock).where(RewardItem.key == "day-off")) == 0
        spent = connection.execute(select(CoinEntry.person_id).where(CoinEntry.kind == "redeem")).all()
    assert len(spent) == 1  # only the winner paid; the others' transactions rolled back whole
    app.close()


def test_the_database_itself_refuses_a_negative_wallet_or_stock(database_url: str, tmp_path: Path) -> None:
    app = _app(database_url, tmp_path)
    ids = seed(app, {"Jim Park": [5]})
    _give_coins(app, ids["Jim Park"], 5, "grant")
    with pytest.raises(IntegrityError), app.engine.begin() as connection:
        connection.execute(update(CoinWallet).values(available=CoinWallet.available - 100_000))
    with pytest.raises(IntegrityError), app.engine.begin() as connection:
        connection.execute(update(RewardItem).where(RewardItem.key == "day-off").values(stock=-1))
    with app.engine.connect() as connection:
        assert connection.scalar(select(RewardItem.stock).where(RewardItem.key == "day-off")) == 1
        assert connection.scalar(select(CoinWallet.available)) >= 0
    app.close()


def test_a_reversal_after_spending_shows_as_debt_and_is_paid_off_first(
    database_url: str, tmp_path: Path
) -> None:
    app = _app(database_url, tmp_path)
    ids = seed(app, {"Jim Park": [5]})
    jim = ids["Jim Park"]
    start = _wallet(app, jim).balance
    _give_coins(app, jim, 10, "grant")
    assert _redeem(app, jim, "mug", "buy") == "ok"
    with app.engine.begin() as connection:
        wallet.credit(
            connection, jim, -(start + 700), kind="revoke", key="take-back", template="t", inputs={}, now=NOW
        )
    assert _wallet(app, jim) == wallet.Wallet(0, 700)  # shown as -7.00 coins
    assert _redeem(app, jim, "mug", "again") == "coins"
    _give_coins(app, jim, 10, "more")
    assert _wallet(app, jim) == wallet.Wallet(300, 0)
    app.close()


def test_redeem_approve_reject_through_chat(any_app: Floorboard, tmp_path: Path) -> None:
    app = any_app
    with app.engine.begin() as connection:
        rewards.upsert_item(connection, key="mug", name="Floorboard mug", price=1000, stock=3, now=NOW)
    ids = seed(app)
    jim = ids["Jim Park"]
    _give_coins(app, jim, 25, "grant")
    base = _wallet(app, jim).balance
    [listing] = say(app, "Jim Park", "/rewards")
    assert "mug   Floorboard mug  10.00      3" in text(listing)
    first = say(app, "Jim Park", "/redeem mug")
    assert [m.destination.kind for m in first] == [DestinationKind.CALLER, DestinationKind.DM]
    assert first[1].destination.person_id == ids[SUPERVISOR]
    assert [a.command for a in first[1].actions] == ["approve", "reject"]
    first_id = first[1].actions[0].args["id"]
    second = say(app, "Jim Park", "/redeem mug")
    second_id = second[1].actions[0].args["id"]
    assert _wallet(app, jim).balance == base - 2000

    [refused] = say(app, "Jim Park", f"/approve {first_id}")
    assert text(refused) == "/approve is for supervisors or admins only."
    approved = say(app, SUPERVISOR, f"/approve {first_id}")
    assert text(approved[0]) == f"Redemption #{first_id} (Floorboard mug) for @Jim Park is approved."
    rejected = say(app, SUPERVISOR, f"/reject {second_id} out of mugs <!channel>")
    assert text(rejected[1]) == (
        f"Your Floorboard mug (redemption #{second_id}) was rejected and 10.00 coins were refunded. "
        "Reason: out of mugs <!channel>"
    )
    [twice] = say(app, SUPERVISOR, f"/reject {second_id} again")
    assert text(twice) == f"Redemption #{second_id} is already rejected; nothing was changed."
    assert _wallet(app, jim).balance == base - 1000
    with app.engine.connect() as connection:
        assert connection.scalar(select(RewardItem.stock).where(RewardItem.key == "mug")) == 2
        statuses = [r.status for r in rewards.history(connection, jim)]
        actions = [
            (line.action, line.actor, line.actor_id)
            for line in audit.entries(connection, action_prefix="rewards.")
        ]
    assert statuses == ["rejected", "fulfilled"]
    assert actions == [
        ("rewards.redeem", "Jim Park", jim),
        ("rewards.redeem", "Jim Park", jim),
        ("rewards.fulfil", SUPERVISOR, ids[SUPERVISOR]),
        ("rewards.reject", SUPERVISOR, ids[SUPERVISOR]),
    ]
    [history] = say(app, "Jim Park", "/redemptions")
    assert "rejected" in text(history) and "approved" in text(history)
    [too_dear] = say(app, "Ann Lee", "/redeem mug")
    assert "Floorboard mug costs 10.00 coins and you have" in text(too_dear)
