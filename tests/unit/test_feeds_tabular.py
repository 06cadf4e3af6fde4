"""The tabular engine on damaged copies of real files and on small synthetic CSV/XLSX layouts."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.feeds.mapping import Mapping, MappingError, load_mapping, mapping_from_yaml
from bot.feeds.records import KpiRecord, RowReject, SubjectRef
from bot.feeds.tabular import LayoutError, parse_file, write_rejects

TABULAR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tabular"

CALLS = """
description: synthetic call log
source: synthetic
columns:
  day: {type: date, formats: ["%d/%m/%Y"]}
  at: {type: time, formats: ["%H:%M:%S", "%I:%M %p"]}
  wait: {type: duration}
  rating: {type: number}
  agent: {sentinels: [NOBODY]}
external_id: "{id}"
occurred_at: {date: day, time: at}
subject:
  agent: agent
  queue: {column: queue}
filters:
  - skip_when: {column: outcome, equals: TEST}
    reason: test call
facts:
  answered: {when: {column: outcome, equals: OK}}
  abandoned: {when: {column: outcome, equals: LOST}}
  wait: {column: wait, only_when: {column: outcome, equals: OK}}
  rating: rating
"""

HEADER = "id,day,at,agent,queue,outcome,wait,rating"


def mapping_of(text: str = CALLS, **changes: object) -> Mapping:
    mapping = mapping_from_yaml(textwrap.dedent(text), file="test.yaml", default_name="test")
    return mapping.model_copy(update=changes) if changes else mapping


def write(
    tmp_path: Path, text: str, name: str = "calls.csv", newline: str = "\n", encoding: str = "utf-8"
) -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def parse(path: Path, mapping: Mapping, **options):
    run = parse_file(path, mapping, **options)
    items = [item for batch in run for item in batch]
    return (
        [i for i in items if isinstance(i, KpiRecord)],
        [i for i in items if isinstance(i, RowReject)],
        run,
    )


# ---- a damaged copy of a real file ----------------------------------------------------------------------


def test_a_damaged_pwc_copy_rejects_only_the_bad_lines(tmp_path):
    source = TABULAR / "pwc_call_center_variant_ddmmyyyy.csv"
    if not source.exists():
        pytest.skip(f"real input {source} is not present")
    lines = source.read_bytes().decode("utf-8-sig").split("\r\n")
    assert lines[2].startswith("ID0002,Becky,01/01/2021,")
    lines[2] = lines[2].replace("01/01/2021", "31/02/2021")
    fields = lines[9].split(",")
    assert fields[0] == "ID0009" and fields[7].isdigit()
    fields[7] = "9x9"
    lines[9] = ",".join(fields)
    lines[20] = lines[20].replace("/01/2021", "/13/2021").replace(",Y,", ",maybe,", 1)
    damaged = tmp_path / "damaged.csv"
    damaged.write_bytes("\r\n".join(lines).encode("utf-8"))

    records, rejects, run = parse(damaged, load_mapping("pwc-ddmm"), chunk_size=1000)

    assert [(r.line, r.reason) for r in rejects] == [
        (3, "column 'date': '31/02/2021' does not match any of the formats ['%d/%m/%Y']"),
        (10, "column 'speed_of_answer_in_seconds': '9x9' is not a number"),
        (
            21,
            f"column 'date': '{lines[20].split(',')[2]}' does not match any of the formats ['%d/%m/%Y']; "
            "column 'answered (Y/N)': 'maybe' is neither a true value ['Y'] nor a false value ['N']",
        ),
    ]
    assert [r.raw for r in rejects] == [lines[2], lines[9], lines[20]]
    assert len(records) == 4997
    assert run.stats.records == 4997 and run.stats.rejects == 3
    ids = {r.external_id for r in records}
    assert "ID0002" not in ids and "ID0009" not in ids and "ID0001" in ids and "ID0003" in ids


def test_impossible_values_in_a_file_are_rejected_as_the_webhook_rejects_them(tmp_path):
    source = TABULAR / "pwc_call_center_variant_ddmmyyyy.csv"
    if not source.exists():
        pytest.skip(f"real input {source} is not present")
    lines = source.read_bytes().decode("utf-8-sig").split("\r\n")
    answered = [
        n for n, line in enumerate(lines[1:], start=1) if line.count(",") == 9 and line.split(",")[5] == "Y"
    ][:4]
    changes = {answered[0]: (7, "-10"), answered[1]: (8, "200:00:00"), answered[2]: (9, "999999999999")}
    changes[answered[3]] = (9, "-2")
    for index, (column, value) in changes.items():
        fields = lines[index].split(",")
        fields[column] = value
        lines[index] = ",".join(fields)
    damaged = tmp_path / "impossible.csv"
    damaged.write_bytes("\r\n".join(lines).encode("utf-8"))

    records, rejects, _run = parse(damaged, load_mapping("pwc-ddmm"), chunk_size=1000)

    assert [(r.line, r.reason) for r in rejects] == [
        (answered[0] + 1, "facts.wait: must be 0 or more, got -10"),
        (answered[1] + 1, "facts.talk: 720000 seconds is more than 7 days (604,800 seconds)"),
        (answered[2] + 1, "facts.rating: 1e+12 is more than 1000, on the survey scale"),
        (answered[3] + 1, "facts.rating: must be 0 or more, got -2"),
    ]
    assert len(records) == 5000 - 4


# ---- CSV mechanics --------------------------------------------------------------------------------------

ROWS = """id,day,at,agent,queue,outcome,wait,rating
c1,05/01/2021,09:00:00,Ana,sales,OK,12,5
c2,05/01/2021,9:05:00,NOBODY,sales,LOST,,
c3,05/01/2021,10:00 PM,Bo,support,OK,1:05,
c4,05/01/2021,09:10:00,x,sales,TEST,,
"""


@pytest.mark.parametrize(
    ("newline", "encoding", "final_newline"),
    [
        ("\n", "utf-8", True),
        ("\r\n", "utf-8", True),
        ("\r\n", "utf-8-sig", False),
        ("\n", "utf-8-sig", False),
    ],
)
def test_line_endings_boms_and_a_missing_final_newline_read_the_same(
    tmp_path, newline, encoding, final_newline
):
    text = ROWS if final_newline else ROWS.rstrip("\n")
    records, rejects, run = parse(write(tmp_path, text, newline=newline, encoding=encoding), mapping_of())
    assert rejects == []
    assert [r.external_id for r in records] == ["c1", "c2", "c3"]
    assert run.filtered == 1
    assert run.stats.filtered_by_reason == {"test call": 1}
    c1, c2, c3 = records
    assert c1.subject == SubjectRef("agent", "Ana")
    assert c1.facts == {"answered": True, "abandoned": False, "wait": 12.0, "rating": 5.0}
    assert c2.subject == SubjectRef("queue", "sales")
    assert c2.facts == {"answered": False, "abandoned": True}
    assert c3.facts == {"answered": True, "abandoned": False, "wait": 65.0}
    assert c3.occurred_at == datetime(2021, 1, 5, 22, 0, tzinfo=UTC)


def test_quoted_fields_blank_lines_and_trailing_empty_columns(tmp_path):
    text = (
        "id,day,at,agent,queue,outcome,wait,rating,,\n"
        'c1,05/01/2021,09:00:00,"Ana, Jr.",sales,OK,12,5,,\n'
        "\n"
        ",,,,,,,,,\n"
        "   \n"
        'c2,05/01/2021,09:00:00,Ana,"multi\nline",LOST,,\n'
        "c3,05/01/2021,bad,Ana,sales,OK,1,\n"
    )
    records, rejects, run = parse(write(tmp_path, text), mapping_of())
    assert [r.external_id for r in records] == ["c1", "c2"]
    assert records[0].subject.key == "Ana, Jr."
    assert records[1].subject == SubjectRef("queue", "multi\nline")
    assert run.stats.blank == 3
    assert [(r.line, r.raw) for r in rejects] == [(8, "c3,05/01/2021,bad,Ana,sales,OK,1,")]
    assert (
        rejects[0].reason == "column 'at': 'bad' does not match any of the formats ['%H:%M:%S', '%I:%M %p']"
    )


def test_a_reject_spanning_lines_quotes_its_source_text(tmp_path):
    text = HEADER + '\nc1,05/01/2021,09:00:00,Ana,"two\nlines",OK,zz,\nc2,05/01/2021,09:00:00,Ana,q,OK,1,\n'
    records, rejects, _ = parse(write(tmp_path, text), mapping_of())
    assert [r.external_id for r in records] == ["c2"]
    assert rejects == [
        RowReject(2, "column 'wait': 'zz' is not a number", 'c1,05/01/2021,09:00:00,Ana,"two\nlines",OK,zz,')
    ]


def test_subject_rules_and_their_rejects(tmp_path):
    text = HEADER + (
        "\nc1,05/01/2021,09:00:00,NOBODY,sales,OK,3,"
        "\nc2,05/01/2021,09:00:00,Ana,,LOST,,"
        "\nc3,05/01/2021,09:00:00,Ana,sales,HOLD,,4"
        "\n,05/01/2021,09:00:00,Ana,sales,OK,3,"
    )
    records, rejects, _ = parse(write(tmp_path, text), mapping_of())
    assert [(r.external_id, r.subject, r.facts) for r in records] == [
        ("c3", SubjectRef("queue", "sales"), {"answered": False, "abandoned": False, "rating": 4.0})
    ]
    assert [(r.line, r.reason) for r in rejects] == [
        (2, "handled call without an agent (agent 'NOBODY')"),
        (3, "unanswered contact without a queue (queue '')"),
        (5, "column 'id' is empty, and the external id is made from it"),
    ]


def test_without_an_answered_fact_rows_go_to_the_agent_else_the_queue(tmp_path):
    surveys = mapping_of(
        """
        description: surveys
        source: s
        external_id: "{id}"
        occurred_at: {value: "2021-01-04T12:00:00+01:00"}
        subject: {agent: agent, queue: {value: general}}
        facts: {rating: score}
        """
    )
    path = write(tmp_path, "id,agent,score\ns1,Ana,4\ns2,,5\ns3,Bo,\n")
    records, rejects, _ = parse(path, surveys)
    assert rejects == []
    assert [(r.subject, r.facts) for r in records] == [
        (SubjectRef("agent", "Ana"), {"rating": 4.0}),
        (SubjectRef("queue", "general"), {"rating": 5.0}),
        (SubjectRef("agent", "Bo"), {}),
    ]
    assert records[0].occurred_at.utcoffset() == timedelta(hours=1)


def test_header_row_positions_and_missing_columns(tmp_path):
    text = (
        "exported by ACD\n\nid,day,at,agent,queue,outcome,wait,rating\nc1,05/01/2021,09:00:00,Ana,s,OK,1,\n"
    )
    records, _, _ = parse(write(tmp_path, text), mapping_of(header_row=3))
    assert records[0].external_id == "c1"

    headerless = write(tmp_path, "c1;05/01/2021;Ana\n", name="plain.csv")
    positional = mapping_of(
        """
        description: no header
        source: s
        header_row: 0
        delimiter: ";"
        columns: {"#2": {type: date, formats: ["%d/%m/%Y"]}}
        external_id: "{#1}"
        occurred_at: {date: "#2"}
        subject: {agent: "#3"}
        facts: {answered: {value: true}}
        """
    )
    records, _, _ = parse(headerless, positional)
    assert (records[0].external_id, records[0].subject.key) == ("c1", "Ana")
    assert records[0].occurred_at == datetime(2021, 1, 5, tzinfo=UTC)

    loose = write(
        tmp_path, "ID, Day ,AT,Agent,Queue,Outcome,Wait,Rating\nc1,05/01/2021,09:00:00,Ana,s,OK,1,\n"
    )
    assert parse(loose, mapping_of())[0][0].external_id == "c1"

    missing = write(tmp_path, "id,day,at,agent,queue,outcome,rating\n", name="missing.csv")
    with pytest.raises(
        LayoutError, match=r"missing.csv: missing column 'wait'; the header has 'id', 'day', "
    ):
        parse_file(missing, mapping_of())
    typo = write(tmp_path, "id,day,at,agnt,queue,outcome,wait,rating\n", name="typo.csv")
    with pytest.raises(LayoutError, match=r"missing column 'agent' \(did you mean 'agnt'\?\)"):
        parse_file(typo, mapping_of())


def test_undecodable_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + "\nc1,05/01/2021,09:00:00,Jos\xe9,s,OK,1,\n").encode("latin-1"))
    with pytest.raises(LayoutError, match=r"latin.csv, line 2: not valid utf-8-sig text .* set `encoding:`"):
        list(parse_file(path, mapping_of()))
    far = tmp_path / "far.csv"
    good = [f"c{i},05/01/2021,09:00:00,Ana,s,OK,1," for i in range(5000)]
    far.write_bytes("\n".join([HEADER, *good, "c,05/01/2021,09:00:00,Jos\xe9,s,OK,1,"]).encode("latin-1"))
    with pytest.raises(LayoutError, match=r"far.csv, line 5002: not valid utf-8-sig text"):
        list(parse_file(far, mapping_of()))
    records, _, _ = parse(path, mapping_of(encoding="latin-1"))
    assert records[0].subject.key == "José"


def test_batches_and_progress(tmp_path):
    lines = [HEADER] + [f"c{i},05/01/2021,09:00:00,Ana,s,OK,{i}," for i in range(1, 26)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    seen: list[tuple[int, int]] = []
    run = parse_file(
        path, mapping_of(), chunk_size=10, on_progress=lambda done, total: seen.append((done, total))
    )
    assert [len(batch) for batch in run] == [10, 10, 5]
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    assert all(total == size and 0 < done <= size for done, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    with pytest.raises(ValueError):
        parse_file(path, mapping_of(), chunk_size=0)
    with pytest.raises(LayoutError, match="set `format:`"):
        parse_file(write(tmp_path, "x", name="calls.dat"), mapping_of())


# ---- time zones -----------------------------------------------------------------------------------------

STAMPED = """
description: stamped events
source: s
columns:
  at: {type: datetime, formats: ["iso", "%m/%d/%y %I:%M %p"]}
  updated: {type: datetime}
