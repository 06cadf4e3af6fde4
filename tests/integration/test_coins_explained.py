"""Each coins change of a day is a sentence in `/points why` and `floorboard explain`, as points are."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.app import Floorboard
from bot.cli import build_cli
from bot.services import profiles
from tests.conftest import make_app
from tests.unit.test_handlers_world import SUPERVISOR, say, seed, text

PROGRAM = """
metrics:
  csat: {min_samples: 5}
points:
  - {id: csat-day, metric: csat, zones: [[3.0, 0], [5.0, 20]]}
coins: {per_point: 0.1}
kudos: {points: 5, coins: 1.5}
rewards:
  - {id: mug, name: Floorboard mug, price: 2}
"""
DAY = "2021-04-01"  # the fixed clock's business day: every change below is made on it


def _world(tmp_path: Path) -> tuple[Floorboard, dict[str, int], Path]:
    program = tmp_path / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    app = make_app(f"sqlite:///{tmp_path / 'fb.db'}", program_file=program)
    ids = seed(app)
    say(app, "Martha Jones", "/kudos @Jim thanks for the cover")
    say(app, "Jim Park", "/rewards")  # looking at the wallet converts the points earned so far
    redeemed = say(app, "Jim Park", "/redeem mug")
    redemption = redeemed[1].actions[0].args["id"]
    say(app, SUPERVISOR, f"/reject {redemption} out of mugs")
    return app, ids, program


def _expected(app: Floorboard, jim: int) -> list[str]:
    with app.engine.connect() as connection:
        points = profiles.balance(connection, jim)  # hundredths: the day's CSAT points and 5 for the kudos
    earned = points // 10  # 0.1 coin per point, in hundredths of a coin, rounded down
    return [
        "+1.50 coins: kudos #1 from Martha Jones",
        f"+{earned // 100}.{earned % 100:02d} coins: coins from points: {points / 100:g} pts all time at 0.1 "
        f"coins per point make {earned / 100:g} coins earned (rounded down; the remainder carries)",
        "-2.00 coins: spent on Floorboard mug (redemption #1)",
        "+2.00 coins: redemption #1 rejected, coins refunded: out of mugs",
    ]


def test_points_why_gives_a_sentence_per_coins_change(tmp_path: Path) -> None:
    app, ids, _ = _world(tmp_path)
    [why] = say(app, "Jim Park", f"/points why {DAY}")
    lines = text(why).splitlines()
    expected = _expected(app, ids["Jim Park"])
    coin_lines = [line for line in lines if " coins: " in line]
    assert coin_lines == expected
    assert "+5.00 pts: kudos from Martha Jones: thanks for the cover: 5 pts" in lines
    app.close()


def test_explain_prints_the_coins_changes_of_the_day(tmp_path: Path) -> None:
    app, ids, program = _world(tmp_path)
    expected = _expected(app, ids["Jim Park"])
    app.close()
    env = {
        "FLOORBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'fb.db'}",
        "FLOORBOARD_PROGRAM_FILE": str(program),
        "COLUMNS": "300",
    }
    result = CliRunner().invoke(build_cli(), ["explain", "--agent", "Jim Park", "--day", DAY], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line for line in lines if " coins: " in line] == expected
    other_day = CliRunner().invoke(
        build_cli(), ["explain", "--agent", "Jim Park", "--day", "2021-03-31"], env=env
    )
    assert " coins: " not in other_day.output
