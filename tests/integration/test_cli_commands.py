"""`floorboard import`, `leaderboard` and `config check`: options, output formats and actionable errors."""

import csv
import json
import re

import pytest

from bot.program import default_program_text
from tests.cli_support import cli, import_counts
from tests.conftest import shared_file

TECHNION = "tabular/technion_anonymous_bank_callcenter_one_day.csv"


@pytest.fixture
def url(tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    cli(url, "db", "upgrade")
    return url


def test_an_unmigrated_database_is_refused_with_the_command_to_run(tmp_path):
    out = cli(f"sqlite:///{tmp_path / 'new.db'}", "leaderboard", "--metric", "csat", code=1)
    assert "floorboard db upgrade" in out


def test_list_mappings_and_an_unknown_mapping(url):
    listing = cli(url, "import", "--list-mappings")
    for name in ("pwc-xlsx", "pwc-ddmm", "technion", "kaggle-sales-rep", "kaggle-daily"):
        assert name in listing
    out = cli(url, "import", str(shared_file(TECHNION)), "--mapping", "genesys-9000", code=2)
    assert "no shipped mapping named 'genesys-9000'" in out
    assert "Shipped mappings" in out and "technion" in out


def test_fatal_errors_exit_non_zero(url, tmp_path):
    assert "no such file" in cli(
        url, "import", str(tmp_path / "missing.csv"), "--mapping", "technion", code=1
    )
    assert "give a FILE and --mapping" in cli(url, "import", code=1)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    out = cli(url, "import", str(wrong), "--mapping", "technion", code=1)
    assert "wrong.csv" in out
    assert "No import batches yet." in cli(url, "batches", "list")
    bad_zone = cli(
        url, "import", str(shared_file(TECHNION)), "--mapping", "technion", "--tz", "Mars/Olympus", code=1
    )
    assert "Mars/Olympus" in bad_zone


def test_rejects_go_where_asked(url, tmp_path):
    target = tmp_path / "out" / "technion-rejects.csv"
    target.parent.mkdir()
    out = cli(url, "import", str(shared_file(TECHNION)), "--mapping", "technion", "--rejects", str(target))
    assert str(target) in out
    header = target.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.endswith(",outcome,ser_start,ser_exit,ser_time,server,floorboard_line,floorboard_reason")
    assert len(target.read_text(encoding="utf-8").splitlines()) == 7
    assert not (tmp_path / "technion_anonymous_bank_callcenter_one_day.rejects.csv").exists()


def test_tz_moves_naive_times_to_other_business_days(url):
    cli(url, "import", str(shared_file(TECHNION)), "--mapping", "technion", "--tz", "Pacific/Kiritimati")
    board = json.loads(
        cli(
            url,
            "leaderboard",
            "--metric",
            "handled",
            "--period",
            "day",
            "--at",
            "2010-07-31",
            "--format",
            "json",
        )
    )
    # UTC+14: every call before 14:00 local falls on the previous UTC day
    assert board["entries"] and board["entries"][0]["value"] > 0


def test_leaderboard_table_json_and_errors(url):
    cli(url, "import", str(shared_file(TECHNION)), "--mapping", "technion")
    table = cli(url, "leaderboard", "--metric", "handled", "--period", "day", "--at", "2010-08-01")
    assert re.search(r"1\s+│\s+SHARON\s+│\s+164\s+│\s+164", table)
    rate = cli(url, "leaderboard", "--metric", "service_level", "--period", "day", "--at", "2010-08-01")
    assert "%" in rate

    asa = json.loads(cli(url, "leaderboard", "-m", "asa", "-p", "day", "--at", "2010-08-01", "-f", "json"))
    assert set(asa) == {"metric", "period", "as_of", "entries", "unranked"}
    assert set(asa["entries"][0]) == {"rank", "agent", "agent_id", "value", "samples", "rank_value", "method"}
    assert asa["entries"][0]["method"].startswith("bayesian(prior_weight=10")
    values = [entry["value"] for entry in asa["entries"]]
    rank_values = [entry["rank_value"] for entry in asa["entries"]]
    assert rank_values == sorted(rank_values)  # lower is better, on the confidence-adjusted value
    assert any(value != round(value, 2) for value in values)  # full precision, not display rounding
    # the Technion day has no surveys: an empty board says so rather than showing an empty table alone
    csat = cli(url, "leaderboard", "--metric", "csat", "--period", "day", "--at", "2010-08-01")
    assert csat.rstrip().endswith("No agent has CSAT data in day 2010-08-01.")

    points = json.loads(
        cli(
            url,
            "leaderboard",
            "--metric",
            "points",
            "--period",
            "day",
            "--at",
            "2010-08-01",
            "--format",
            "json",
        )
    )
    assert points["metric"] == "points" and points["entries"]

    unknown = cli(url, "leaderboard", "--metric", "happiness", "--at", "2010-08-01", code=1)
    assert "unknown metric 'happiness'" in unknown and "csat" in unknown and "points" in unknown
    no_team = cli(url, "leaderboard", "--metric", "csat", "--team", "night", "--at", "2010-08-01", code=1)
    assert "unknown team 'night'" in no_team
    bad_day = cli(url, "leaderboard", "--metric", "csat", "--at", "01/08/2010", code=1)
    assert "YYYY-MM-DD" in bad_day
    cli(url, "leaderboard", "--metric", "csat", "--period", "fortnight", code=2)


def test_config_check_accepts_the_default_and_names_lines_of_errors(url, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(default_program_text(), encoding="utf-8")
    out = cli(url, "config", "check", str(good))
    assert out.startswith("OK:")
    assert "6 metrics" in out and "5 points rules" in out

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "timezone: Mars/Olympus\n"
        "week_starts_on: 1\n"
        "metrics:\n"
        "  csat: {target: 4.2, min_samples: 0}\n"
        "points:\n"
        "  - {metric: vibes, zones: [[1, 0], [2, 5]]}\n",
        encoding="utf-8",
    )
    out = cli(url, "config", "check", str(bad), code=1)
    assert f"{bad}:1: timezone:" in out
    assert f"{bad}:2: week_starts_on:" in out
    assert f"{bad}:4: metrics.csat.min_samples:" in out
    assert "problems" in out
    missing = cli(url, "config", "check", str(tmp_path / "nope.yaml"), code=1)
    assert "cannot read the program file" in missing


PWC_HEADER = (
    "call_id,agent,date,time,topic,answered (Y/N),resolved,speed_of_answer_in_seconds,"
    "AvgTalkDuration,SatisfactionRating"
)


def test_rows_rejected_when_stored_are_listed_and_written_with_their_lines(url, tmp_path):
    """A call_id repeated with another rating is rejected by the store, not the parser: it is counted,
    printed and written to the rejects file like any parser reject, beside a short row."""
    source = tmp_path / "calls.csv"
    rows = [
        PWC_HEADER,
        "ID1,Martha,01/02/2021,09:00:00,Streaming,Y,Y,20,00:03:00,4",
        "ID2,Martha,01/02/2021,09:10:00,Streaming,Y,Y,20,00:03:00,5",
        "ID1,Martha,01/02/2021,09:00:00,Streaming,Y,Y,20,00:03:00,1",
        "ID3,Martha,01/02/2021,09:20:00",
    ]
    source.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    target = tmp_path / "calls.rejects.csv"

    out = cli(url, "import", str(source), "--mapping", "pwc-ddmm", "--rejects", str(target))

    counts = import_counts(out)
    assert (counts["read"], counts["imported"], counts["rejected"]) == (4, 2, 2)
    assert "2 rejected rows" in out
    assert "already stored with different content" in out
    with target.open(encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert [(row["floorboard_line"], row["call_id"], row["SatisfactionRating"]) for row in written] == [
        ("4", "ID1", "1"),
        ("5", "ID3", ""),
    ]
    assert "version 1 of 'ID1' is already stored with different content" in written[0]["floorboard_reason"]
    assert written[1]["floorboard_reason"].startswith("line has 4 fields, the header has 10")
    header = target.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert all(len(row) == len(header) for row in csv.reader(target.open(encoding="utf-8")))

    fixed = target.read_text(encoding="utf-8").replace(",1,4,", ",2,4,", 1)
    target.write_text(fixed, encoding="utf-8")
    again = cli(url, "import", str(target), "--mapping", "pwc-ddmm", "--rejects", str(tmp_path / "r2.csv"))
    assert import_counts(again)["rejected"] == 2  # ID1 still differs (version 1); ID3 still short


def test_a_too_long_row_keeps_its_text_in_the_reason_and_its_columns_aligned(url, tmp_path):
    source = tmp_path / "long.csv"
    rows = [PWC_HEADER, "ID9,Martha,01/02/2021,09:00:00,Streaming,Y,Y,20,00:03:00,4,extra,more"]
    source.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    target = tmp_path / "long.rejects.csv"

    cli(url, "import", str(source), "--mapping", "pwc-ddmm", "--rejects", str(target))

    with target.open(encoding="utf-8", newline="") as handle:
        (written,) = list(csv.DictReader(handle))
    assert written["floorboard_line"] == "2"
    assert written["SatisfactionRating"] == "4"
    assert written["floorboard_reason"].endswith(f"the row as read: {rows[1]}")
    assert None not in written  # no field past the header


def test_a_directory_is_named_as_one(url, tmp_path):
    out = cli(url, "import", str(tmp_path), "--mapping", "technion", code=1)
    assert "is a directory" in out and "no such file" not in out
