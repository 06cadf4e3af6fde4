"""`floorboard roster import|export` through the command line."""

import csv
import json

import pytest

from tests.cli_support import cli
from tests.conftest import shared_file

ROSTER = """\
name,email,role,hire_date,team,team_from,team_to,supervises,skills,keys,team_name,team_timezone,team_day_start
Martha Jones,martha@x.org,agent,2020-02-03,blue,2021-01-01,,,,pwc:Martha;console:martha,Blue team,UTC,00:00
Jim Beam,jim@example.com,agent,,blue,2021-01-01,,,,pwc:Jim,,,
Greg Ory,greg@example.com,agent,,red,2021-01-01,,,,pwc:Greg,Red team,,
Sue Boss,sue@example.com,supervisor,,,,,blue;red,,slack:T1/U9,,,
"""


def summary(output: str) -> dict[str, int]:
    counts = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if len(cells) == 2 and cells[1].isdigit():
            counts[cells[0]] = int(cells[1])
    return counts


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    cli(url, "db", "upgrade")
    return url


def test_import_twice_then_export_and_import_again(url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    first = summary(cli(url, "roster", "import", str(roster)))
    assert first["people created"] == 4
    assert first["memberships opened"] == 3
    assert first["teams created"] == 2
    assert first["supervisions added"] == 2
    assert first["identities added"] == 5

    second = cli(url, "roster", "import", str(roster))
    assert "no changes" in second
    assert summary(second)["people unchanged"] == 4

    exported = tmp_path / "export.csv"
    assert "Wrote 4 people" in cli(url, "roster", "export", str(exported))
    with exported.open(newline="", encoding="utf-8") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    assert rows["Martha Jones"]["keys"] == "pwc:Martha;console:martha"
    assert rows["Sue Boss"]["supervises"] == "blue;red"
    assert rows["Greg Ory"]["team_name"] == "Red team"
    third = cli(url, "roster", "import", str(exported))
    assert "no changes" in third


def test_a_dated_move_shows_on_team_boards(url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    cli(url, "roster", "import", str(roster))
    cli(url, "import", str(shared_file("tabular/pwc_call_center_original.xlsx")), "--mapping", "pwc-xlsx")
    moved = tmp_path / "moved.csv"
    moved.write_text(
        ROSTER.replace(
            "Jim Beam,jim@example.com,agent,,blue,2021-01-01",
            "Jim Beam,jim@example.com,agent,,red,2021-02-01",
        )
    )
    result = summary(cli(url, "roster", "import", str(moved)))
    assert (result["memberships closed"], result["memberships opened"], result["people updated"]) == (1, 1, 1)

    def team(name: str, at: str) -> set[str]:
        out = cli(
            url,
            "leaderboard",
            "--metric",
            "handled",
            "--period",
            "month",
            "--at",
            at,
            "--team",
            name,
            "--format",
            "json",
        )
        return {entry["agent"] for entry in json.loads(out)["entries"]}

    assert team("blue", "2021-01-10") == {"Martha Jones", "Jim Beam"}
    assert team("red", "2021-01-10") == {"Greg Ory"}
    assert team("blue", "2021-02-10") == {"Martha Jones"}
    assert team("red", "2021-02-10") == {"Greg Ory", "Jim Beam"}
    assert team("Red team", "2021-02-10") == {"Greg Ory", "Jim Beam"}


def test_an_identity_conflict_names_the_line_and_changes_nothing(url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    cli(url, "roster", "import", str(roster))
    clash = tmp_path / "clash.csv"
    clash.write_text(
        "name,email,keys\nNew Hire,new@example.com,pwc:Newbie\nJim Beam,jim@example.com,pwc:Martha\n"
    )
    out = cli(url, "roster", "import", str(clash), code=1)
    assert f"{clash}:3: identity pwc:Martha is already bound to" in out
    assert "nothing imported" in out
    exported = tmp_path / "after.csv"
    assert "Wrote 4 people" in cli(url, "roster", "export", str(exported))


def test_a_dry_run_reports_and_changes_nothing(url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    out = cli(url, "roster", "import", str(roster), "--dry-run")
    assert "16 changes would be made; nothing was written" in out
    assert summary(out)["people created"] == 4
    assert "Wrote 0 people" in cli(url, "roster", "export", str(tmp_path / "empty.csv"))


def test_bad_rows_are_all_reported(url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,role,hire_date\nAna,boss,\nBen,agent,03/04/2019\n", encoding="utf-8")
    out = cli(url, "roster", "import", str(bad), code=1)
    assert f"{bad}:2: role 'boss'" in out
    assert f"{bad}:3: hire_date must be a date as YYYY-MM-DD" in out
    assert "no such file" not in out
    missing = cli(url, "roster", "import", str(tmp_path / "nope.csv"), code=1)
    assert "cannot read the roster" in missing


def test_bad_cells_and_database_conflicts_are_reported_in_one_run(url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    cli(url, "roster", "import", str(roster))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,email,role,team,team_from,keys\n"
        "Ana,,boss,blue,2021-13-01,\n"
        "Jim Beam,jim@example.com,,,,pwc:Martha\n"
        "Greg Ory,greg@example.com,,blue,2020-12-01,\n"
        "Zed,,agent,,,nokey\n"
        "Ok Person,ok@example.com,agent,blue,,pwc:Ok\n",
        encoding="utf-8",
    )

    out = cli(url, "roster", "import", str(bad), code=1)

    assert out.splitlines() == [
        f"{bad}:2: role 'boss' must be one of agent, supervisor, admin; "
        "team_from must be a date as YYYY-MM-DD, got '2021-13-01'",
        f"{bad}:3: identity pwc:Martha is already bound to #1 Martha Jones, not to 'Jim Beam'",
        f"{bad}:4: team_from 2020-12-01 must be after 2021-01-01, when the current membership "
        "(team 'red') began",
        f"{bad}:5: key 'nokey' is not source:key (for example pwc:Martha)",
        f"error: {bad}: nothing imported (4 problem(s))",
    ]
    assert "Wrote 4 people" in cli(url, "roster", "export", str(tmp_path / "after.csv"))


def test_a_row_whose_keys_and_email_are_different_people_is_refused_naming_both(url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    cli(url, "roster", "import", str(roster))
    clash = tmp_path / "clash.csv"
    clash.write_text(
        "name,email,keys\n"
        "Rose Tyler,rose@example.com,pwc:Martha\n"  # Martha's key, an e-mail no one has
        "Martha Jones,martha@x.org,pwc:Martha\n",
        encoding="utf-8",
    )

    out = cli(url, "roster", "import", str(clash), code=1)

    assert out.splitlines() == [
        f"{clash}:2: the keys pwc:Martha of 'Rose Tyler' are #1 Martha Jones's, whose e-mail is "
        "martha@x.org; the row changes both the name and the e-mail, which makes it another person: "
        "correct the keys, or change the name and the e-mail in two imports",
        f"error: {clash}: nothing imported (1 problem(s))",
    ]
    taken = tmp_path / "taken.csv"
    taken.write_text("name,email,keys\nMartha Jones,greg@example.com,pwc:Martha\n", encoding="utf-8")
    out = cli(url, "roster", "import", str(taken), code=1)
    # matched by the e-mail (Greg's), the row's key is Martha's: refused, naming her
    assert out.splitlines()[0] == (
        f"{taken}:2: identity pwc:Martha is already bound to #1 Martha Jones, not to 'Martha Jones'"
    )
    other = tmp_path / "other.csv"
    other.write_text("name,email,keys\nJim Beam,greg@example.com,pwc:Jim\n", encoding="utf-8")
    out = cli(url, "roster", "import", str(other), code=1)
    assert f"{other}:2: identity pwc:Jim is already bound to #2 Jim Beam, not to 'Jim Beam'" in out
    with open(_export(url, tmp_path), encoding="utf-8") as exported:
        rows = {row["name"]: row for row in csv.DictReader(exported)}
    assert sorted(rows) == ["Greg Ory", "Jim Beam", "Martha Jones", "Sue Boss"]
    assert rows["Martha Jones"]["email"] == "martha@x.org"
    # the same person with a new e-mail: her keys and name say who she is
    moved = tmp_path / "moved.csv"
    moved.write_text("name,email,keys\nMartha Jones,martha.jones@y.org,pwc:Martha\n", encoding="utf-8")
    cli(url, "roster", "import", str(moved))
    with open(_export(url, tmp_path), encoding="utf-8") as exported:
        rows = {row["name"]: row for row in csv.DictReader(exported)}
    assert rows["Martha Jones"]["email"] == "martha.jones@y.org"


def _export(url: str, tmp_path) -> str:
    path = tmp_path / "export.csv"
    cli(url, "roster", "export", str(path))
    return str(path)


def test_a_rename_by_key_is_reported_in_the_summary(url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    cli(url, "roster", "import", str(roster))
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("name,email,keys\nMartha Smith,martha@x.org,pwc:Martha\n", encoding="utf-8")

    dry = cli(url, "roster", "import", str(renamed), "--dry-run")
    assert f"{renamed}:2: would rename #1 'Martha Jones' to 'Martha Smith'" in dry
    out = cli(url, "roster", "import", str(renamed))
    assert f"{renamed}:2: renamed #1 'Martha Jones' to 'Martha Smith'" in out
    assert summary(out)["people updated"] == 1
    assert "renamed #1" not in cli(url, "roster", "import", str(renamed))


def test_row_checks_are_reported_with_bad_cells_in_one_run(url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,email,role,team,team_from,team_to\n"
        "Ana,ana@example.com,boss,blue,2021-01-01,\n"
        "Ben,ben@example.com,agent,blue,2021-03-01,2021-02-01\n"
        "Ana Again,ana@example.com,agent,,,\n",
        encoding="utf-8",
    )

    out = cli(url, "roster", "import", str(bad), code=1)

    assert out.splitlines() == [
        f"{bad}:2: role 'boss' must be one of agent, supervisor, admin",
        f"{bad}:3: team_to 2021-02-01 must be after team_from 2021-03-01",
        f"{bad}:4: 'Ana Again' is the same person as on line 2",
        f"error: {bad}: nothing imported (3 problem(s))",
    ]
    assert "Wrote 0 people" in cli(url, "roster", "export", str(tmp_path / "after.csv"))