external_id: "{id}"
version: updated
occurred_at: at
subject: {agent: agent}
facts: {talk: talk}
"""


def test_zone_precedence_and_explicit_offsets(tmp_path):
    path = write(
        tmp_path,
        "id,at,updated,agent,talk\n"
        "e1,2021-01-05T10:00:00,2022-01-11T03:41:32Z,a,1\n"
        "e2,2021-01-05T10:00:00+02:00,,a,2\n"
        "e3,7/25/25 12:00 AM,,a,3\n",
    )
    program_zone, _, _ = parse(path, mapping_of(STAMPED), default_tz="America/Chicago")
    assert program_zone[0].occurred_at.utcoffset() == timedelta(hours=-6)
    assert program_zone[1].occurred_at.utcoffset() == timedelta(hours=2)
    assert program_zone[2].occurred_at == datetime(2025, 7, 25, 5, 0, tzinfo=UTC)

    mapping_zone, _, _ = parse(
        path, mapping_of(STAMPED, timezone="Asia/Jerusalem"), default_tz="America/Chicago"
    )
    assert mapping_zone[0].occurred_at.utcoffset() == timedelta(hours=2)
    assert mapping_zone[1].occurred_at == program_zone[1].occurred_at

    cli_zone, _, _ = parse(path, mapping_of(STAMPED, timezone="Asia/Jerusalem"), tz="UTC")
    assert cli_zone[0].occurred_at == datetime(2021, 1, 5, 10, tzinfo=UTC)
    assert cli_zone[1].occurred_at == datetime(2021, 1, 5, 8, tzinfo=UTC)

    assert program_zone[0].version == 1641872492000
    assert program_zone[1].version == 1
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_file(path, mapping_of(STAMPED), tz="Nowhere/Land")


# ---- aggregate rows -------------------------------------------------------------------------------------

ADHERENCE = """
description: per-agent interval summary
source: perf
columns:
  Interval Start: {type: datetime, formats: ["%m/%d/%y %I:%M %p"]}
  Avg Handle: {type: duration}
  Adherence (%): {type: percent}
