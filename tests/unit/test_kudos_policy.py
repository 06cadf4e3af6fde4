"""Kudos abuse and care: reciprocal farming, the weekly allowance, bots, private kudos, coins, the board,
and a supervisor's revoke (reversal entries, never a deletion)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Floorboard
from bot.handlers.contract import DestinationKind, Text, UserText
from bot.services import audit, kudos, roster, wallet
from bot.services.kudos import Gift, KudosRefused
from bot.store.models import CoinEntry, Kudos, PointsEntry
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


BOT_ROSTER = """name,role,bot,team,team_from,keys
Floor Bot,agent,yes,blue,2021-01-01,console:floorbot
Ann Lee,,no,,,
"""


def test_the_roster_marks_bots_and_they_neither_give_nor_receive(sqlite_url: str, tmp_path: Path) -> None:
    app = _app(sqlite_url, tmp_path)
    ids = seed(app)
    path = tmp_path / "roster.csv"
    path.write_text(BOT_ROSTER, encoding="utf-8")
    imported = roster.import_roster_file(app.engine, path, today=DAY, clock=fixed_clock)
    assert (imported.people_created, imported.people_updated, imported.people_unchanged) == (1, 0, 1)
    again = roster.import_roster_file(app.engine, path, today=DAY, clock=fixed_clock)
    assert again.changes == 0  # idempotent: Ann's "no" matches an unmarked person
    exported = {row["name"]: row["bot"] for row in roster.roster_rows(app.engine)}
    assert exported["Floor Bot"] == "yes" and exported["Ann Lee"] == "no"

    [to_bot] = say(app, "Martha Jones", "/kudos @Jim @Floor thanks")
    assert text(to_bot) == "Floor Bot is a bot account; kudos are for people. Nothing was sent."
    [from_bot] = say(app, "floorbot", "/kudos @Jim thanks")
    assert text(from_bot) == (
        "Floor Bot is a bot account, and kudos come from people: a bot cannot give them. Nothing was sent."
    )
    with app.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Kudos)) == 0

    path.write_text("name,bot\nFloor Bot,no\n", encoding="utf-8")
    unmarked = roster.import_roster_file(app.engine, path, today=DAY, clock=fixed_clock)
    assert unmarked.people_updated == 1
    assert "Kudos sent to @Jim Park" in text(say(app, "floorbot", "/kudos @Jim thanks")[0])
    with app.engine.connect() as connection:
        [change] = [
            line.details["changes"]
            for line in audit.entries(connection, action_prefix="roster.person.update")
        ]
        assert connection.scalar(select(Kudos.receiver_id)) == ids["Jim Park"]
    assert change == {"bot": [True, False]}

    path.write_text("name,bot\nFloor Bot,maybe\n", encoding="utf-8")
    with pytest.raises(roster.RosterError) as refused:
        roster.import_roster_file(app.engine, path, today=DAY, clock=fixed_clock)
    assert refused.value.problems == [f"{path}:2: bot must be yes or no, got 'maybe'"]
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
    say(app, "Dan Fox", "/kudos @Ann private for the secret tip")
    say(app, "Eve Gray", "/kudos @Ben thanks")
    say(app, "Finn Hart", "/kudos @Ben thanks")
    say(app, "Jim Park", "/kudos @Cara @Dan thanks")
    # received: Jim 3, Ann 2 (one private), Ben 2, Cara 1, Dan 1: five people, so the public board shows
    # min(5, 5 // 2) = 2 of them, ties in id order
    board, *rest = say(app, "Eve Gray", "/kudos-board")
    assert rest == []
    assert board.destination.kind is DestinationKind.ORIGIN
    assert board.title == "Kudos board, week 2021-03-29 to 2021-04-04"
    rows = [line.split() for line in text(board).splitlines()[1:]]
    assert rows == [["1", "Jim", "Park", "3", "#empathy"], ["2", "Ann", "Lee", "2", "#empathy"]]
    say(app, "Ann Lee", "/floorboard optout")
    board, *_ = say(app, "Eve Gray", "/kudos-board")
    rows = [line.split() for line in text(board).splitlines()[1:]]
    assert rows == [["1", "Jim", "Park", "3", "#empathy"], ["2", "Ben", "Cole", "2"]]

    # Sam supervises Blue (Martha, Jim, Ann, Ben this week): every kudos they received; a private one
    # listed with its number (to revoke it) but never its words
    _, recent = say(app, SUPERVISOR, "/kudos-board week")
    assert recent.destination.kind is DestinationKind.CALLER
    assert "great save #empathy" not in text(recent)  # reasons are stored without the tag
    assert "secret tip" not in text(recent)
    lines = text(recent).splitlines()
    assert lines[-2] == "Private kudos (their words stay with the giver and the receivers):"
    assert re.fullmatch(r"#\d+ 2021-04-01 Dan Fox → Ann Lee \(private\)", lines[-1])
    assert lines[0] == "#7 2021-04-01 Finn Hart → Ben Cole: thanks"
    assert sorted(line.split(": ")[0].split(" ", 2)[2] for line in lines[:-2]) == sorted(
        [
            "Cara Diaz → Jim Park",
            "Ben Cole → Jim Park",
            "Martha Jones → Ann Lee",
            "Martha Jones → Jim Park",
            "Eve Gray → Ben Cole",
            "Finn Hart → Ben Cole",
        ]
    )
    assert UserText("great save") in recent.segments
    app.close()


def test_kudos_board_posts_no_top_while_it_would_show_the_bottom(sqlite_url: str, tmp_path: Path) -> None:
    app = _app(sqlite_url, tmp_path)
    seed(app)
    say(app, "Martha Jones", "/kudos @Jim thanks")
    say(app, "Ben Cole", "/kudos @Ann private thanks")
    say(app, "Ann Lee", "/floorboard optout")
    # Ann opted out: Jim alone is ranked, and half of one is nobody
    [alone] = say(app, "Eve Gray", "/kudos-board")
    assert alone.destination.kind is DestinationKind.CALLER
    assert text(alone) == (
        "1 person received kudos in week 2021-03-29 to 2021-04-04. A public board shows at most half of "
        "those it ranks, so there is no top to post yet."
    )
    app.close()
