"""The shipped mappings against the real exports in ../shared/data (read in place, skipped when absent).

Expected numbers are computed here from the raw files with the csv module and openpyxl, independently of
the engine, or taken from ../shared/data/NOTES.md.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.feeds.mapping import load_mapping
from bot.feeds.records import KpiRecord, RowReject, SubjectRef
from bot.feeds.tabular import parse_file

TABULAR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tabular"


def real(name: str) -> Path:
    path = TABULAR / name
    if not path.exists():
        pytest.skip(f"real input {path} is not present")
    return path


def parse_all(name: str, mapping: str, **options) -> tuple[list[KpiRecord], list[RowReject], object]:
    run = parse_file(real(name), load_mapping(mapping), **options)
    items = [item for batch in run for item in batch]
    records = [item for item in items if isinstance(item, KpiRecord)]
    rejects = [item for item in items if isinstance(item, RowReject)]
    return records, rejects, run


def raw_rows(name: str, delimiter: str = ",") -> list[dict[str, str]]:
    with real(name).open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def clock(text: str) -> int:
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds


# ---- PwC: two layouts of the same calls -----------------------------------------------------------------

PWC_XLSX = "pwc_call_center_original.xlsx"
PWC_DDMM = "pwc_call_center_variant_ddmmyyyy.csv"


@pytest.fixture(scope="module")
def pwc() -> dict[str, list[KpiRecord]]:
    xlsx, xlsx_rejects, _ = parse_all(PWC_XLSX, "pwc-xlsx")
    ddmm, ddmm_rejects, _ = parse_all(PWC_DDMM, "pwc-ddmm")
    assert xlsx_rejects == [] and ddmm_rejects == []
    return {"xlsx": xlsx, "ddmm": ddmm}


def test_both_pwc_layouts_give_the_same_ids_and_facts(pwc):
    raw_ids = {row["call_id"] for row in raw_rows(PWC_DDMM)}
    by_id = {layout: {r.external_id: r for r in records} for layout, records in pwc.items()}
    assert len(pwc["xlsx"]) == len(pwc["ddmm"]) == 5000
    assert set(by_id["xlsx"]) == set(by_id["ddmm"]) == raw_ids
    for call_id, from_xlsx in by_id["xlsx"].items():
        from_ddmm = by_id["ddmm"][call_id]
        assert from_xlsx.source == from_ddmm.source == "pwc"
        assert from_xlsx.facts == from_ddmm.facts, call_id
        assert from_xlsx.subject == from_ddmm.subject, call_id
        assert from_xlsx.occurred_at == from_ddmm.occurred_at, call_id


def test_pwc_answered_calls_go_to_agents_and_abandoned_ones_to_the_topic_queue(pwc):
    raw = {row["call_id"]: row for row in raw_rows(PWC_DDMM)}
    answered_ids = {cid for cid, row in raw.items() if row["answered (Y/N)"] == "Y"}
    assert len(answered_ids) == 4054  # NOTES.md
    records = pwc["ddmm"]
    agents = [r for r in records if r.subject.kind == "agent"]
    queues = [r for r in records if r.subject.kind == "queue"]
    assert {r.external_id for r in agents} == answered_ids
    assert len(queues) == 946
    for record in agents:
        assert record.facts["answered"] is True and record.facts["abandoned"] is False
        assert record.subject.key == raw[record.external_id]["agent"]
    for record in queues:
        assert record.facts == {"answered": False, "abandoned": True}
        assert record.subject.key == raw[record.external_id]["topic"]


def test_pwc_ratings_are_absent_without_a_survey_and_talk_is_not_handle(pwc):
    raw = {row["call_id"]: row for row in raw_rows(PWC_DDMM)}
    rated = {cid for cid, row in raw.items() if row["SatisfactionRating"].strip()}
    records = pwc["xlsx"]
    assert {r.external_id for r in records if "rating" in r.facts} == rated
    assert all("handle" not in r.facts for r in records)
    ratings = [r.facts["rating"] for r in records if "rating" in r.facts]
    assert sum(ratings) / len(ratings) == pytest.approx(3.404, abs=5e-4)  # NOTES.md


def test_pwc_averages_match_the_raw_workbook(pwc):
    workbook = load_workbook(real(PWC_XLSX), read_only=True, data_only=True)
    rows = list(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    workbook.close()
    answered = [row for row in rows if row[5] == "Y"]
    talk = [t.hour * 3600 + t.minute * 60 + t.second for t in (row[8] for row in answered)]
    speed = [row[7] for row in answered]
    resolved = sum(row[6] == "Y" for row in answered)

    agents = [r for r in pwc["xlsx"] if r.facts.get("answered")]
    assert sum(r.facts["talk"] for r in agents) == pytest.approx(sum(talk))
    assert sum(r.facts["wait"] for r in agents) / len(agents) == pytest.approx(sum(speed) / len(speed))
    assert sum(r.facts["wait"] for r in agents) / len(agents) == pytest.approx(67.52, abs=5e-3)
    assert sum(r.facts["resolved"] for r in agents) == resolved
    assert resolved / len(agents) == pytest.approx(0.8994, abs=5e-5)  # FCR over answered calls
    assert all("resolved" not in r.facts for r in pwc["xlsx"] if not r.facts["answered"])


def test_pwc_wall_clock_times_take_the_program_zone(pwc):
    first = next(r for r in pwc["ddmm"] if r.external_id == "ID0001")
    assert first.occurred_at == datetime.fromisoformat("2021-01-01T09:12:58+00:00")
    records, _, _ = parse_all(PWC_DDMM, "pwc-ddmm", default_tz="Europe/Zurich", chunk_size=700)
    zurich = next(r for r in records if r.external_id == "ID0001")
    assert zurich.occurred_at.utcoffset() == timedelta(hours=1)
    assert zurich.occurred_at == first.occurred_at - timedelta(hours=1)
    overridden, _, _ = parse_all(PWC_DDMM, "pwc-ddmm", tz="Asia/Tokyo", default_tz="Europe/Zurich")
    assert overridden[0].occurred_at.utcoffset() == timedelta(hours=9)


# ---- Technion: real call records with sentinels ---------------------------------------------------------

TECHNION = "technion_anonymous_bank_callcenter_one_day.csv"


@pytest.fixture(scope="module")
def technion():
    return parse_all(TECHNION, "technion")


def test_technion_counts_match_the_raw_file(technion):
    records, rejects, run = technion
    raw = raw_rows(TECHNION)
    agent_rows = [row for row in raw if row["outcome"] == "AGENT"]
    no_server_lines = [
        line
        for line, row in enumerate(raw, start=2)
        if row["outcome"] == "AGENT" and row["server"] == "NO_SERVER"
    ]
    queue_abandons = [row for row in raw if row["outcome"] == "HANG" and row["q_start"] != "0:00:00"]
    ivr_hangups = [row for row in raw if row["outcome"] == "HANG" and row["q_start"] == "0:00:00"]
    phantoms = [row for row in raw if row["outcome"] == "PHANTOM"]
    assert (len(agent_rows), len(no_server_lines), len(queue_abandons), len(ivr_hangups), len(phantoms)) == (
        1511,
        6,
        728,
        118,
        18,
    )

    assert [reject.line for reject in rejects] == no_server_lines
    assert {reject.reason for reject in rejects} == {"handled call without an agent (server 'NO_SERVER')"}
    lines = real(TECHNION).read_text(encoding="utf-8").splitlines()
    assert [reject.raw for reject in rejects] == [lines[line - 1] for line in no_server_lines]

    agents = [r for r in records if r.subject.kind == "agent"]
    queues = [r for r in records if r.subject.kind == "queue"]
    assert len(agents) == 1505
    assert all(r.facts["answered"] is True and r.facts["abandoned"] is False for r in agents)
    abandoned = [r for r in queues if r.facts.get("abandoned") is True]
    assert len(abandoned) == 728
    assert all(r.facts == {"answered": False, "abandoned": True} for r in abandoned)
    assert len([r for r in queues if r.facts == {}]) == 118
    assert len(queues) == 846
    assert run.filtered == 18
    assert run.stats.filtered_by_reason == Counter({"PHANTOM call (system artefact)": 18})
    assert run.stats.rows == len(raw)


def test_technion_ids_are_unique_although_call_ids_repeat(technion):
    records, _, _ = technion
    raw = raw_rows(TECHNION)
    assert len({row["call_id"] for row in raw}) < len(raw)
    ids = [r.external_id for r in records]
    assert len(set(ids)) == len(ids) == 2351
    assert "AA0204-43678-0:10:10" in ids


def test_technion_per_agent_volume_wait_and_talk(technion):
    records, _, _ = technion
    raw = [row for row in raw_rows(TECHNION) if row["outcome"] == "AGENT" and row["server"] != "NO_SERVER"]
    talk: dict[str, list[int]] = defaultdict(list)
    for row in raw:
        talk[row["server"]].append(int(row["ser_time"]))
    counted = Counter(r.subject.key for r in records if r.subject.kind == "agent")
    assert counted == Counter({server: len(times) for server, times in talk.items()})
    assert counted["SHARON"] == 164  # NOTES.md
    sharon = [r.facts["talk"] for r in records if r.subject.key == "SHARON"]
    assert sum(sharon) / len(sharon) == pytest.approx(sum(talk["SHARON"]) / 164)
    never_queued = [r for r in records if r.subject.kind == "agent" and r.facts["wait"] == 0]
    expected = [row for row in raw if row["q_start"] == "0:00:00"]
    assert len(never_queued) == len(expected)
    assert sum(r.facts["wait"] for r in records if r.subject.kind == "agent") == sum(
        int(r["q_time"]) for r in raw
    )


def test_technion_times_are_israeli_wall_clock(technion):
    records, _, _ = technion
    first = records[0]
    assert first.occurred_at.utcoffset() == timedelta(hours=3)  # IDT, 1 August
    assert first.occurred_at.replace(tzinfo=None) == datetime(2010, 8, 1, 0, 10, 10)
    utc_records, _, _ = parse_all(TECHNION, "technion", tz="UTC")
    assert utc_records[0].occurred_at - first.occurred_at == timedelta(hours=3)
    assert all(r.occurred_at.date().isoformat() == "2010-08-01" for r in records)


# ---- Kaggle: pre-aggregated period rows -----------------------------------------------------------------

KAGGLE_REP = "kaggle_call_center_data_with_sales_rep.csv"
KAGGLE_DAILY = "kaggle_call_center_data_daily_semicolon.csv"


def test_kaggle_metrics_reweight_averages_by_volume():
    records, rejects, _ = parse_all(KAGGLE_REP, "kaggle-sales-rep")
    assert rejects == []
    raw = raw_rows(KAGGLE_REP)
    assert len(records) == len(raw) == 1251
    rep01 = [row for row in raw if row["Sales Rep"] == "Rep01"]
    answered = sum(int(row["Answered Calls"]) for row in rep01)
    weighted_asa = (
        sum(clock(row["Answer Speed (AVG)"]) * int(row["Answered Calls"]) for row in rep01) / answered
    )
    weighted_talk = (
        sum(clock(row["Talk Duration (AVG)"]) * int(row["Answered Calls"]) for row in rep01) / answered
    )
    weighted_sl = (
        sum(
            float(row["Service Level (20 Seconds)"].rstrip("%")) / 100 * int(row["Answered Calls"])
            for row in rep01
        )
        / answered
    )
    abandon = sum(int(row["Abandoned Calls"]) for row in rep01) / sum(
        int(row["Incoming Calls"]) for row in rep01
    )

    mine = [r for r in records if r.subject == SubjectRef("agent", "Rep01")]
    assert len(mine) == len(rep01)

    def ratio(key: str) -> float:
        return sum(r.metrics[key][0] for r in mine) / sum(r.metrics[key][1] for r in mine)

    assert ratio("asa") == pytest.approx(weighted_asa)
    assert ratio("talk_time") == pytest.approx(weighted_talk)
    assert ratio("service_level") == pytest.approx(weighted_sl)
    assert ratio("abandon_rate") == pytest.approx(abandon)
    assert sum(r.metrics["handled"][0] for r in mine) == answered
    plain_mean = sum(clock(row["Answer Speed (AVG)"]) for row in rep01) / len(rep01)
    assert ratio("asa") != pytest.approx(plain_mean, abs=1e-3)


def test_kaggle_ids_come_from_the_file_and_line():
    records, _, _ = parse_all(KAGGLE_REP, "kaggle-sales-rep")
    assert [r.external_id for r in records[:2]] == [
        "kaggle_call_center_data_with_sales_rep-2",
        "kaggle_call_center_data_with_sales_rep-3",
    ]
    assert records[0].occurred_at == datetime.fromisoformat("2021-01-04T12:00:00+00:00")
    assert all(r.facts == {} for r in records)


def test_kaggle_daily_is_the_same_numbers_on_one_queue():
    daily, rejects, _ = parse_all(KAGGLE_DAILY, "kaggle-daily")
    per_rep, _, _ = parse_all(KAGGLE_REP, "kaggle-sales-rep")
    assert rejects == []
    assert {r.subject.kind for r in daily} == {"queue"}
    for key in ("handled", "asa", "talk_time", "service_level", "abandon_rate"):
        assert sum(r.metrics[key][0] for r in daily) == pytest.approx(sum(r.metrics[key][0] for r in per_rep))
        assert sum(r.metrics[key][1] for r in daily) == pytest.approx(sum(r.metrics[key][1] for r in per_rep))