external_id: "{Agent Id}-{Interval Start}"
occurred_at: Interval Start
subject: {agent: Agent Id, agent_name: Agent Name}
metrics:
  handled: {num: Answered, den: Answered}
  aht: {mean: Avg Handle, weight: Answered}
  adherence: {mean: Adherence (%), weight: Scheduled}
  csat: {num: Rating}                 # one survey per row: den defaults to 1
"""


def test_aggregate_rows_weight_averages_and_skip_not_eligible_values(tmp_path):
    path = write(
        tmp_path,
        "Agent Id,Agent Name,Interval Start,Answered,Avg Handle,Adherence (%),Scheduled,Rating\n"
        'u1,Ana Lima,7/25/25 12:00 AM,"1,200", 135:40:34.625,"8,285.64%",10,2\n'
        "u2,Bo,7/25/25 12:00 AM,4,0:05:00,Infinity%,0,\n",
    )
    records, rejects, _ = parse(path, mapping_of(ADHERENCE))
    assert rejects == []
    ana, bo = records
    assert ana.subject == SubjectRef("agent", "u1", "Ana Lima")
    assert ana.external_id == "u1-7/25/25 12:00 AM"
    assert ana.metrics["handled"] == (1200.0, 1200.0)
    assert ana.metrics["aht"] == pytest.approx((488434.625 * 1200, 1200))
    assert ana.metrics["adherence"] == pytest.approx((828.564, 10))
    assert ana.metrics["csat"] == (2.0, 1.0)
    assert bo.metrics == {"handled": (4.0, 4.0), "aht": (1200.0, 4.0)}
    assert ana.facts == {} and bo.occurred_at.tzinfo is not None


# ---- XLSX -----------------------------------------------------------------------------------------------

WORKBOOK_MAPPING = """
description: workbook
source: wb
sheet: Calls
header_row: 2
columns:
  Day: {type: date}
  Start: {type: time}
  Talk: {type: duration, unit: days}
  Answered: {type: bool, truthy: ["Y"], falsy: ["N"]}
