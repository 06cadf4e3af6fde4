"""`floorboard explain` prints one sentence per points change, with the inputs that made it."""

from datetime import date, time

import openpyxl
from typer.testing import CliRunner

from bot.cli import build_cli
from tests.conftest import shared_file


def _martha_on(path, day: date) -> tuple[list[int], int]:
    ratings, answered = [], 0
    for row in list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))[1:]:
        _, agent, when, clock, _, was_answered, _, _, _, rating = row
        if agent == "Martha" and when == day.isoformat() and was_answered == "Y" and isinstance(clock, time):
            answered += 1
            if rating is not None:
                ratings.append(rating)
    return ratings, answered


def test_explain_matches_a_hand_computation_from_the_workbook(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOORBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'fb.db'}")
    monkeypatch.chdir(tmp_path)
    runner, workbook = CliRunner(), shared_file("tabular/pwc_call_center_original.xlsx")
    for args in (["db", "upgrade"], ["import", str(workbook), "--mapping", "pwc-xlsx"]):
        assert runner.invoke(build_cli(), args).exit_code == 0

    ratings, answered = _martha_on(workbook, date(2021, 1, 5))
    csat = sum(ratings) / len(ratings)
    assert len(ratings) >= 5  # the default program's min_samples for CSAT
    csat_points = round((csat - 3.5) / (4.2 - 3.5) * 10, 2)  # linear between (3.5, 0) and (4.2, 10)
    handled_points = round(answered / 40 * 10, 2)  # linear between (0, 0) and (40, 10)

    result = runner.invoke(build_cli(), ["explain", "--agent", "Martha", "--day", "2021-01-05"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        f"+{csat_points:.2f} pts: CSAT {csat:.2f} over {len(ratings)} surveys is between 3.5 (0 pts) and 4.2 "
        f"(10 pts): {csat_points:g} pts, rule csat-day, program v1" in lines
    )
    assert any(line.startswith(f"+{handled_points:.2f} pts: Handled {answered} ") for line in lines)
    assert lines[-1] == f"Net change on 2021-01-05: +{csat_points + handled_points:.2f} pts."

    unknown = runner.invoke(build_cli(), ["explain", "--agent", "Nobody", "--day", "2021-01-05"])
    assert unknown.exit_code == 1 and "no agent named 'Nobody'" in unknown.output
