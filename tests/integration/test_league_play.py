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
        ["import", str(shared_file(WORKBOOK)), "--mapping", "pwc-xlsx", "--rejects", str(home / "r.csv")],
        ["periods", "close", "--through", "2021-03-31"],  # a finished backfill: its months close now
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


def _january_points(zones: tuple[tuple[float, float], tuple[float, float]]) -> dict[str, int]:
    """Each agent's January csat-day points in hundredths, from the cells: a day with 5 surveys or more
    pays its mean rating on the two-point zone table."""
    days: dict[tuple[str, str], list[int]] = defaultdict(list)
    sheet = openpyxl.load_workbook(shared_file(WORKBOOK), read_only=True).active
    for row in list(sheet.iter_rows(values_only=True))[1:]:
        _, agent, day, _, _, answered, _, _, _, rating = row
        if answered == "Y" and rating is not None and day.startswith("2021-01"):
            days[(agent, day)].append(rating)
    (x0, p0), (x1, p1) = zones
    out: dict[str, int] = defaultdict(int)
    for (agent, _), ratings in days.items():
        if len(ratings) >= 5:
            mean = sum(ratings) / len(ratings)
            points = p0 + min(max((mean - x0) / (x1 - x0), 0.0), 1.0) * (p1 - p0)
            out[agent] += int(points * 100 + 0.5 + 1e-9)
    return out


def _competition_ranks(points: dict[str, int], among: set[str]) -> dict[str, int]:
    ranked = {name: amount for name, amount in points.items() if name in among and amount}
    return {name: 1 + sum(other > amount for other in ranked.values()) for name, amount in ranked.items()}


def test_whatif_ranks_within_leagues_when_the_program_says_so(league_app, tmp_path):
    proposed = tmp_path / "proposed.yaml"
    proposed.write_text(PROGRAM.replace("[[3.0, 0], [4.0, 10]]", "[[3.4, 0], [3.8, 10]]"), encoding="utf-8")
    args = ["whatif", str(proposed), "--period", "month", "--at", "2021-01-15", "--format", "json"]
    result = CliRunner().invoke(build_cli(), args, env=league_app.env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["ranked_within"] == "leagues"
    rows = {row["agent"]: row for row in answer["agents"]}
    now, then = _january_points(((3.0, 0), (4.0, 10))), _january_points(((3.4, 0), (3.8, 10)))
    assert {name: round(row["points_now"] * 100) for name, row in rows.items()} == now
    assert {name: round(row["points_then"] * 100) for name, row in rows.items()} == then
    veterans = set(AGENTS) - ROOKIES
    for league, members in (("rookies", ROOKIES), ("veterans", veterans)):
        assert {name for name, row in rows.items() if row["league"] == league} == members
        assert {name: rows[name]["rank_now"] for name in members} == _competition_ranks(now, members)
        assert {name: rows[name]["rank_then"] for name in members} == _competition_ranks(then, members)
    assert sorted(row["rank_then"] for row in rows.values()) == [1, 1, 2, 2, 3, 3, 4, 5]  # two boards

    one = CliRunner().invoke(build_cli(), [*args, "--league", "rookies"], env=league_app.env)
    assert one.exit_code == 0, one.output
    rookies = json.loads(one.output)
    assert rookies["ranked_within"] == "league rookies"
    assert {row["agent"]: row["rank_then"] for row in rookies["agents"]} == _competition_ranks(then, ROOKIES)

    floor = tmp_path / "floor.yaml"  # the same rules without within_leagues: one board for the floor
    floor.write_text(
        proposed.read_text(encoding="utf-8").replace("within_leagues: true", ""), encoding="utf-8"
    )
    whole = CliRunner().invoke(build_cli(), [*args[:1], str(floor), *args[2:]], env=league_app.env)
    answer = json.loads(whole.output)
    assert answer["ranked_within"] == "floor"
    everyone = {row["agent"]: row["rank_then"] for row in answer["agents"]}
    assert everyone == _competition_ranks(then, set(AGENTS))

    unknown = CliRunner().invoke(build_cli(), [*args, "--league", "seniors"], env=league_app.env)
    assert unknown.exit_code == 1
    assert "unknown league 'seniors'; leagues of the proposed program: rookies, veterans" in unknown.output