external_id: "{Id}"
occurred_at: {date: Day, time: Start}
subject: {agent: Agent, queue: {value: main}}
facts:
  answered: Answered
  talk: {column: Talk, only_when: {column: Answered, equals: "Y"}}
"""


def test_xlsx_cells_rows_and_sheet(tmp_path):
    workbook = Workbook()
    workbook.active.title = "Other"
    sheet = workbook.create_sheet("Calls")
    sheet.append(["exported 2021-01-06"])
    sheet.append(["Id", "Day", "Start", "Agent", "Answered", "Talk"])
    sheet.append([101, datetime(2021, 1, 5), time(9, 12, 58), "Ana", "Y", time(0, 2, 23)])
    sheet.append(["c2", "2021-01-05", 0.5, "Ana", "Y", 0.0993055555555556])
    sheet.append(["c3", 44201, "09:00:00", None, "N", None])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["c4", "05/01/2021", time(9, 0), "Ana", "Y", 1.0 / 24])
    path = tmp_path / "calls.xlsx"
    workbook.save(path)

    seen: list[tuple[int, int]] = []
    records, rejects, run = parse(path, mapping_of(WORKBOOK_MAPPING), on_progress=lambda *p: seen.append(p))
    assert [r.external_id for r in records] == ["101", "c2", "c3"]
    first, second, third = records
    assert first.occurred_at == datetime(2021, 1, 5, 9, 12, 58, tzinfo=UTC)
    assert first.facts == {"answered": True, "talk": 143.0}
    assert second.occurred_at == datetime(2021, 1, 5, 12, 0, tzinfo=UTC)
    assert second.facts["talk"] == pytest.approx(8580.0)
    assert third.subject == SubjectRef("queue", "main") and third.facts == {"answered": False}
    assert third.occurred_at == datetime(2021, 1, 5, 9, 0, tzinfo=UTC)  # serial 44201, text time
    assert run.stats.blank == 1
    assert [(r.line, r.reason) for r in rejects] == [
        (7, "column 'Day': '05/01/2021' does not match any of the formats ['%Y-%m-%d']")
    ]
    assert rejects[0].raw.startswith("c4,05/01/2021,09:00:00,Ana,Y,")
    assert seen[-1] == (7, 7)

    with pytest.raises(LayoutError, match=r"no sheet 'Nope'; the sheets are \['Other', 'Calls'\]"):
        parse_file(path, mapping_of(WORKBOOK_MAPPING, sheet="Nope"))
    not_a_workbook = tmp_path / "fake.xlsx"
    not_a_workbook.write_text("id\n")
    with pytest.raises(LayoutError, match="not a readable XLSX workbook"):
        parse_file(not_a_workbook, mapping_of(WORKBOOK_MAPPING))


def test_a_run_can_stop_early(tmp_path):
    path = write(tmp_path, "\n".join([HEADER] + [f"c{i},05/01/2021,09:00:00,A,s,OK,1," for i in range(30)]))
    with parse_file(path, mapping_of(), chunk_size=5) as run:
        assert len(next(run)) == 5
    assert run.stats.records == 5


# ---- conditions -----------------------------------------------------------------------------------------

OPERATORS = """
description: every condition operator
source: s
columns:
  secs: {type: duration}
  rate: {type: percent}
  flag: {type: bool}
  code: {null_tokens: ["", "none"]}
