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


def test_team_boards_per_member_and_pooled(tmp_path, monkeypatch):
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
    runner = CliRunner()
    for args in (
        ["db", "upgrade"],
        ["roster", "import", str(roster)],
        ["import", str(workbook), "--mapping", "pwc-xlsx"],
    ):
        assert runner.invoke(build_cli(), args).exit_code == 0

    calls = _january(workbook)

    def board(metric: str) -> dict[str, dict]:
        out = runner.invoke(
            build_cli(), ["teams", "-m", metric, "-p", "month", "--at", "2021-01-15", "-f", "json"]
        )
        assert out.exit_code == 0, out.output
        return {team["team"]: team for team in json.loads(out.output)["teams"]}

    handled = board("handled")
    for team, names in TEAMS.items():
        answered = sum(len(calls[name]["resolved"]) for name in names)
        assert handled[team]["value"] == answered / len(names)  # per member: a big team does not win by size
        assert handled[team]["headcount"] == len(names)
    fcr = board("fcr")
    for team, names in TEAMS.items():
        resolved = [r for name in names for r in calls[name]["resolved"]]
        assert (
            abs(fcr[team]["value"] - sum(resolved) / len(resolved)) < 1e-12
        )  # pooled, not an average of averages
    csat = board("csat")
    ranked = sorted(
        TEAMS,
        key=lambda team: (
            -sum(sum(calls[n]["ratings"]) for n in TEAMS[team])
            / sum(len(calls[n]["ratings"]) for n in TEAMS[team])
        ),
    )
    assert [team for team, _ in sorted(csat.items(), key=lambda kv: kv[1]["rank"])] == ranked
