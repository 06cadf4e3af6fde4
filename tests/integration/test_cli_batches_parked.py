"""`floorboard batches` and `floorboard parked` with a small versioned feed and the real PwC workbook."""

import json
import re
from pathlib import Path

import pytest

from tests.cli_support import cli, import_counts
from tests.conftest import shared_file

MAPPING = """\
description: Test calls with a version column; unknown agents are parked.
source: acd
format: csv
create_unknown_agents: false
columns:
  when: {type: datetime, formats: ["%Y-%m-%d %H:%M"]}
  answered: {type: bool, truthy: ["Y"], falsy: ["N"]}
  rating: {type: number}
  version: {type: number}
external_id: "{id}"
version: version
occurred_at: when
subject:
  agent: agent
  queue: {value: main}
facts:
  answered: answered
  rating: rating
"""


def csat(url: str, at: str = "2021-01-04", period: str = "day") -> dict[str, tuple[float, int]]:
    out = cli(url, "leaderboard", "--metric", "csat", "--period", period, "--at", at, "--format", "json")
    board = json.loads(out)
    return {e["agent"]: (e["value"], e["samples"]) for e in board["entries"] + board["unranked"]}


def _batch_id(output: str) -> str:
    match = re.search(r"as batch (\d+)", output)
    assert match, output
    return match.group(1)


@pytest.fixture
def setup(tmp_path, monkeypatch) -> tuple[str, Path]:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    cli(url, "db", "upgrade")
    mapping = tmp_path / "acd.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email,keys\nAna Lyst,ana@example.com,acd:A1\n", encoding="utf-8")
    cli(url, "roster", "import", str(roster))
    return url, mapping


def _calls(path: Path, rows: list[str]) -> Path:
    path.write_text("id,agent,when,answered,rating,version\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_voiding_a_batch_of_newer_versions_brings_the_older_ones_back(setup, tmp_path):
    url, mapping = setup
    first = _calls(tmp_path / "first.csv", ["c1,A1,2021-01-04 10:00,Y,2,1", "c2,A1,2021-01-04 11:00,Y,4,1"])
    out = cli(url, "import", str(first), "--mapping", str(mapping))
    assert import_counts(out)["imported"] == 2
    assert csat(url) == {"Ana Lyst": (3.0, 2)}

    fix = _calls(tmp_path / "fix.csv", ["c1,A1,2021-01-04 10:00,Y,5,2"])
    second = cli(url, "import", str(fix), "--mapping", str(mapping))
    assert csat(url) == {"Ana Lyst": (4.5, 2)}

    listing = cli(url, "batches", "list")
    assert "first.csv" in listing and "fix.csv" in listing and "acd.yaml" not in listing

    out = cli(url, "batches", "void", _batch_id(second))
    assert "1 records stopped counting" in out
    assert csat(url) == {"Ana Lyst": (3.0, 2)}
    assert "identical" in cli(url, "rollups", "rebuild")

    again = cli(url, "batches", "void", _batch_id(second), code=1)
    assert "already voided" in again
    assert "no import batch 99" in cli(url, "batches", "void", "99", code=1)


def test_void_then_reimport_of_the_real_workbook_restores_every_figure(tmp_path):
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    cli(url, "db", "upgrade")
    workbook = str(shared_file("tabular/pwc_call_center_original.xlsx"))
    first = cli(url, "import", workbook, "--mapping", "pwc-xlsx")
    before = {metric: _board(url, metric) for metric in ("csat", "fcr", "asa", "handled", "points")}
    assert before["handled"]["entries"]

    cli(url, "batches", "void", _batch_id(first))
    assert _board(url, "handled")["entries"] == []
    assert _board(url, "points")["entries"] == []  # every award reversed: nobody has points left
    assert "identical" in cli(url, "rollups", "rebuild")

    again = cli(url, "import", workbook, "--mapping", "pwc-xlsx")
    assert import_counts(again)["imported"] == 5000
    assert {metric: _board(url, metric) for metric in before} == before
    assert "identical" in cli(url, "rollups", "rebuild")
    listing = cli(url, "batches", "list")
    assert listing.count("pwc_call_center_original.xlsx") == 2


def _board(url: str, metric: str) -> dict:
    out = cli(
        url,
        "leaderboard",
        "--metric",
        metric,
        "--period",
        "quarter",
        "--at",
        "2021-02-01",
        "--format",
        "json",
    )
    board = json.loads(out)
    board.pop("as_of")
    return board


def test_parked_records_list_and_replay_after_a_roster_import(setup, tmp_path):
    url, mapping = setup
    calls = _calls(
        tmp_path / "calls.csv",
        ["c1,A1,2021-01-04 10:00,Y,4,1", "c2,B2,2021-01-04 10:05,Y,5,1", "c3,B2,2021-01-04 10:09,Y,3,1"],
    )
    out = cli(url, "import", str(calls), "--mapping", str(mapping))
    assert import_counts(out) == {
        "read": 3,
        "imported": 1,
        "duplicate": 0,
        "rejected": 0,
        "parked": 2,
        "filtered": 0,
    }
    assert "floorboard parked replay" in out

    listing = cli(url, "parked", "list")
    assert "2 parked records under 1 keys" in listing and "B2" in listing
    assert "unknown agent key 'B2'" in listing
    each = cli(url, "parked", "list", "--records")
    assert "c2" in each and "c3" in each

    nothing = cli(url, "parked", "replay")
    assert "Replayed 2: 0 imported, 0 already in, 2 still parked" in nothing
    [batch] = json.loads(cli(url, "batches", "list", "-f", "json"))
    assert (batch["counts"]["imported"], batch["counts"]["parked"]) == (1, 2)

    roster = tmp_path / "more.csv"
    roster.write_text("name,email,keys\nBo Rister,bo@example.com,acd:B2\n", encoding="utf-8")
    cli(url, "roster", "import", str(roster))
    replayed = cli(url, "parked", "replay")
    assert "Replayed 2: 2 imported, 0 already in, 0 still parked" in replayed
    [batch] = json.loads(cli(url, "batches", "list", "-f", "json"))  # the batch no longer counts them parked
    assert batch["counts"] == {
        "read": 3,
        "imported": 3,
        "duplicate": 0,
        "rejected": 0,
        "parked": 0,
        "filtered": 0,
    }
    assert " 3/0/0/0/0 " in cli(url, "batches", "list")
    assert cli(url, "parked", "list").strip() == "No parked records."
    assert "c2" in cli(url, "parked", "list", "--all", "--records")
    assert csat(url) == {"Ana Lyst": (4.0, 1), "Bo Rister": (4.0, 2)}
    assert "identical" in cli(url, "rollups", "rebuild")

    # the replayed records belong to their original batch: voiding it retracts them too
    cli(url, "batches", "void", _batch_id(out))
    assert all(samples == 0 for _, samples in csat(url).values())
