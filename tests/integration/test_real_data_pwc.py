"""The PwC call-centre workbook through the command line; expected figures computed here from the raw file."""

import csv
import json
from collections import defaultdict
from datetime import date, time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.cli_support import cli, import_counts
from tests.conftest import shared_file

XLSX = "tabular/pwc_call_center_original.xlsx"
DDMM = "tabular/pwc_call_center_variant_ddmmyyyy.csv"
MONTHS = [date(2021, 1, 15), date(2021, 2, 15), date(2021, 3, 15)]
METRICS = ["csat", "fcr", "asa", "talk_time", "handled"]
BOARDS = [(metric, "month", at) for metric in METRICS for at in MONTHS] + [
    (metric, "quarter", MONTHS[0]) for metric in METRICS
]


def board_json(url: str, metric: str, period: str, at: date) -> dict:
    out = cli(
        url, "leaderboard", "--metric", metric, "--period", period, "--at", at.isoformat(), "--format", "json"
    )
    return json.loads(out)


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def expected_from_workbook(path: Path) -> dict[tuple[str, str, str], dict[str, tuple[float, int]]]:
    """(metric, period, window) → agent → (value, samples), straight from the workbook's cells."""
    sums: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    workbook = load_workbook(path, read_only=True)
    rows = workbook["Sheet1"].iter_rows(values_only=True)
    header = next(rows)
    for values in rows:
        row = dict(zip(header, values, strict=True))
        if row["Answered (Y/N)"] != "Y":
            continue
        facts = {
            "handled": 1,
            "fcr": 1 if row["Resolved"] == "Y" else 0,
            "asa": row["Speed of answer in seconds"],
            "talk_time": _seconds(row["AvgTalkDuration"]),
        }
        if row["Satisfaction rating"] is not None:
            facts["csat"] = row["Satisfaction rating"]
        for window in (row["Date"][:7], "Q1"):
            for metric, value in facts.items():
                cell = sums[(metric, window, row["Agent"])]
                cell[0] += value
                cell[1] += 1
    workbook.close()
    expected: dict[tuple[str, str, str], dict[str, tuple[float, int]]] = defaultdict(dict)
    for (metric, window, agent), (total, count) in sums.items():
        value = total if metric == "handled" else total / count
        expected[(metric, "quarter" if window == "Q1" else "month", window)][agent] = (value, int(count))
    return expected


@pytest.fixture(scope="module")
def workbook_expected() -> dict:
    return expected_from_workbook(shared_file(XLSX))


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> str:
    """One database with the workbook imported once, shared by the read-only tests of this module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('pwc') / 'fb.db'}"
    cli(url, "db", "upgrade")
    out = cli(url, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx")
    assert "5,000" in out
    return url


def all_boards(url: str) -> list[dict]:
    boards = []
    for metric, period, at in BOARDS:
        board = board_json(url, metric, period, at)
        board.pop("as_of")
        boards.append(board)
    return boards


def test_martha_tops_january_csat(imported):
    board = board_json(imported, "csat", "month", date(2021, 1, 15))
    first = board["entries"][0]
    assert (first["rank"], first["agent"], first["samples"]) == (1, "Martha", 171)
    assert first["value"] == pytest.approx(3.54386, abs=5e-6)
    assert board["period"] == {"start": "2021-01-01", "end": "2021-01-31"}


@pytest.mark.parametrize(("metric", "period", "at"), BOARDS)
def test_every_agent_matches_the_workbook(imported, workbook_expected, metric, period, at):
    window = "Q1" if period == "quarter" else at.isoformat()[:7]
    expected = workbook_expected[(metric, period, window)]
    board = board_json(imported, metric, period, at)
    got = {entry["agent"]: (entry["value"], entry["samples"]) for entry in board["entries"]}
    assert board["unranked"] == []
    assert set(got) == set(expected) and len(got) == 8
    for agent, (value, samples) in expected.items():
        assert got[agent][0] == pytest.approx(value, rel=1e-9), agent
        assert got[agent][1] == samples, agent
    values = [entry["value"] for entry in board["entries"]]
    lower_is_better = metric in ("asa", "talk_time")
    assert values == sorted(values, reverse=not lower_is_better)


def test_fcr_is_over_answered_calls_not_all_calls(imported):
    board = board_json(imported, "fcr", "quarter", date(2021, 2, 1))
    resolved = sum(entry["value"] * entry["samples"] for entry in board["entries"])
    answered = sum(entry["samples"] for entry in board["entries"])
    assert answered == 4054
    assert resolved / answered == pytest.approx(3646 / 4054)


def test_importing_again_or_the_ddmm_layout_changes_no_figure(tmp_path):
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    cli(url, "db", "upgrade")
    cli(url, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx")
    before = all_boards(url)

    again = cli(url, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx")
    assert import_counts(again) == {
        "read": 5000,
        "imported": 0,
        "duplicate": 5000,
        "rejected": 0,
        "parked": 0,
        "filtered": 0,
    }
    assert all_boards(url) == before

    other = cli(url, "import", str(shared_file(DDMM)), "--mapping", "pwc-ddmm")
    assert import_counts(other)["duplicate"] == 5000
    assert all_boards(url) == before
    assert "identical" in cli(url, "rollups", "rebuild")


def test_a_damaged_csv_reports_the_bad_rows_and_imports_the_rest(tmp_path, monkeypatch):
    source = shared_file(DDMM)
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    date_at, speed_at = header.index("date"), header.index("speed_of_answer_in_seconds")
    answered = [i for i, row in enumerate(rows) if i and row[header.index("answered (Y/N)")] == "Y"]
    bad_date_row, bad_number_row = answered[10], answered[2000]
    rows[bad_date_row][date_at] = "31/02/2021"
    rows[bad_number_row][speed_at] = "fast"
    damaged = tmp_path / "damaged.csv"
    with damaged.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)

    url = f"sqlite:///{tmp_path / 'fb.db'}"
    cli(url, "db", "upgrade")
    monkeypatch.chdir(tmp_path)
    out = cli(url, "import", str(damaged), "--mapping", "pwc-ddmm")
    assert import_counts(out) == {
        "read": 5000,
        "imported": 4998,
        "duplicate": 0,
        "rejected": 2,
        "parked": 0,
        "filtered": 0,
    }
    rejects_file = tmp_path / "damaged.rejects.csv"
    assert str(rejects_file.name) in out
    with rejects_file.open(newline="", encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    # physical line = list index + 1 (the header is line 1)
    assert [int(r["floorboard_line"]) for r in rejects] == [bad_date_row + 1, bad_number_row + 1]
    assert rejects[0]["date"] == "31/02/2021"
    assert rejects[1]["speed_of_answer_in_seconds"] == "fast"
    assert "date" in rejects[0]["floorboard_reason"]
    assert "speed_of_answer_in_seconds" in rejects[1]["floorboard_reason"]
    handled = board_json(url, "handled", "quarter", date(2021, 1, 1))
    assert sum(entry["value"] for entry in handled["entries"]) == 4054 - 2
