"""Technion call records and Kaggle per-rep aggregates through the CLI; expected from the raw CSVs."""

import csv
import json
from collections import Counter, defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.cli_support import cli, import_counts
from tests.conftest import shared_file

TECHNION = "tabular/technion_anonymous_bank_callcenter_one_day.csv"
KAGGLE_REPS = "tabular/kaggle_call_center_data_with_sales_rep.csv"


def board_json(url: str, *args: str) -> dict:
    return json.loads(cli(url, "leaderboard", *args, "--format", "json"))


def _seconds(text: str) -> int:
    hours, minutes, seconds = (int(part) for part in text.strip().split(":"))
    return hours * 3600 + minutes * 60 + seconds


@pytest.fixture
def fresh(tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    cli(url, "db", "upgrade")
    return url


def test_technion_volume_board_for_the_day(fresh, tmp_path):
    path = shared_file(TECHNION)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # business days are UTC (the default program's zone); the file's wall-clock times are Israeli
    israel, utc = ZoneInfo("Asia/Jerusalem"), ZoneInfo("UTC")
    handled: Counter[str] = Counter()
    without_agent = []
    for line, row in enumerate(rows, start=2):
        if row["outcome"] != "AGENT":
            continue
        if row["server"] == "NO_SERVER":
            without_agent.append(line)
            continue
        local = datetime.fromisoformat(f"{row['date']}T{_seconds(row['vru_entry']) // 3600:02d}:00")
        if local.replace(tzinfo=israel).astimezone(utc).date() == date(2010, 8, 1):
            handled[row["server"]] += 1
    phantom = sum(row["outcome"] == "PHANTOM" for row in rows)

    out = cli(fresh, "import", str(path), "--mapping", "technion")
    counts = import_counts(out)
    assert counts["rejected"] == len(without_agent) == 6
    assert counts["filtered"] == phantom == 18
    assert counts["read"] == len(rows)
    with (tmp_path / f"{path.stem}.rejects.csv").open(newline="", encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert [int(r["floorboard_line"]) for r in rejects] == sorted(without_agent)
    assert all(r["server"] == "NO_SERVER" for r in rejects)

    board = board_json(fresh, "--metric", "handled", "--period", "day", "--at", "2010-08-01")
    got = {entry["agent"]: (entry["rank"], entry["value"]) for entry in board["entries"]}
    assert "NO_SERVER" not in got
    assert {agent: value for agent, (_, value) in got.items()} == dict(handled)
    assert board["entries"][0]["agent"] == "SHARON" and board["entries"][0]["value"] == 164
    assert got["NAAMA"][0] == got["AVNI"][0] == 6
    assert got["NAAMA"][1] == got["AVNI"][1] == handled["NAAMA"]
    next_rank = [rank for rank, value in got.values() if value < handled["NAAMA"]]
    assert min(next_rank) == 8  # ties share a rank and the next one skips


def test_technion_talk_time_per_agent(fresh):
    path = shared_file(TECHNION)
    talk: dict[str, list[int]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["outcome"] == "AGENT" and row["server"] != "NO_SERVER":
                talk[row["server"]].append(int(row["ser_time"]))
    cli(fresh, "import", str(path), "--mapping", "technion")
    board = board_json(fresh, "--metric", "talk_time", "--period", "day", "--at", "2010-08-01")
    values = {entry["agent"]: entry["value"] for entry in board["entries"] + board["unranked"]}
    for agent, seconds in talk.items():
        assert values[agent] == pytest.approx(sum(seconds) / len(seconds), rel=1e-9), agent
    assert values["SHARON"] == pytest.approx(133, abs=0.5)
    assert values["DORIT"] == pytest.approx(207, abs=0.5)


def test_kaggle_rep_asa_is_weighted_by_answered_calls(fresh):
    path = shared_file(KAGGLE_REPS)
    weighted: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    plain: dict[str, list[int]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            answered = int(row["Answered Calls"])
            speed = _seconds(row["Answer Speed (AVG)"])
            cell = weighted[row["Sales Rep"]]
            cell[0] += speed * answered
            cell[1] += answered
            plain[row["Sales Rep"]].append(speed)
    out = cli(fresh, "import", str(path), "--mapping", "kaggle-sales-rep")
    assert import_counts(out)["imported"] == 1251

    board = board_json(fresh, "--metric", "asa", "--period", "all", "--at", "2021-01-04")
    got = {entry["agent"]: entry for entry in board["entries"]}
    assert set(got) == {f"Rep{n:02d}" for n in range(1, 11)}
    for rep, (total, answered) in weighted.items():
        assert got[rep]["value"] == pytest.approx(total / answered, rel=1e-9), rep
        assert got[rep]["samples"] == answered
    # the weighted mean is not the plain mean of the per-row averages
    assert any(abs(got[rep]["value"] - sum(speeds) / len(speeds)) > 0.01 for rep, speeds in plain.items())
    handled = board_json(fresh, "--metric", "handled", "--period", "all", "--at", "2021-01-04")
    assert {e["agent"]: e["value"] for e in handled["entries"]} == {
        rep: a for rep, (_, a) in weighted.items()
    }
