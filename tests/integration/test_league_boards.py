"""Boards within a league: only its agents rank, and the confidence prior is the league's own mean."""

import json

import openpyxl
from typer.testing import CliRunner

from bot.cli import build_cli
from tests.conftest import shared_file

PROGRAM = """\
metrics:
  csat: {min_samples: 5}
leagues:
  - {id: rookies, tenure_days: {lt: 90}}
  - {id: veterans, tenure_days: {gte: 90}}
"""
ROOKIES = {"Martha", "Jim", "Becky"}


def _january_csat(path) -> dict[str, list[int]]:
    ratings: dict[str, list[int]] = {}
    for row in list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))[1:]:
        _, agent, day, _, _, answered, _, _, _, rating = row
        if day.startswith("2021-01") and answered == "Y" and rating is not None:
            ratings.setdefault(agent, []).append(rating)
    return ratings


def test_league_board_ranks_only_its_agents_against_its_own_mean(tmp_path, monkeypatch):
    program = tmp_path / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    monkeypatch.setenv("FLOORBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'fb.db'}")
    monkeypatch.setenv("FLOORBOARD_PROGRAM_FILE", str(program))
    monkeypatch.chdir(tmp_path)
    workbook = shared_file("tabular/pwc_call_center_original.xlsx")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "name,hire_date,keys\n"
        + "".join(
            f"{name},{'2020-12-01' if name in ROOKIES else '2019-06-01'},pwc:{name}\n"
            for name in ("Martha", "Jim", "Becky", "Diane", "Dan", "Greg", "Joe", "Stewart")
        ),
        encoding="utf-8",
    )
    runner = CliRunner()
    for args in (
        ["db", "upgrade"],
        ["roster", "import", str(roster)],
        ["import", str(workbook), "--mapping", "pwc-xlsx"],
    ):
        result = runner.invoke(build_cli(), args)
        assert result.exit_code == 0, result.output

    out = runner.invoke(
        build_cli(),
        [
            "leaderboard",
            "-m",
            "csat",
            "-p",
            "month",
            "--at",
            "2021-01-15",
            "--league",
            "rookies",
            "-f",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    entries = json.loads(out.output)["entries"]
    ratings = _january_csat(workbook)
    league = {name: ratings[name] for name in ROOKIES}
    prior = sum(sum(r) for r in league.values()) / sum(len(r) for r in league.values())
    expected = {name: (10 * prior + sum(r)) / (10 + len(r)) for name, r in league.items()}
    assert {entry["agent"] for entry in entries} == ROOKIES
    assert [entry["agent"] for entry in entries] == sorted(expected, key=lambda name: -expected[name])
    for entry in entries:
        assert abs(entry["rank_value"] - expected[entry["agent"]]) < 1e-9
        assert entry["method"] == f"bayesian(prior_weight=10, prior_mean={prior:.6g})"

    unknown = runner.invoke(
        build_cli(), ["leaderboard", "-m", "csat", "--at", "2021-01-15", "--league", "pros"]
    )
    assert unknown.exit_code == 1 and "unknown league 'pros'; leagues: rookies, veterans" in unknown.output
    chat = runner.invoke(build_cli(), ["say", "--as", "Martha", "/leaderboard csat month rookies 2021-01-15"])
    assert chat.exit_code == 0, chat.output
    assert "Diane" not in chat.output and "Martha" in chat.output
