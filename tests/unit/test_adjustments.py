"""`/adjust`: supervisors add or remove points with a reason; the ledger and the audit log keep who,
when and why."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Floorboard
from bot.handlers.contract import DestinationKind, UserText
from bot.services import audit
from bot.store.models import PointsEntry
from tests.conftest import fixed_clock
from tests.unit.test_handlers_world import ADMIN, DAY, SUPERVISOR, say, seed, text


def test_a_supervisor_adjusts_an_agent_of_their_team(any_app: Floorboard) -> None:
    ids = seed(any_app)
    jim = ids["Jim Park"]
    replies = say(
        any_app, SUPERVISOR, "/adjust @Jim -2.5 duplicate survey credited <!channel>", delivery_id="d1"
    )
    assert [m.destination.kind for m in replies] == [DestinationKind.CALLER, DestinationKind.DM]
    assert text(replies[0]) == "-2.50 pts for @Jim Park, by @Sam Reed: duplicate survey credited <!channel>"
    assert UserText("duplicate survey credited <!channel>") in replies[1].segments
    [replayed] = say(
        any_app, SUPERVISOR, "/adjust @Jim -2.5 duplicate survey credited <!channel>", delivery_id="d1"
    )
    assert text(replayed) == "Already done: this /adjust request was handled before, so nothing changed."
    say(any_app, ADMIN, '/adjust @"Cara Diaz" +10 covered the late shift')
    with any_app.engine.connect() as connection:
        rows = connection.execute(
            select(
                PointsEntry.person_id,
                PointsEntry.entry,
                PointsEntry.amount,
                PointsEntry.inputs,
                PointsEntry.created_at,
            )
            .where(PointsEntry.rule == "adjustment")
            .order_by(PointsEntry.id)
        ).all()
        lines = audit.entries(connection, action_prefix="points.")
    assert [(r.person_id, r.entry, r.amount) for r in rows] == [
        (jim, "reversal", -250),
        (ids["Cara Diaz"], "award", 1000),
    ]
    assert (
        rows[0].inputs["by"] == ids[SUPERVISOR]
        and rows[0].inputs["reason"] == "duplicate survey credited <!channel>"
    )
    assert rows[0].created_at.replace(tzinfo=None) == fixed_clock().replace(tzinfo=None)
    assert [
        (line.actor, line.action, line.target, line.details["amount"], line.details["reason"])
        for line in lines
    ] == [
        (SUPERVISOR, "points.adjust", f"person:{jim}", -250, "duplicate survey credited <!channel>"),
        (ADMIN, "points.adjust", f"person:{ids['Cara Diaz']}", 1000, "covered the late shift"),
    ]
    assert lines[0].details["business_day"] == DAY.isoformat()
    [why] = say(any_app, "Jim Park", "/points why")
    assert "-2.50 pts: adjusted by Sam Reed: duplicate survey credited <!channel>: -2.5 pts" in text(why)


def test_agents_and_other_teams_supervisors_cannot_adjust(app: Floorboard) -> None:
    seed(app)
    [agent] = say(app, "Jim Park", "/adjust @Ann 5 nice")
    assert text(agent) == "/adjust is for supervisors or admins only."
    [other_team] = say(app, SUPERVISOR, "/adjust @Cara 5 nice")  # Cara is in Red; Sam leads Blue
    assert "Cara Diaz was not in a team you supervise" in text(other_team)
    [zero] = say(app, SUPERVISOR, "/adjust @Jim 0 nothing")
    assert text(zero).startswith("An adjustment needs a non-zero number of points")
    for tiny in ("0.001", "-0.004"):
        [refused] = say(app, SUPERVISOR, f"/adjust @Jim {tiny} tiny")
        assert text(refused) == (
            "Points are kept in hundredths: the smallest adjustment is 0.01 (or -0.01), and "
            f"{tiny} rounds to 0. Nothing was written."
        )
    [own] = say(app, SUPERVISOR, "/adjust @Sam 10 me")
    assert text(own) == "Nobody adjusts their own points: ask another supervisor or an admin."
    [admin_own] = say(app, ADMIN, f"/adjust @{ADMIN.split()[0]} 10 me")
    assert text(admin_own) == text(own)
    for huge in ("99999999999999999999", "100000.01", "-100001"):
        [refused] = say(app, SUPERVISOR, f"/adjust @Jim {huge} lol")
        assert text(refused) == "An adjustment is at most 100,000 points either way; nothing was written."
    with app.engine.connect() as connection:
        assert connection.execute(select(PointsEntry.id).where(PointsEntry.rule == "adjustment")).all() == []


def test_the_smallest_adjustment_is_a_hundredth(app: Floorboard) -> None:
    ids = seed(app)
    say(app, SUPERVISOR, "/adjust @Jim 0.01 a hundredth")
    say(app, SUPERVISOR, "/adjust @Jim 0.005 half a hundredth rounds up")
    with app.engine.connect() as connection:
        amounts = connection.scalars(
            select(PointsEntry.amount)
            .where(PointsEntry.rule == "adjustment", PointsEntry.person_id == ids["Jim Park"])
            .order_by(PointsEntry.id)
        ).all()
    assert amounts == [1, 1]
