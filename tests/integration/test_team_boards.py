"""Team boards from the real PwC workbook, computed independently: per member for totals, pooled for rates."""

import json

import openpyxl
from typer.testing import CliRunner

from bot.cli import build_cli
from tests.conftest import shared_file

TEAMS = {"north": ["Martha", "Jim", "Becky"], "south": ["Diane", "Dan", "Greg", "Joe", "Stewart"]}


def _january(path) -> dict[str, dict[str, list]]:
    calls: dict[str, dict[str, list]] = {}
    for row in list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))[1:]:
        _, agent, day, _, _, answered, resolved, _, _, rating = row
        if day.startswith("2021-01") and answered == "Y":
            mine = calls.setdefault(agent, {"resolved": [], "ratings": []})
            mine["resolved"].append(resolved == "Y")
            if rating is not None:
                mine["ratings"].append(rating)
    return calls


def _imported(tmp_path, monkeypatch) -> dict[str, dict[str, list]]:
    """The workbook and a two-team roster imported through the CLI; January's calls from the cells."""
    monkeypatch.setenv("FLOORBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'fb.db'}")
    monkeypatch.chdir(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "name,team,team_from,keys\n"
        + "".join(
            f"{name},{team},2020-12-01,pwc:{name}\n" for team, names in TEAMS.items() for name in names
        ),
        encoding="utf-8",
    )
    workbook = shared_file("tabular/pwc_call_center_original.xlsx")
    for args in (
        ["db", "upgrade"],
        ["roster", "import", str(roster)],
        ["import", str(workbook), "--mapping", "pwc-xlsx"],
    ):
        assert CliRunner().invoke(build_cli(), args).exit_code == 0
    return _january(workbook)


def _board(metric: str) -> dict[str, dict]:
    """`floorboard teams` for January as JSON: its `normalize`, and each team by key."""
    out = CliRunner().invoke(
        build_cli(), ["teams", "-m", metric, "-p", "month", "--at", "2021-01-15", "-f", "json"]
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    return {"normalize": result["normalize"]} | {team["team"]: team for team in result["teams"]}


def test_team_boards_per_member_and_pooled(tmp_path, monkeypatch):
    calls = _imported(tmp_path, monkeypatch)
    handled = _board("handled")
    for team, names in TEAMS.items():
        answered = sum(len(calls[name]["resolved"]) for name in names)
        assert handled[team]["value"] == answered / len(names)  # per member: a big team does not win by size
        assert handled[team]["headcount"] == len(names)
    fcr = _board("fcr")
    for team, names in TEAMS.items():
        resolved = [r for name in names for r in calls[name]["resolved"]]
        assert (
            abs(fcr[team]["value"] - sum(resolved) / len(resolved)) < 1e-12
        )  # pooled, not an average of averages
    csat = _board("csat")
    ranked = sorted(
        TEAMS,
        key=lambda team: (
            -sum(sum(calls[n]["ratings"]) for n in TEAMS[team])
            / sum(len(calls[n]["ratings"]) for n in TEAMS[team])
        ),
    )
    assert [team for team, _ in sorted(TEAMS.items(), key=lambda kv: csat[kv[0]]["rank"])] == ranked


def test_team_boards_sum_points_and_totals_when_the_program_asks(tmp_path, monkeypatch):
    """`team_boards: {normalize: total}`: the team's sums, so the five-agent team outscores the three."""
    calls = _imported(tmp_path, monkeypatch)
    per_member = {metric: _board(metric) for metric in ("handled", "points", "fcr")}
    assert per_member["handled"]["normalize"] == "per_member"
    program = tmp_path / "program.yaml"
    program.write_text("team_boards: {normalize: total}\n", encoding="utf-8")
    assert "OK:" in CliRunner().invoke(build_cli(), ["config", "check", str(program)]).output
    monkeypatch.setenv("FLOORBOARD_PROGRAM_FILE", str(program))
    total = {metric: _board(metric) for metric in ("handled", "points", "fcr")}

    assert total["handled"]["normalize"] == "total"
    answered = {team: sum(len(calls[name]["resolved"]) for name in names) for team, names in TEAMS.items()}
    assert {team: total["handled"][team]["value"] for team in TEAMS} == answered
    assert answered["south"] > answered["north"]  # five agents against three: south ranks first by sum
    assert (total["handled"]["south"]["rank"], total["handled"]["north"]["rank"]) == (1, 2)
    for team, names in TEAMS.items():  # the same January points, not divided by headcount
        summed, averaged = total["points"][team]["value"], per_member["points"][team]["value"]
        assert abs(summed - averaged * len(names)) < 1e-9
        assert total["fcr"][team]["value"] == per_member["fcr"][team]["value"]  # rates are pooled either way
