"""`/points`: balance, rank, breakdown, `why` sentences from the ledger, and who may see whose points."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.app import Floorboard
from bot.handlers.contract import DestinationKind, Fields, Table
from bot.store.models import PointsEntry
from tests.unit.test_handlers_world import ADMIN, DAY, RATINGS, SUPERVISOR, ratings_records, say, seed, text


def _csat_points(average: float) -> float:
    """csat-day zones [[3.5, 0], [4.2, 10], [4.8, 20]], computed here independently of bot.scoring."""
    if average >= 4.8:
        return 20.0
    if average >= 4.2:
        return 10 + (average - 4.2) / (4.8 - 4.2) * 10
    return max(0.0, (average - 3.5) / (4.2 - 3.5) * 10)


def _fields(message: object) -> dict[str, str]:
    fields = next(s for s in message.segments if isinstance(s, Fields))  # type: ignore[attr-defined]
    return dict(fields.items)


def test_balance_rank_and_breakdown(any_app: Floorboard) -> None:
    seed(any_app)
    name = "Dan Fox"
    csat = round(_csat_points(sum(RATINGS[name]) / 10), 2)
    handled = 10 / 40 * 10
    [reply] = say(any_app, name, "/points")
    assert reply.destination.kind is DestinationKind.CALLER
    assert reply.title == "Points: Dan Fox"
    fields = _fields(reply)
    total = csat + handled
    assert fields["Balance"] == f"{total:.2f} pts"
    assert fields["Today"] == f"{total:.2f} pts"
    assert fields["This week"] == f"{total:.2f} pts"
    totals = {
        n: (round(_csat_points(sum(v) / len(v)), 2) if len(v) >= 5 else 0) + len(v) / 40 * 10
        for n, v in RATINGS.items()
    }
    better = sum(1 for other in totals.values() if other > totals[name])
    assert better == 5
    assert fields["Rank"] == f"6th of {len(RATINGS)}, week 2021-03-29 to 2021-04-04"
    table = next(s for s in reply.segments if isinstance(s, Table))
    assert table.rows == (("csat-day", f"{csat:.2f}", f"{csat:.2f}"), ("handled-day", "2.50", "2.50"))


def test_why_sentences_match_the_ledger_inputs(app: Floorboard) -> None:
    ids = seed(app)
    name = "Ben Cole"
    average = sum(RATINGS[name]) / 10
    csat = round(_csat_points(average), 2)
    [why] = say(app, name, "/points why")
    assert why.title == f"Why Ben Cole's points changed on {DAY.isoformat()}"
    lines = text(why).splitlines()
    assert lines == [
        f"+{csat:.2f} pts: CSAT {average:.2f} over 10 surveys is between 4.2 (10 pts) and 4.8 (20 pts): "
        f"{csat:g} pts, rule csat-day, program v1",
        "+2.50 pts: Handled 10 is between 0 (0 pts) and 40 (10 pts): 2.5 pts, rule handled-day, program v1",
        f"Net change: +{csat + 2.5:.2f} pts.",
    ]
    with app.engine.connect() as connection:
        inputs = connection.scalar(
            select(PointsEntry.inputs).where(
                PointsEntry.person_id == ids[name], PointsEntry.rule == "csat-day"
            )
        )
    assert inputs["value"] == average and inputs["samples"] == 10 and inputs["points"] == csat


def test_why_shows_reversal_and_replacement_after_data_changes(app: Floorboard) -> None:
    seed(app)
    name = "Finn Hart"
    before = round(_csat_points(sum(RATINGS[name]) / 10), 2)
    changed = {name: [5] * 10}
    app.ingest([ratings_records(changed, prefix="v2")], source="test", origin="test", create_unknown=True)
    average = (sum(RATINGS[name]) + 50) / 20
    after = round(_csat_points(average), 2)
    lines = text(say(app, name, "/points why")[0]).splitlines()
    assert (
        f"-{before:.2f} pts: reversed {before:g} pts of rule csat-day (program v1): the day's data changed"
        in lines
    )
    assert (
        f"+{after:.2f} pts: CSAT {average:.2f} over 20 surveys is between 4.2 (10 pts) and 4.8 (20 pts): "
        f"{after:g} pts, rule csat-day, program v1"
    ) in lines
    assert (
        "+5.00 pts: Handled 20 is between 0 (0 pts) and 40 (10 pts): 5 pts, rule handled-day, program v1"
        in lines
    )
    assert lines[-1] == f"Net change: +{after + 5:.2f} pts."


def test_why_for_a_day_without_changes(app: Floorboard) -> None:
    seed(app)
    [reply] = say(app, "Jim Park", "/points why 2021-03-02")
    assert text(reply) == "No points changed on 2021-03-02."
    [reply] = say(app, SUPERVISOR, "/points why")
    assert text(reply) == "No points have been recorded yet."


def test_agents_see_only_their_own_points(app: Floorboard) -> None:
    seed(app)
    [reply] = say(app, "Jim Park", "/points @Martha")
    assert reply.destination.kind is DestinationKind.CALLER
    assert text(reply).startswith("You can only see your own points; Martha Jones's are private.")
    [reply] = say(app, "Jim Park", "/points @Martha why")
    assert "You can only see your own points" in text(reply)


def test_supervisors_see_agents_of_their_teams_on_the_day(app: Floorboard) -> None:
    seed(app)
    [reply] = say(app, SUPERVISOR, "/points @Jim")
    assert reply.title == "Points: Jim Park"
    [reply] = say(app, SUPERVISOR, '/points @"Ann Lee" why')
    assert "CSAT 4.80 over 10 surveys" in text(reply)
    [reply] = say(app, SUPERVISOR, "/points @Dan")
    assert (
        text(reply)
        == "Dan Fox was not in a team you supervise on 2021-04-01, so you cannot see their points."
    )
    [reply] = say(app, SUPERVISOR, "/points @Eve")
    assert "not in a team you supervise" in text(reply)
    [reply] = say(app, SUPERVISOR, "/points @Eve 2021-03-10")
    assert reply.title == "Points: Eve Gray"
    assert _fields(reply)["2021-03-10"] == "0.00 pts"


def test_admins_see_everyone(app: Floorboard) -> None:
    seed(app)
    [reply] = say(app, ADMIN, "/points @Dan")
    assert reply.title == "Points: Dan Fox"
    [reply] = say(app, ADMIN, "/points @Ivy why")
    assert "Handled 3 is between 0 (0 pts) and 40 (10 pts): 0.75 pts" in text(reply)


def test_points_for_a_past_day_name_the_period(app: Floorboard) -> None:
    seed(app)
    [reply] = say(app, "Jim Park", "/points 2021-03-10")
    fields = _fields(reply)
    assert fields["2021-03-10"] == "0.00 pts"
    assert fields["week 2021-03-08 to 2021-03-14"] == "0.00 pts"
    assert "Balance" in fields
    assert date(2021, 3, 10) < DAY
