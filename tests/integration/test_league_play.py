"""`within_leagues: true` on the PwC workbook with two leagues: an agent's chat board and /points rank are
their league's, the CLI's full view stays everyone, and most improved is contested within each league."""

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date

import openpyxl
import pytest
from typer.testing import CliRunner

from bot.app import Floorboard
from bot.cli import build_cli
from bot.handlers.contract import DestinationKind
from bot.services.badges import badge_set
from tests.conftest import make_app, shared_file
from tests.unit.test_handlers_world import only, say, text

PROGRAM = """\
within_leagues: true
metrics:
  csat: {min_samples: 5}
points:
  - {id: csat-day, metric: csat, zones: [[3.0, 0], [4.0, 10]]}
leagues:
  - {id: rookies, tenure_days: {lt: 90}}
  - {id: veterans, tenure_days: {gte: 90}}
badges:
  - {id: most-improved, kind: most_improved, metric: csat, period: month}
"""
ROOKIES = {"Martha", "Jim", "Becky"}
AGENTS = ("Martha", "Jim", "Becky", "Diane", "Dan", "Greg", "Joe", "Stewart")
HIRED = {name: date(2021, 1, 10) if name in ROOKIES else date(2019, 6, 1) for name in AGENTS}
WORKBOOK = "tabular/pwc_call_center_original.xlsx"


def _monthly_ratings() -> dict[tuple[str, str], list[int]]:
    ratings: dict[tuple[str, str], list[int]] = defaultdict(list)
    sheet = openpyxl.load_workbook(shared_file(WORKBOOK), read_only=True).active
    for row in list(sheet.iter_rows(values_only=True))[1:]:
        _, agent, day, _, _, answered, _, _, _, rating = row
        if answered == "Y" and rating is not None:
            ratings[(agent, day[:7])].append(rating)
    return ratings


@pytest.fixture(scope="module")
def league_app(tmp_path_factory) -> Iterator[Floorboard]:
    home = tmp_path_factory.mktemp("leagues")
    program = home / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    roster = home / "roster.csv"
    roster.write_text(
        "name,hire_date,keys\n"
        + "".join(f"{name},{HIRED[name].isoformat()},pwc:{name}\n" for name in AGENTS),
        encoding="utf-8",
    )
    url = f"sqlite:///{home / 'fb.db'}"
    env = {"FLOORBOARD_DATABASE_URL": url, "FLOORBOARD_PROGRAM_FILE": str(program), "COLUMNS": "200"}
    for args in (
        ["db", "upgrade"],
        ["roster", "import", str(roster)],
        ["import", str(shared_file(WORKBOOK)), "--mapping", "pwc-xlsx"],
    ):
        result = CliRunner().invoke(build_cli(), args, env=env)
        assert result.exit_code == 0, result.output
    app = make_app(url, program_file=program)
    app.env = env  # type: ignore[attr-defined]
    yield app
    app.close()


def test_most_improved_is_one_per_league(league_app):
    ratings = _monthly_ratings()
    mean = {key: sum(values) / len(values) for key, values in ratings.items()}
    expected = set()
    months = (("2021-01", "2021-02", date(2021, 2, 28)), ("2021-02", "2021-03", date(2021, 3, 31)))
    for before, now, end in months:
        rookies = {agent for agent in AGENTS if (end - HIRED[agent]).days < 90}
        assert rookies == ROOKIES
        for league in (rookies, set(AGENTS) - rookies):
            gains = {agent: round(mean[(agent, now)] - mean[(agent, before)], 9) for agent in league}
            top = max(gains.values())
            if top > 0:
                expected |= {(agent, f"month:{now}-01") for agent, gain in gains.items() if gain == top}
    got = {(name, key) for name, badge, _, key in badge_set(league_app.engine) if badge == "most-improved"}
    assert got == expected
    march = {agent for agent, key in expected if key == "month:2021-03-01"}
    assert len(march) == 2 and len(march & ROOKIES) == 1  # a winner in each league, not one for the floor


def test_an_agents_chat_board_is_their_league(league_app):
    ratings = _monthly_ratings()
    league = {name: ratings[(name, "2021-01")] for name in ROOKIES}
    prior = sum(sum(r) for r in league.values()) / sum(len(r) for r in league.values())
    ranked = sorted(ROOKIES, key=lambda n: -(10 * prior + sum(league[n])) / (10 + len(league[n])))
    replies = say(league_app, "Jim", "/leaderboard csat month 2021-01-15")
    [public] = only(replies, DestinationKind.ORIGIN)
    assert public.title == "CSAT leaderboard, league rookies, month 2021-01-01 to 2021-01-31"
    assert ranked[0] in text(public) and not any(name in text(public) for name in set(AGENTS) - ROOKIES)
    own = next(reply for reply in replies if reply.destination.kind is not DestinationKind.ORIGIN)
    assert f"You are {ranked.index('Jim') + 1}" in text(own) and "of 3" in text(own)


def test_a_veteran_asking_for_the_rookies_board_is_told_they_are_not_in_it(league_app):
    replies = say(
        league_app,
        "Diane",
        "/leaderboard csat month rookies 2021-01-15",
    )
    own = next(reply for reply in replies if reply.destination.kind is not DestinationKind.ORIGIN)
    assert text(own).startswith("You are not in the rookies league, so this board does not rank you")


def test_points_rank_is_within_the_league(league_app):
    [reply] = say(league_app, "Dan", "/points 2021-01-15")
    assert "of 5" in text(reply)  # the five veterans with January points, not all eight


def test_the_cli_board_stays_everyone_unless_a_league_is_asked(league_app):
    args = ["leaderboard", "-m", "csat", "-p", "month", "--at", "2021-01-15", "-f", "json"]
    everyone = CliRunner().invoke(build_cli(), args, env=league_app.env)
    assert {entry["agent"] for entry in json.loads(everyone.output)["entries"]} == set(AGENTS)
    rookies = CliRunner().invoke(build_cli(), [*args, "--league", "rookies"], env=league_app.env)
    assert {entry["agent"] for entry in json.loads(rookies.output)["entries"]} == ROOKIES