external_id: "{id}"
occurred_at: {value: "2021-01-04T12:00:00Z"}
subject: {agent: agent, queue: {value: q}}
facts:
  answered: {when: {column: code, in: [A, B]}}
  abandoned: {when: {column: code, not_in: [A, B]}}
  resolved: {when: {column: code, is_null: true}}
  saved: {when: {all: [{column: secs, gte: 60}, {column: secs, lt: "0:02:00"}]}}
  save_attempt: {when: {any: [{column: rate, gt: 0.9}, {not: {column: flag, equals: true}}]}, else: null}
  wait: {column: secs, only_when: {column: code, is_not_null: true}}
"""


def test_every_condition_operator(tmp_path):
    path = write(
        tmp_path,
        "id,agent,code,secs,rate,flag\nr1,a,A,1:00,95%,y\nr2,a,none,2:00,50%,y\nr3,a,C,,,n\n",
    )
    records, rejects, _ = parse(path, mapping_of(OPERATORS))
    assert rejects == []
    facts = {r.external_id: r.facts for r in records}
    assert [r.subject.kind for r in records] == ["agent", "queue", "queue"]
    assert records[0].occurred_at == datetime(2021, 1, 4, 12, tzinfo=UTC)
    assert facts["r1"] == {
        "answered": True,
        "abandoned": False,
        "resolved": False,
        "saved": True,
        "save_attempt": True,
        "wait": 60.0,
    }
    assert facts["r2"] == {"answered": False, "abandoned": True, "resolved": True, "saved": False}
    assert facts["r3"] == {
        "answered": False,
        "abandoned": True,
        "resolved": False,
        "saved": False,
        "save_attempt": True,
    }


def test_a_column_whose_uses_disagree_must_be_declared():
    conflicting = """
