"""Kudos abuse and care: reciprocal farming, the weekly allowance, bots, private kudos, coins, the board,
and a supervisor's revoke (reversal entries, never a deletion)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from bot.app import Floorboard
from bot.handlers.contract import DestinationKind, Text, UserText
from bot.services import audit, kudos, wallet
from bot.services.kudos import Gift, KudosRefused
from bot.store.models import CoinEntry, Kudos, Person, PointsEntry
from tests.conftest import fixed_clock, make_app
from tests.unit.test_handlers_world import DAY, SUPERVISOR, say, seed, text

PROGRAM = """
kudos:
  daily_allowance: 5
  weekly_allowance: 7
  max_per_pair_per_week: 2
  points: 5
  coins: 2
  values: [empathy, ownership]
"""


def _app(url: str, tmp_path: Path) -> Floorboard:
    path = tmp_path / "program.yaml"
    path.write_text(PROGRAM, encoding="utf-8")
    return make_app(url, program_file=path)


def _give(app: Floorboard, giver: int, receivers: tuple[int, ...], day: date, key: str) -> None:
    with app.engine.begin() as connection:
        kudos.give(
            connection,
            app.program,
            Gift(giver, receivers, "thanks", None, key),
            day=day,
            now=fixed_clock(),
            program_version=app.version,
        )


def _refusal(app: Floorboard, giver: int, receivers: tuple[int, ...], day: date) -> KudosRefused:
    try:
        _give(app, giver, receivers, day, f"refused:{day}:{receivers}")
    except KudosRefused as refused:
        return refused
    raise AssertionError("expected a refusal")


def test_reciprocal_farming_is_capped_per_pair_per_week(sqlite_url: str, tmp_path: Path) -> None:
    app = _app(sqlite_url, tmp_path)
    ids = seed(app)
    martha, jim, ann = ids["Martha Jones"], ids["Jim Park"], ids["Ann Lee"]
    say(app, "Martha Jones", "/kudos @Jim thanks for the cover")
    say(app, "Jim Park", "/kudos @Martha thanks back")
    [refused] = say(app, "Martha Jones", "/kudos @Jim @Ann thanks again")
    assert text(refused) == (
        "You and Jim Park have already exchanged 2 kudos this week, the most this program allows between "
        "two people (2); thank someone else, or try again next week. Nothing was sent."
    )
    [refused_back] = say(app, "Jim Park", "/kudos @Martha one more")
    assert "You and Martha Jones have already exchanged 2" in text(refused_back)
    say(app, "Martha Jones", "/kudos @Ann thanks")  # another pair is fine
    next_week = DAY + timedelta(days=7)
    _give(app, martha, (jim,), next_week, "next-week")
    with app.engine.connect() as connection:
        pairs = connection.execute(select(Kudos.giver_id, Kudos.receiver_id, Kudos.business_day)).all()
    assert sorted(pairs) == sorted(
        [(martha, jim, DAY), (jim, martha, DAY), (martha, ann, DAY), (martha, jim, next_week)]
    )
    app.close()


def test_weekly_allowance_counts_every_recipient_across_the_week(sqlite_url: str, tmp_path: Path) -> None:
    app = _app(sqlite_url, tmp_path)
    ids = seed(app)
    martha = ids["Martha Jones"]
    others = [
        ids[n] for n in ("Jim Park", "Ann Lee", "Ben Cole", "Cara Diaz", "Dan Fox", "Eve Gray", "Finn Hart")
    ]
    monday = date(2021, 3, 29)  # the week of the fixed clock's Thursday 2021-04-01
    _give(app, martha, tuple(others[:4]), monday, "mon")
    _give(app, martha, tuple(others[4:7]), monday + timedelta(days=1), "tue")
    refused = _refusal(app, martha, (ids["Ivy Moss"],), DAY)
    assert (refused.code, refused.inputs) == (
        "weekly_allowance",
        {"used": 7, "allowance": 7, "asked": 1, "left": 0},
    )
    _give(app, martha, (ids["Ivy Moss"],), monday + timedelta(days=7), "next-mon")
    app.close()


def test_bots_neither_give_nor_receive(sqlite_url: str, tmp_path: Path) -> None:
    app = _app(sqlite_url, tmp_path)
    ids = seed(app)
    with app.engine.begin() as connection:
        connection.execute(update(Person).where(Person.id == ids["Ann Lee"]).values(attributes={"bot": True}))
    [refused] = say(app, "Martha Jones", "/kudos @Jim @Ann thanks")
    assert text(refused) == "Ann Lee is a bot account; kudos are for people. Nothing was sent."
    with app.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Kudos)) == 0
    app.close()


def test_private_kudos_post_nothing_to_channels_and_pay_points_and_coins(
    database_url: str, tmp_path: Path
) -> None:
    app = _app(database_url, tmp_path)
    ids = seed(app)
    jim = ids["Jim Park"]
    before = _wallet(app, jim)
    replies = say(app, "Martha Jones", "/kudos @Jim private thanks for listening <!here> #empathy")
    assert [m.destination.kind for m in replies] == [DestinationKind.CALLER, DestinationKind.DM]
    assert text(replies[0]).endswith("Sent privately: only they see it.")
    assert UserText("thanks for listening <!here>") in replies[1].segments
    assert not any(isinstance(s, Text) and "<!here>" in s.text for m in replies for s in m.segments)
    with app.engine.connect() as connection:
        row = connection.execute(select(Kudos.private, Kudos.value_tag)).one()
        coins = connection.execute(
            select(CoinEntry.amount, CoinEntry.kind).where(CoinEntry.kind == "kudos")
        ).all()
    assert tuple(row) == (True, "empathy")
    assert [tuple(c) for c in coins] == [(200, "kudos")]
    # 5 kudos points make 0.50 coins at the default 0.1 per point, plus the policy's 2 coins
    assert _wallet(app, jim).balance == before.balance + 50 + 200
    app.close()


def _wallet(app: Floorboard, person_id: int) -> wallet.Wallet:
    with app.engine.begin() as connection:
        return wallet.wallet(connection, app.program, person_id, now=fixed_clock())


def test_supervisor_revokes_with_reversal_entries_never_a_deletion(database_url: str, tmp_path: Path) -> None:
    app = _app(database_url, tmp_path)
    ids = seed(app)
    jim = ids["Jim Park"]
    say(app, "Martha Jones", "/kudos @Jim thanks for nothing")
    before = _wallet(app, jim)
    with app.engine.connect() as connection:
        kudos_id = connection.scalar(select(Kudos.id))
    [agent_refused] = say(app, "Ann Lee", f"/kudos-revoke {kudos_id} fake")
    assert text(agent_refused) == "/kudos-revoke is for supervisors or admins only."
    done = say(app, SUPERVISOR, f"/kudos-revoke {kudos_id} swapped kudos for a bet @everyone")
    assert text(done[0]) == (
        f"Kudos #{kudos_id} from @Martha Jones to @Jim Park is revoked: 5 pts reversed. "
        "Reason: swapped kudos for a bet @everyone"
    )
    assert done[1].destination.person_id == jim
    [again] = say(app, SUPERVISOR, f"/kudos-revoke {kudos_id} twice")
    assert text(again) == f"Kudos #{kudos_id} was already revoked. Nothing was changed."
    with app.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Kudos)) == 1  # kept, marked
        entries = connection.execute(
            select(PointsEntry.entry, PointsEntry.amount, PointsEntry.template)
            .where(PointsEntry.person_id == jim, PointsEntry.rule == "kudos")
            .order_by(PointsEntry.id)
        ).all()
        coin_rows = connection.execute(
            select(CoinEntry.kind, CoinEntry.amount).where(
                CoinEntry.person_id == jim, CoinEntry.kind != "earned"
            )
        ).all()
        [line] = audit.entries(connection, action_prefix="kudos.")
    assert [tuple(e) for e in entries] == [
        ("award", 500, "points.kudos"),
        ("reversal", -500, "points.kudos_revoked"),
    ]
    assert sorted(tuple(c) for c in coin_rows) == [("kudos", 200), ("revoke", -200)]
    assert (line.actor, line.action, line.target) == (SUPERVISOR, "kudos.revoke", f"kudos:{kudos_id}")
    assert line.details["reason"] == "swapped kudos for a bet @everyone"
    assert _wallet(app, jim).balance == before.balance - 200 - 50
    [why] = say(app, "Jim Park", "/points why")
    assert f"kudos #{kudos_id} revoked by Sam Reed: swapped kudos for a bet @everyone: -5 pts" in text(why)
    # the allowance is given back: a revoked kudos no longer counts
    with app.engine.connect() as connection:
        assert kudos.used_on(connection, ids["Martha Jones"], DAY) == 0
    app.close()


def test_kudos_board_counts_received_and_the_top_value(sqlite_url: str, tmp_path: Path) -> None:
    app = _app(sqlite_url, tmp_path)
    seed(app)
    say(app, "Martha Jones", "/kudos @Jim @Ann great save #empathy")
    say(app, "Ben Cole", "/kudos @Jim thanks #ownership")
    say(app, "Cara Diaz", "/kudos @Jim thanks #empathy")
    say(app, "Dan Fox", "/kudos @Ann private thanks")
    board, *rest = say(app, "Eve Gray", "/kudos-board")
    assert rest == []
    assert board.title == "Kudos board, week 2021-03-29 to 2021-04-04"
    rows = [line.split() for line in text(board).splitlines()[1:]]
    assert rows == [["1", "Jim", "Park", "3", "#empathy"], ["2", "Ann", "Lee", "2", "#empathy"]]
    _, recent = say(app, SUPERVISOR, "/kudos-board week")
    assert "great save #empathy" not in text(recent)  # reasons are stored without the tag
    lines = text(recent).splitlines()
    assert lines[0] == "#5 2021-04-01 Dan Fox → Ann Lee: thanks"
    assert len(lines) == 5 and all(("→ Jim Park" in line) != ("→ Ann Lee" in line) for line in lines)
    assert UserText("great save") in recent.segments
    app.close()
