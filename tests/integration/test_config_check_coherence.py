"""`floorboard config check` refuses what the schema alone lets through: zone tables that pay a worse value
more, a floor above its ceiling, NaN and infinity, keys given twice; a YAML syntax error is one problem."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import build_cli
from tests.cli_support import cli


@pytest.fixture
def check(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'unused.db'}"  # config check opens no database

    def run(text: str, code: int = 1) -> tuple[Path, list[str]]:
        path = tmp_path / "program.yaml"
        path.write_text(text, encoding="utf-8")
        lines = [line for line in cli(url, "config", "check", str(path), code=code).splitlines() if line]
        return path, lines

    return run


def test_a_zone_table_against_the_metrics_direction_names_its_rule_and_line(check):
    path, lines = check(
        "name: Backwards\n"
        "points:\n"
        "  - {id: csat-day, metric: csat, zones: [[3.5, 0], [4.8, 20]]}\n"
        "  - {id: aht-day, metric: aht, zones: [[300, 0], [600, 15]]}\n"
    )
    assert lines[0] == (
        f"{path}:4: points.1.zones: aht is better lower (its default), so a better value must not earn "
        "fewer points, but 300 earns 0 pts and 600 earns 15 pts; give better values more points (or set "
        "metrics.aht.better)"
    )
    assert lines[-1].endswith(f"{path}: 1 problem")


def test_direction_follows_the_programs_own_better_and_peaks_are_refused(check):
    # AHT declared higher-better makes the usual AHT table wrong; a peaked table is wrong either way
    path, lines = check(
        "metrics:\n"
        "  aht: {better: higher}\n"
        "points:\n"
        "  - {id: aht-day, metric: aht, zones: [[600, 0], [420, 10], [300, 15]]}\n"
        "  - {id: csat-day, metric: csat, zones: [[3, 0], [4, 10], [5, 5]]}\n"
    )
    assert lines[0].startswith(f"{path}:4: points.0.zones: aht is better higher (metrics.aht.better)")
    assert lines[0].endswith("but 420 earns 10 pts and 300 earns 15 pts; give better values more points")
    assert lines[1].startswith(f"{path}:5: points.1.zones: csat is better higher (its default)")
    assert "but 5 earns 5 pts and 4 earns 10 pts" in lines[1]
    assert lines[-1].endswith(": 2 problems")
    # flat stretches are monotone: accepted, and so is the same AHT table once AHT is lower-better again
    _, ok = check(
        "metrics:\n  aht: {better: lower}\n"
        "points:\n  - {id: aht-day, metric: aht, zones: [[600, 0], [420, 10], [300, 10]]}\n",
        code=0,
    )
    assert ok[0].startswith("OK:")


def test_a_floor_above_the_ceiling_is_an_error(check):
    path, lines = check("metrics:\n  csat: {target: 4}\n  aht: {floor: 600, ceiling: 120}\n")
    assert lines[0].startswith(f"{path}:3: metrics.aht.floor: floor 600 is above ceiling 120")
    assert lines[-1].endswith(": 1 problem")


def test_nan_and_infinity_are_refused_wherever_a_number_goes(check):
    path, lines = check(
        "metrics:\n"
        "  csat: {weight: .nan, min_samples: 5}\n"
        "points:\n"
        "  - {id: csat-day, metric: csat, zones: [[.nan, 0], [4.2, 10]], cap: .inf}\n"
        "daily_cap: -.inf\n"
        "badges:\n"
        "  - {id: top, kind: threshold, metric: csat, at_least: {bronze: 4, gold: .NaN}}\n"
    )
    finite = "must be a finite number, got"
    assert f"{path}:2: metrics.csat.weight: {finite} nan (NaN and infinity cannot be scored)" in lines
    assert f"{path}:4: points.0.zones.0.0: {finite} nan (NaN and infinity cannot be scored)" in lines
    assert f"{path}:4: points.0.cap: {finite} inf (NaN and infinity cannot be scored)" in lines
    assert f"{path}:5: daily_cap: {finite} -inf (NaN and infinity cannot be scored)" in lines
    assert f"{path}:7: badges.0.at_least.gold: {finite} nan (NaN and infinity cannot be scored)" in lines
    assert lines[-1].endswith(": 5 problems")


def test_a_key_given_twice_is_an_error_naming_both_lines(check):
    path, lines = check(
        "name: First\n"
        "metrics:\n"
        "  csat: {target: 4.2, min_samples: 5}\n"
        "  csat: {target: 3.0}\n"
        "name: Second\n"
        "points:\n"
        "  - {id: csat-day, id: csat-best, metric: csat, zones: [[3.5, 0], [4.8, 20]]}\n"
    )
    twice = "keep one (YAML would silently use the last)"
    assert lines[:3] == [
        f"{path}:4: metrics.csat: given twice, on lines 3 and 4; {twice}",
        f"{path}:5: name: given twice, on lines 1 and 5; {twice}",
        f"{path}:7: points.0.id: given twice, on lines 7 and 7; {twice}",
    ]
    assert lines[-1].endswith(": 3 problems")


def test_a_yaml_syntax_error_is_one_problem_with_its_line(check):
    path, lines = check("name: Broken\nmetrics:\n  csat: {target: 4.2\npoints: []\n")
    assert lines == [
        f"{path}:4: not valid YAML: expected ',' or '}}', but got ':' (while parsing a flow mapping started "
        "on line 3)",
        f"error: {path}: 1 problem",
    ]
    path, lines = check("metrics:\n\tcsat: {target: 4}\n")
    assert lines[0].startswith(f"{path}:2: not valid YAML: found character '\\t' that cannot start any token")
    assert lines[-1] == f"error: {path}: 1 problem"


def test_a_value_yaml_cannot_build_is_a_problem_with_its_line_everywhere_the_file_is_read(check, tmp_path):
    text = "name: Dated\nmetrics:\n  csat: {min_samples: 1}\neffective_from: 2021-02-30\n"
    path, lines = check(text)
    problem = (
        f"{path}:4: effective_from: cannot read 2021-02-30: day is out of range for month; a date is "
        "YYYY-MM-DD"
    )
    assert lines == [problem, f"error: {path}: 1 problem"]
    path, lines = check("name: Typed\npoints:\n  - {metric: csat, zones: [[3, !!int x], [5, 20]]}\n")
    assert (
        lines[0]
        == f"{path}:3: points.0.zones.0.1: cannot read x: invalid literal for int() with base 10: 'x'"
    )
    # the same line from whatif, and from any command reading FLOORBOARD_PROGRAM_FILE
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    cli(url, "db", "upgrade")
    path.write_text(text, encoding="utf-8")
    assert cli(url, "whatif", str(path), "--at", "2021-02-01", code=1).splitlines() == [f"error: {problem}"]
    result = CliRunner().invoke(
        build_cli(),
        ["rewards", "list"],
        env={"FLOORBOARD_DATABASE_URL": url, "FLOORBOARD_PROGRAM_FILE": str(path), "COLUMNS": "200"},
    )
    assert (result.exit_code, result.output.splitlines()) == (1, [f"error: {problem}"])


def test_text_keys_say_what_they_take_rather_than_to_add_quotes(check):
    path, lines = check("timezone: 5\nweek_starts_on: 1\n")
    assert lines == [
        f"{path}:1: timezone: must be an IANA time zone name such as America/Chicago, got 5",
        f"{path}:2: week_starts_on: must be a weekday name such as monday (one of monday, tuesday, "
        "wednesday, thursday, friday, saturday, sunday), got 1",
        f"error: {path}: 2 problems",
    ]
    path, lines = check("name: Clock\nday_starts_at: 4:00\n")  # YAML 1.1 reads 4:00 as 240: quotes do fix it
    assert "must be text (put it in quotes), got 240" in lines[0]


def test_an_empty_program_is_valid_but_warned_about(check):
    path, lines = check("", code=0)
    assert lines[0] == (
        f"warning: {path}: no metrics and no points rules: valid, but it scores nothing; add `points:` rules "
        "(see docs/program.md)"
    )
    assert lines[1].startswith(f"OK: {path}: program 'Floorboard'")
    path, lines = check("metrics:\n  csat: {min_samples: 1}\n", code=0)
    assert lines[0].startswith(f"warning: {path}: no points rules: valid, but it scores nothing")
    _, lines = check("points:\n  - {metric: csat, zones: [[3, 0], [5, 20]]}\n", code=0)
    assert not lines[0].startswith("warning")