description: d
source: s
external_id: "{id}"
occurred_at: when
subject: {agent: a}
facts: {wait: when}
"""
    with pytest.raises(
        MappingError, match="column 'when' is used as a date-time and as duration fact 'wait'"
    ):
        mapping_of(conflicting)


# ---- rows that do not fit the header --------------------------------------------------------------------

PWC_HEADER = (
    "call_id,agent,date,time,topic,answered (Y/N),resolved,speed_of_answer_in_seconds,AvgTalkDuration,"
    "SatisfactionRating"
)
DAMAGED_ROWS = [
    "\ufeff" + PWC_HEADER,
    "ID0001,Diane,01/01/2021,09:12:58,Contract related,Y,Y,109,00:02:23,3",
    "ID0004,Greg,01/01/2021,09:47:31,Contract related,Y,Y,53,00:00:37,2,extra,cols",
    "ID0005,Becky,01/01/2021,10:00:29",
    "",
    "ID0007;Diane;01/01/2021;10:22:05;Payment related;Y;Y;24;00:03:40;2",
    ",Diane,01/01/2021,10:22:05,Payment related,maybe,Y,22,00:00:38,4",
    "ID0011,Joe,01/01/2021,11:15:22,Payment related,N,N,,,",
    "ID0012,Greg,01/01/2021,11:15:22,Payment related,Y,Y,50,00:00:32,4,,",
    "ID0013,Joe,01/01/2021,11:52:48,Payment related,Y,Y,84,00:03:34,3, ,x",
    "   ",
    ",,,,,,,,",
    "ID0014\tMartha\t01/01/2021\t11:52:48\tContract related\tY\tY\t89\t00:05:44\t3",
]


def test_rows_with_the_wrong_number_of_fields_are_rejected_before_their_columns_are_read(tmp_path):
    path = tmp_path / "damaged.csv"
    path.write_bytes("\r\n".join(DAMAGED_ROWS).encode("utf-8") + b"\r\n")
    records, rejects, run = parse(path, load_mapping("pwc-ddmm"))
    assert [r.external_id for r in records] == ["ID0001", "ID0011", "ID0012"]
    assert [(r.line, r.reason) for r in rejects] == [
        (3, "line has 12 fields, the header has 10"),
        (4, "line has 4 fields, the header has 10"),
        (6, "line has 1 field, the header has 10 (it looks delimited by ';', not ',')"),
        (
            7,
            "column 'call_id' is empty, and the external id is made from it; "
            "column 'answered (Y/N)': 'maybe' is neither a true value ['Y'] nor a false value ['N']",
        ),
        (10, "line has 12 fields, the header has 10"),
        (13, "line has 1 field, the header has 10 (it looks delimited by tab, not ',')"),
    ]
    assert [r.raw for r in rejects] == [DAMAGED_ROWS[i - 1] for i in (3, 4, 6, 7, 10, 13)]
    assert run.stats.blank == 3  # the empty line, the line of spaces and ",,,,,,,,"
    assert (run.stats.records, run.stats.rejects, run.stats.rows) == (3, 6, 12)


def test_a_file_without_a_header_is_measured_by_its_first_row(tmp_path):
    positional = mapping_of(
        """
        description: no header
        source: s
        header_row: 0
        delimiter: ";"
        columns: {"#2": {type: date, formats: ["%d/%m/%Y"]}}
        external_id: "{#1}"
        occurred_at: {date: "#2"}
        subject: {agent: "#3"}
        facts: {answered: {value: true}}
        """
    )
    path = write(tmp_path, "c1;05/01/2021;Ana\nc2;05/01/2021;Bo;extra\nc3;05/01/2021\nc4;05/01/2021;Cy;;\n")
    records, rejects, _ = parse(path, positional)
    assert [r.external_id for r in records] == ["c1", "c4"]
    assert [(r.line, r.reason) for r in rejects] == [
        (2, "line has 4 fields, the first row has 3"),
        (3, "line has 2 fields, the first row has 3"),
    ]


def test_every_bad_column_of_a_row_is_listed_in_file_order(tmp_path):
    text = HEADER + (
        "\n,,09:00:00,Ana,sales,OK,zz,abc"
        "\nc2,05/01/2021,,Ana,sales,OK,1,"
        "\nc3,31/02/2021,25:00:00,Ana,sales,OK,1,"
    )
    records, rejects, _ = parse(write(tmp_path, text), mapping_of())
    assert records == []
    assert [(r.line, r.reason) for r in rejects] == [
        (
            2,
            "column 'id' is empty, and the external id is made from it; "
            "column 'day' is empty; every record needs a date; "
            "column 'wait': 'zz' is not a number; column 'rating': 'abc' is not a number",
        ),
        (3, "column 'at' is empty; every record needs a time"),
        (
            4,
            "column 'day': '31/02/2021' does not match any of the formats ['%d/%m/%Y']; "
            "column 'at': '25:00:00' does not match any of the formats ['%H:%M:%S', '%I:%M %p']",
        ),
    ]


# ---- daylight saving time -------------------------------------------------------------------------------

INTERVALS = """
description: interval rows
source: s
timezone: America/Chicago
columns:
  start: {type: datetime, formats: ["%m/%d/%y %I:%M %p"]}
external_id: "{agent}-{start}"
occurred_at: start
subject: {agent: agent}
metrics: {handled: {num: n, den: n}}
"""


def test_a_time_the_clocks_skip_is_a_reject_and_a_repeated_one_is_its_first_occurrence(tmp_path):
    path = write(
        tmp_path,
        "start,agent,n\n"
        "3/9/25 1:59 AM,a,1\n3/9/25 2:30 AM,a,1\n3/9/25 3:00 AM,a,1\n"
        "11/2/25 1:30 AM,a,1\n11/2/25 2:30 AM,a,1\n",
    )
    records, rejects, _ = parse(path, mapping_of(INTERVALS))
    assert rejects == [
        RowReject(
            3,
            "column 'start': '3/9/25 2:30 AM' does not exist in America/Chicago: "
            "the clocks jump forward from 02:00 to 03:00 on 2025-03-09",
            "3/9/25 2:30 AM,a,1",
        )
    ]
    assert [r.occurred_at.astimezone(UTC) for r in records] == [
        datetime(2025, 3, 9, 7, 59, tzinfo=UTC),
        datetime(2025, 3, 9, 8, 0, tzinfo=UTC),
        datetime(2025, 11, 2, 6, 30, tzinfo=UTC),  # 1:30 CDT, before the clocks go back
        datetime(2025, 11, 2, 8, 30, tzinfo=UTC),
    ]
    # an explicit offset or a zone without daylight saving time reads every time
    records, rejects, _ = parse(path, mapping_of(INTERVALS), tz="UTC")
    assert rejects == [] and len(records) == 5


def test_a_date_and_a_time_that_the_clocks_skip_name_both_columns(tmp_path):
    text = HEADER + (
        "\nc1,28/03/2021,02:30:00,Ana,sales,OK,1,"
        "\nc2,28/03/2021,03:00:00,Ana,sales,OK,1,"
        "\nc3,31/10/2021,02:30:00,Ana,sales,OK,1,"
        "\nc4,28/03/2021,02:30:00,Ana,sales,OK,zz,"
    )
    path = write(tmp_path, text)
    records, rejects, _ = parse(path, mapping_of(), tz="Europe/Paris")
    assert [(r.line, r.reason) for r in rejects] == [
        (
            2,
            "columns 'day' and 'at': '28/03/2021 02:30:00' does not exist in Europe/Paris: "
            "the clocks jump forward from 02:00 to 03:00 on 2021-03-28",
        ),
        (5, "column 'wait': 'zz' is not a number"),
    ]
    assert [r.occurred_at.astimezone(UTC) for r in records] == [
        datetime(2021, 3, 28, 1, 0, tzinfo=UTC),
        datetime(2021, 10, 31, 0, 30, tzinfo=UTC),  # 02:30 CEST, the first of the two
    ]


def test_a_date_whose_midnight_the_clocks_skip_starts_after_the_gap(tmp_path):
    days = mapping_of(
        """
        description: daily rows
        source: s
        timezone: America/Havana
        external_id: "{id}"
        occurred_at: {date: day}
        subject: {agent: agent}
        facts: {talk: talk}
        """
    )
    records, rejects, _ = parse(write(tmp_path, "id,day,agent,talk\nd1,2019-03-10,Ana,5\n"), days)
    assert rejects == []
    assert records[0].occurred_at == datetime(2019, 3, 10, 5, 0, tzinfo=UTC)  # 01:00 CDT


# ---- rejects files --------------------------------------------------------------------------------------

SEMICOLONS = """
description: a semicolon export in cp1252 with a preamble
source: acme
delimiter: ";"
encoding: cp1252
header_row: 2
columns:
  day: {type: date, formats: ["%d/%m/%Y"]}
  wait: {type: duration}
