"""`/me`, `/floorboard optout|optin|help` and `/help`."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Floorboard
from bot.handlers.commands import default_registry
from bot.handlers.contract import DestinationKind, Fields, Table
from bot.handlers.parsing import usage
from bot.services.adjustments import Adjustment
from bot.services.adjustments import adjust as write_adjustment
from bot.store.models import Person
from tests.conftest import fixed_clock
from tests.unit.test_handlers_world import ADMIN, DAY, RATINGS, SUPERVISOR, say, seed, text


def _parts(message: object) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    segments = message.segments  # type: ignore[attr-defined]
    fields = next(s for s in segments if isinstance(s, Fields))
    table = next(s for s in segments if isinstance(s, Table))
    return dict(fields.items), {row[0]: row for row in table.rows}


def test_me_shows_points_rank_kpis_against_targets_and_privacy(app: Floorboard) -> None:
    seed(app)
    [reply] = say(app, "Finn Hart", "/me")
    assert reply.destination.kind is DestinationKind.CALLER
    assert reply.title == "Finn Hart, week 2021-03-29 to 2021-04-04"
    fields, kpis = _parts(reply)
    average = sum(RATINGS["Finn Hart"]) / 10
    points = round(10 + (average - 4.2) / 0.6 * 10, 2) + 2.5
    assert fields["Points, week 2021-03-29 to 2021-04-04"] == f"{points:.2f} pts"
    assert fields["Points, all time"] == f"{points:.2f} pts"
    assert fields["Rank"].startswith("8th of 9")
    assert fields["Public boards"].startswith("you are shown")
    assert kpis["CSAT ↑"] == ("CSAT ↑", f"{average:.2f}", "10 surveys", "4.20", "on target")
    assert kpis["AHT ↓"] == ("AHT ↓", "–", "0 contacts", "7m 00s", "no data")
    assert kpis["FCR ↑"][3] == "85.0%"
    assert kpis["Handled ↑"][1:3] == ("10", "10 contacts")
    hundredths = round(points * 100)
    assert hundredths < 10_000  # under the default curve's 100 points: still level 1
    to_next = (10_000 - hundredths) / 100
    assert fields["Level"] == f"1 ({points:.2f} XP; {to_next:.2f} more to level 2)"
    coins = hundredths * 1 // 10  # 0.1 coins a point, rounded down, in hundredths
    assert fields["Coins"] == f"{coins // 100}.{coins % 100:02d} coins earned"


def test_me_below_min_samples_and_after_opting_out(app: Floorboard) -> None:
    seed(app)
    say(app, "Ivy Moss", "/floorboard optout")
    fields, kpis = _parts(say(app, "Ivy Moss", "/me")[0])
    assert kpis["CSAT ↑"][1:] == ("4.33", "3 surveys", "4.20", "needs 5 surveys")
    assert fields["Public boards"].startswith("you are hidden")


def test_me_for_a_past_month(app: Floorboard) -> None:
    seed(app)
    fields, kpis = _parts(say(app, "Jim Park", "/me month 2021-03-10")[0])
    assert fields["Points, month 2021-03-01 to 2021-03-31"] == "0.00 pts"
    assert fields["Rank"] == "not ranked, month 2021-03-01 to 2021-03-31"
    assert kpis["CSAT ↑"][1] == "–"


def test_optout_and_optin_flip_the_roster_flag(app: Floorboard) -> None:
    ids = seed(app)

    def public() -> bool:
        with app.engine.connect() as connection:
            return bool(connection.scalar(select(Person.public_boards).where(Person.id == ids["Jim Park"])))

    assert text(say(app, "Jim Park", "/floorboard optout")[0]).startswith(
        "Done: public boards no longer show you"
    )
    assert public() is False
    assert text(say(app, "Jim Park", "/floorboard optout")[0]).startswith(
        "Public boards already leave you off"
    )
    assert text(say(app, "Jim Park", "/floorboard OPTIN")[0]).startswith("Done: public boards show you again")
    assert public() is True


def test_help_lists_every_command_with_its_params(app: Floorboard) -> None:
    seed(app)
    [reply] = say(app, "Jim Park", "/help")
    listing = text(reply)
    registry = default_registry()
    for spec in registry:
        assert usage(spec) in listing
        assert spec.help in listing
        for param in spec.params:
            assert f"{param.name} (" in listing and param.help in listing
    issue_7 = {f"challenge {sub}" for sub in ("create", "list", "join", "status", "end", "cancel")} | {
        "kudos-board",
        "kudos-revoke",
        "rewards",
        "redeem",
        "redemptions",
        "approve",
        "reject",
        "adjust",
    }
    assert {spec.name for spec in registry} == {
        "leaderboard",
        "points",
        "me",
        "badges",
        "kudos",
        "floorboard",
        "help",
        "link",
    } | issue_7
    assert "full" in listing and "supervisors" in listing
    assert text(say(app, "Jim Park", "/floorboard help")[0]) == listing


def test_me_all_shows_the_all_time_points_once(app: Floorboard) -> None:
    seed(app)
    [reply] = say(app, "Finn Hart", "/me all")
    fields = next(s for s in reply.segments if isinstance(s, Fields))
    average = sum(RATINGS["Finn Hart"]) / 10
    points = round(10 + (average - 4.2) / 0.6 * 10, 2) + 2.5
    assert [name for name, _ in fields.items] == [
        "Points, all time",
        "Rank",
        "Level",
        "Coins",
        "Public boards",
    ]
    assert fields.items[0] == ("Points, all time", f"{points:.2f} pts")
    assert fields.items[1] == ("Rank", "8th of 9, all time")
    assert text(reply).count("Points, all time") == 1


def test_me_and_points_for_a_supervisor_show_points_but_no_rank(app: Floorboard) -> None:
    seed(app)
    say(app, "Martha Jones", '/kudos @"Sam Reed" thanks for the cover')
    [reply] = say(app, SUPERVISOR, "/me")
    fields = dict(next(s for s in reply.segments if isinstance(s, Fields)).items)
    assert fields == {
        "Points, week 2021-03-29 to 2021-04-04": "5.00 pts",
        "Points, all time": "5.00 pts",
        "Level": "1 (5.00 XP; 95.00 more to level 2)",
        "Coins": "0.50 coins earned",
        "Public boards": "you are shown (/floorboard optout to hide)",
    }
    [reply] = say(app, SUPERVISOR, "/points")
    fields = dict(next(s for s in reply.segments if isinstance(s, Fields)).items)
    assert fields == {"Balance": "5.00 pts", "Today": "5.00 pts", "This week": "5.00 pts"}
    [reply] = say(app, ADMIN, '/points @"Sam Reed"')
    assert "Rank" not in dict(next(s for s in reply.segments if isinstance(s, Fields)).items)
    [reply] = say(app, "Jim Park", "/points")
    assert dict(next(s for s in reply.segments if isinstance(s, Fields)).items)["Rank"].startswith("1st of 9")


def test_me_at_the_top_level_never_shows_a_negative_amount_to_go(app: Floorboard) -> None:
    ids = seed(app)
    with app.engine.begin() as connection:  # written by the service, as no command may pay this much
        write_adjustment(
            connection,
            Adjustment(ids[SUPERVISOR], 10**13, "minted before rewards were bounded", ids[ADMIN], ADMIN),
            day=DAY,
            now=fixed_clock(),
            program_version=app.version,
            key="mint",
        )
    [reply] = say(app, SUPERVISOR, "/me")
    fields = dict(next(s for s in reply.segments if isinstance(s, Fields)).items)
    assert fields["Level"] == "1000 (100000000000.00 XP; the top level: there is no higher one)"