external_id: "{id}"
occurred_at: {date: day, time: at}
subject: {agent: agent, queue: {column: queue}}
facts:
  answered: {when: {column: outcome, equals: OK}}
  wait: wait
"""


def test_a_rejects_file_keeps_the_export_as_it_was_and_imports_once_fixed(tmp_path):
    export = (
        "Export Acme ACD; 2021\r\n"
        "id;day;at;agent;queue;outcome;wait;rating;;\r\n"
        'c1;05/01/2021;09:00:00;"Zoë; Jr.";sales;OK;12;5;;\r\n'
        'c2;05/01/2021;09:00:00;"Ana ""A"" B";sales;OK;zz;;;\r\n'
        "c3,05/01/2021,09:00:00,Ana,sales,OK,1,\r\n"
        'c4;05/01/2021;09:00:00;Zoë;"two\r\nlines";OK;x;\r\n'
    )
    path = tmp_path / "acme.csv"
    path.write_bytes(export.encode("cp1252"))
    mapping = mapping_of(SEMICOLONS)
    records, rejects, run = parse(path, mapping)
    assert [r.external_id for r in records] == ["c1"]
    assert [r.line for r in rejects] == [4, 5, 6]

    written = tmp_path / "acme.rejects.csv"
    write_rejects(written, run, rejects)
    assert written.read_bytes().decode("cp1252") == (
        "Export Acme ACD; 2021\r\n"
        "id;day;at;agent;queue;outcome;wait;rating;floorboard_line;floorboard_reason\r\n"
        # each row as wide as the header (empty fields past it dropped, missing ones added), else as it was
        'c2;05/01/2021;09:00:00;"Ana ""A"" B";sales;OK;zz;;4;column \'wait\': \'zz\' is not a number\r\n'
        "c3,05/01/2021,09:00:00,Ana,sales,OK,1,;;;;;;;;5;"
        "\"line has 1 field, the header has 8 (it looks delimited by ',', not ';')\"\r\n"
        "c4;05/01/2021;09:00:00;Zoë;\"two\r\nlines\";OK;x;;6;column 'wait': 'x' is not a number\r\n"
    )

    # Read again unfixed, the same rows are rejected, and the new file replaces the two extra columns.
    again, second_rejects, second_run = parse(written, mapping)
    assert again == []
    assert [(r.line, r.raw) for r in second_rejects] == [
        (3, rejects[0].raw),
        (4, rejects[1].raw + ";" * 7),  # now as wide as the header, its one field then seven empty ones
        (5, rejects[2].raw),
    ]
    assert second_rejects[1].reason == (  # padded to the header, its empty fields are what is wrong now
        "column 'day' is empty; every record needs a date; column 'at' is empty; every record needs a time"
    )
    rewritten = tmp_path / "acme.rejects.rejects.csv"
    write_rejects(rewritten, second_run, second_rejects)
    first, second = (file.read_bytes().decode("cp1252").split("\r\n") for file in (written, rewritten))
    assert second[:2] == first[:2]
    assert (
        second[2]
        == 'c2;05/01/2021;09:00:00;"Ana ""A"" B";sales;OK;zz;;3;column \'wait\': \'zz\' is not a number'
    )

    # Fixed in place, the file imports with the same mapping; the extra columns are ignored.
    fixed = (
        written.read_bytes()
        .decode("cp1252")
        .replace(";zz;", ";7;")
        .replace("c3,05/01/2021,09:00:00,Ana,sales,OK,1,;;;;;;;", "c3;05/01/2021;09:00:00;Ana;sales;OK;1;")
        .replace(";x;", ";3;")
    )
    written.write_bytes(fixed.encode("cp1252"))
    records, rejects, _ = parse(written, mapping)
    assert rejects == []
    assert [(r.external_id, r.subject, r.facts) for r in records] == [
        ("c2", SubjectRef("agent", 'Ana "A" B'), {"answered": True, "wait": 7.0}),
        ("c3", SubjectRef("agent", "Ana"), {"answered": True, "wait": 1.0}),
        ("c4", SubjectRef("agent", "Zoë"), {"answered": True, "wait": 3.0}),
    ]


def test_an_xlsx_rejects_file_is_a_csv_of_the_mapped_columns(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Calls"
    sheet.append(["exported 2021-01-06"])
    sheet.append(["Id", "Note", "Day", "Start", "Agent", "Answered", "Talk"])
    sheet.append([101, "ok", datetime(2021, 1, 5), time(9, 12, 58), "Ana", "Y", time(0, 2, 23)])
    sheet.append(
        [102, "bad day", "05/01/2021", time(9, 0), "Ana, Jr.", "Y", timedelta(hours=26, seconds=1.5)]
    )
    sheet.append([103, "bad flag", datetime(2021, 1, 5), time(10, 0), "Bo", "maybe", 0.25])
    sheet.append([None, "   ", None, "", None, None, None])
    path = tmp_path / "calls.xlsx"
    workbook.save(path)
    mapping = mapping_of(WORKBOOK_MAPPING)
    records, rejects, run = parse(path, mapping)
    assert [r.external_id for r in records] == ["101"]
    assert [r.line for r in rejects] == [4, 5]
    assert run.format == "xlsx"
    assert run.stats.blank == 1

    written = tmp_path / "calls.rejects.csv"
    write_rejects(written, run, rejects)
    lines = written.read_bytes().decode("utf-8").split("\r\n")
    assert lines == [
        "Id,Day,Start,Agent,Answered,Talk,floorboard_line,floorboard_reason",
        '102,05/01/2021,09:00:00,"Ana, Jr.",Y,26:00:01.5,4,'
        "column 'Day': '05/01/2021' does not match any of the formats ['%Y-%m-%d']",
        "103,2021-01-05,10:00:00,Bo,maybe,0.25,5,"
        "column 'Answered': 'maybe' is neither a true value ['Y'] nor a false value ['N']",
        "",
    ]

    # A CSV variant of the mapping reads the fixed file.
    written.write_text(
        written.read_text(encoding="utf-8").replace("05/01/2021", "2021-01-05").replace("maybe", "N"),
        encoding="utf-8",
    )
    variant = mapping_of(WORKBOOK_MAPPING, format="csv", header_row=1, sheet=None)
    records, rejects, _ = parse(written, variant)
    assert rejects == []
    assert [(r.external_id, r.subject.key, r.occurred_at, r.facts) for r in records] == [
        ("102", "Ana, Jr.", datetime(2021, 1, 5, 9, 0, tzinfo=UTC), {"answered": True, "talk": 93601.5}),
        ("103", "main", datetime(2021, 1, 5, 10, 0, tzinfo=UTC), {"answered": False}),
    ]


def test_a_rejects_file_has_a_byte_order_mark_only_when_the_source_had_one(tmp_path):
    from bot.feeds.mapping import load_mapping
    from bot.feeds.records import RowReject
    from bot.feeds.tabular import parse_file, write_rejects

    header = (
        "call_id,agent,date,time,topic,answered (Y/N),resolved,speed_of_answer_in_seconds,"
        "AvgTalkDuration,SatisfactionRating"
    )
    good = "ID1,Jim,01/01/2021,09:00:00,Admin,Y,Y,10,00:01:00,4"
    bad = "ID2,Jim,31/02/2021,09:00:00,Admin,Y,Y,10,00:01:00,4"
    body = f"{header}\r\n{good}\r\n{bad}\r\n"
    for bom in (b"", b"\xef\xbb\xbf"):
        source = tmp_path / f"calls{len(bom)}.csv"
        source.write_bytes(bom + body.encode())
        run = parse_file(source, load_mapping("pwc-ddmm"))
        rejects = [item for chunk in run for item in chunk if isinstance(item, RowReject)]
        assert [reject.line for reject in rejects] == [3]
        out = tmp_path / f"calls{len(bom)}.rejects.csv"
        write_rejects(out, run, rejects)
        written = out.read_bytes()
        assert written.startswith(bom + b"call_id,")
        assert written.count(b"\xef\xbb\xbf") == (1 if bom else 0)


def test_a_workbook_given_to_a_csv_mapping_is_named_as_such(tmp_path):
    workbook = tmp_path / "calls.xlsx"
    Workbook().save(workbook)
    with pytest.raises(
        LayoutError, match=r"calls.xlsx is an XLSX workbook, but mapping 'pwc-ddmm' reads CSV"
    ):
        parse_file(workbook, load_mapping("pwc-ddmm"))
