"""The column path of a CSV parse yields what the row path yields (records, rejects with their lines and
reasons, blank and filtered counts), and a file imported through it stores the same records, rollups,
ledger and parked records, on the real files and on damaged generated ones, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Floorboard
from bot.feeds.mapping import load_mapping
from bot.feeds.record_columns import ColumnBatch
from bot.feeds.tabular import parse_file
from tests.conftest import make_app, shared_file
from tests.integration.test_columnar_ingest import HEADER, _stored, two_urls  # noqa: F401

REAL_FILES = [
    ("tabular/pwc_call_center_variant_ddmmyyyy.csv", "pwc-ddmm"),
    ("tabular/kaggle_call_center_data_daily_semicolon.csv", "kaggle-daily"),
    ("tabular/kaggle_call_center_data_with_sales_rep.csv", "kaggle-sales-rep"),
    ("tabular/technion_anonymous_bank_callcenter_one_day.csv", "technion"),
]
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Jerusalem"]


def _parse(path: Path, mapping_name: str, *, columnar: bool, zone: str, chunk_size: int) -> tuple[Any, ...]:
    run = parse_file(
        path, load_mapping(mapping_name), default_tz=zone, chunk_size=chunk_size, columnar=columnar
    )
    batches = list(run)
    items = [item for batch in batches for item in batch]
    return items, run.stats, run.layout, [len(batch) for batch in batches]


def _same_parse(path: Path, mapping_name: str, zone: str, chunk_size: int) -> list[Any]:
    columnar = _parse(path, mapping_name, columnar=True, zone=zone, chunk_size=chunk_size)
    rows = _parse(path, mapping_name, columnar=False, zone=zone, chunk_size=chunk_size)
    assert columnar == rows
    return list(columnar[0])


@pytest.mark.parametrize(("relative", "mapping_name"), REAL_FILES)
@pytest.mark.parametrize(("zone", "chunk_size"), [("UTC", 5000), ("Europe/Paris", 97), ("Asia/Jerusalem", 1)])
def test_real_files_parse_the_same_by_columns_and_by_rows(relative, mapping_name, zone, chunk_size):
    items = _same_parse(shared_file(relative), mapping_name, zone, chunk_size)
    assert items


def test_a_csv_mapping_yields_column_batches(tmp_path):
    run = parse_file(shared_file(REAL_FILES[0][0]), load_mapping("pwc-ddmm"), chunk_size=1000)
    assert all(isinstance(batch, ColumnBatch) for batch in run)
    run = parse_file(shared_file(REAL_FILES[0][0]), load_mapping("pwc-ddmm"), columnar=False)
    assert not any(isinstance(batch, ColumnBatch) for batch in run)


# ---- damaged files --------------------------------------------------------------------------------------

GOOD = "ID{n:05d},{agent},{day},{clock},Streaming,Y,{resolved},{wait},00:0{talk}:1{talk},{rating}"
DAMAGES = {
    "bad date": "ID{n:05d},Ana,32/01/2021,10:00:00,Streaming,Y,Y,10,00:02:00,4",
    "no agent": "ID{n:05d},,02/01/2021,10:00:00,Streaming,Y,Y,10,00:02:00,4",
    "few fields": "ID{n:05d},Ben,02/01/2021,10:00:00,Streaming,Y",
    "many fields": "ID{n:05d},Ben,02/01/2021,10:00:00,Streaming,Y,Y,10,00:02:00,4,extra",
    "empty past the header": "ID{n:05d},Ben,02/01/2021,10:00:00,Streaming,Y,Y,10,00:02:00,4,,",
    "semicolons": "ID{n:05d};Ben;02/01/2021;10:00:00;Streaming;Y;Y;10;00:02:00;4",
    "not a duration": "ID{n:05d},Cy,02/01/2021,10:00:00,Streaming,Y,Y,ten,00:02:00,4",
    "not a number": "ID{n:05d},Cy,02/01/2021,10:00:00,Streaming,Y,Y,10,00:02:00,four",
    "not a bool": "ID{n:05d},Cy,02/01/2021,10:00:00,Streaming,maybe,Y,10,00:02:00,4",
    "no id": ",Dee,02/01/2021,10:00:00,Streaming,Y,Y,10,00:02:00,4",
    "spaced id": "  ,Dee,02/01/2021,10:00:00,Streaming,Y,Y,10,00:02:00,4",
    "no time": "ID{n:05d},Dee,02/01/2021,,Streaming,Y,Y,10,00:02:00,4",
    "blank": "",
    "commas only": ",,,,,,,,,",
    "spaces only": "   ",
    "abandoned": "ID{n:05d},,03/01/2021,11:00:00,Streaming,N,N,,,",
    "abandoned, no queue": "ID{n:05d},,03/01/2021,11:00:00,,N,N,,,",
    "abandoned, new queue, row path": "ID{n:05d},,03/01/2021,11:00:00,Billing,N,N,,,,,",
    "abandoned, new queue": "ID{n:05d},,03/01/2021,11:00:00,Admin,N,N,,,",
    "quoted": 'ID{n:05d},"Ana",03/01/2021,11:00:00,"Tech, ""Support""",Y,Y,12,00:01:00,5',
    "two lines": 'ID{n:05d},Ben,03/01/2021,11:00:00,"Stream\ning",Y,N,12,00:01:00,3',
    "repeated": "ID00001,Ana,04/01/2021,09:00:00,Streaming,Y,Y,10,00:02:00,4",
    "null tokens": "ID{n:05d},Ben,04/01/2021,09:00:00,n/a,Y,-,n/a,-,n/a",
    "spring gap": "ID{n:05d},Cy,28/03/2021,02:30:00,Streaming,Y,Y,10,00:02:00,4",
    "spring day": "ID{n:05d},Cy,28/03/2021,13:30:00,Streaming,Y,Y,10,00:02:00,4",
    "fall back": "ID{n:05d},Dee,31/10/2021,02:30:00,Streaming,Y,Y,10,00:02:00,4",
    "new agent": "ID{n:05d},Zed,04/01/2021,23:59:59,Streaming,Y,Y,8,00:03:00,5",
}


def _damaged(path: Path, kinds: list[str], seed: int, line_ending: str = "\r\n") -> Path:
    rng = random.Random(seed)
    lines = [HEADER]
    for n, kind in enumerate(kinds):
        if kind == "good":
            lines.append(
                GOOD.format(
                    n=n,
                    agent=rng.choice(["Ana", "Ben", "Cy", "Dee", " Ana "]),
                    day=f"{rng.randint(1, 4):02d}/01/2021",
                    clock=f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00",
                    resolved=rng.choice("YN"),
                    wait=rng.choice(["5", "20", "21", "90", "12.5"]),
                    talk=rng.randint(0, 9),
                    rating=rng.choice(["", "1", "3", "4.5", "5"]),
                )
            )
        else:
            lines.append(DAMAGES[kind].format(n=n))
    path.write_text(line_ending.join(lines) + line_ending, encoding="utf-8")
    return path


KINDS = st.sampled_from(["good"] * len(DAMAGES) + list(DAMAGES))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kinds=st.lists(KINDS, min_size=1, max_size=40),
    seed=st.integers(0, 1000),
    zone=st.sampled_from(ZONES),
    chunk_size=st.integers(1, 12),
    line_ending=st.sampled_from(["\r\n", "\n"]),
)
def test_damaged_files_parse_the_same_by_columns_and_by_rows(
    tmp_path_factory, kinds, seed, zone, chunk_size, line_ending
):
    path = _damaged(tmp_path_factory.mktemp("damaged") / "calls.csv", kinds, seed, line_ending)
    _same_parse(path, "pwc-ddmm", zone, chunk_size)


def _import(app: Floorboard, path: Path, mapping_name: str, *, columnar: bool, **options: Any) -> Any:
    """Through the column parse and ingest, or all the way through the row parse and the general path."""
    mapping = load_mapping(mapping_name)
    run = parse_file(
        path,
        mapping,
        default_tz=options.pop("zone", "UTC"),
        chunk_size=options.pop("chunk", 500),
        columnar=columnar,
    )
    _, counts, outcomes = app.ingest(
        run,
        source=mapping.source,
        origin="file",
        create_unknown=options.pop("create", True),
        columnar=columnar,
    )
    return counts.as_dict(), outcomes


def test_a_damaged_file_stores_the_same_on_both_paths(two_urls, tmp_path):  # noqa: F811
    kinds = ["good"] * 30 + sorted(DAMAGES) * 2 + ["good"] * 30
    random.Random(3).shuffle(kinds)
    kinds[:0] = ["abandoned, new queue, row path", "abandoned, new queue"]  # queues are made in item order
    path = _damaged(tmp_path / "damaged.csv", kinds, seed=5)
    results = {}
    for name, url in zip(("columnar", "general"), two_urls, strict=True):
        app = make_app(url)
        try:
            results[name] = [
                _import(app, path, "pwc-ddmm", columnar=name == "columnar", zone="Europe/Paris", chunk=9),
                _import(app, path, "pwc-ddmm", columnar=name == "columnar", zone="Europe/Paris", chunk=9),
                _stored(app),
            ]
        finally:
            app.close()
    assert results["columnar"] == results["general"]
    (counts, _), (again, _), stored = results["columnar"]
    assert counts["imported"] > 60 and counts["rejected"] > 10
    assert again["imported"] == 0 and again["duplicate"] == counts["imported"] + counts["duplicate"]
    assert stored["rollups"] and stored["ledger"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kinds=st.lists(KINDS, min_size=1, max_size=30),
    seed=st.integers(0, 1000),
    zone=st.sampled_from(ZONES),
    chunk_size=st.integers(1, 12),
    create=st.booleans(),
)
def test_damaged_files_store_the_same_on_both_paths(tmp_path_factory, kinds, seed, zone, chunk_size, create):
    tmp_path = tmp_path_factory.mktemp("stored")
    path = _damaged(tmp_path / "calls.csv", kinds, seed)
    stored = {}
    for columnar in (True, False):
        app = make_app(f"sqlite:///{tmp_path / str(columnar)}.db")
        try:
            result = _import(
                app, path, "pwc-ddmm", columnar=columnar, zone=zone, chunk=chunk_size, create=create
            )
            stored[columnar] = result, _stored(app)
        finally:
            app.close()
    assert stored[True] == stored[False]


def test_the_real_pwc_files_store_the_same_on_both_paths(two_urls):  # noqa: F811
    """The workbook, then the DD/MM CSV of the same calls (all duplicates), then the CSV again."""
    results = {}
    for name, url in zip(("columnar", "general"), two_urls, strict=True):
        app = make_app(url)
        columnar = name == "columnar"
        try:
            results[name] = [
                _import(
                    app, shared_file("tabular/pwc_call_center_original.xlsx"), "pwc-xlsx", columnar=columnar
                ),
                _import(app, shared_file(REAL_FILES[0][0]), "pwc-ddmm", columnar=columnar),
                _import(app, shared_file(REAL_FILES[0][0]), "pwc-ddmm", columnar=columnar),
                _stored(app),
            ]
        finally:
            app.close()
    assert results["columnar"] == results["general"]
    (workbook, _), (csv_counts, _), (again, _), stored = results["columnar"]
    assert workbook["imported"] == 5000
    assert csv_counts["duplicate"] == 5000 and again["duplicate"] == 5000
    assert len(stored["records"]) == 5000


def test_a_fresh_real_csv_import_stores_the_same_on_both_paths(two_urls):  # noqa: F811
    results = {}
    for name, url in zip(("columnar", "general"), two_urls, strict=True):
        app = make_app(url)
        try:
            results[name] = [
                _import(
                    app, shared_file(REAL_FILES[0][0]), "pwc-ddmm", columnar=name == "columnar", chunk=777
                ),
                _stored(app),
            ]
        finally:
            app.close()
    assert results["columnar"] == results["general"]
    assert results["columnar"][0][0]["imported"] == 5000


@pytest.mark.parametrize(
    ("zone", "day_start"), [("Europe/Paris", "04:00"), ("UTC", "06:30"), ("UTC", "00:00")]
)
def test_program_clocks_decide_business_days_the_same_on_both_paths(tmp_path, zone, day_start):
    """Subjects without a team follow the program's zone and day start; a file read in that zone gives
    its business days from the wall clock, shifted by the day start, as the instants would."""
    program = (Path(__file__).parents[2] / "bot" / "programs" / "default.yaml").read_text(encoding="utf-8")
    program = program.replace("timezone: UTC ", f"timezone: {zone} ").replace(
        'day_starts_at: "00:00"', f'day_starts_at: "{day_start}"'
    )
    assert f"timezone: {zone} " in program and f'"{day_start}"' in program
    program_file = tmp_path / "program.yaml"
    program_file.write_text(program, encoding="utf-8")
    kinds = ["good"] * 60 + ["spring day", "spring gap", "fall back", "new agent"] * 3
    random.Random(11).shuffle(kinds)
    path = _damaged(tmp_path / "calls.csv", kinds, seed=2)
    stored = {}
    for columnar in (True, False):
        app = make_app(f"sqlite:///{tmp_path / str(columnar)}.db", program_file=program_file)
        try:
            result = _import(app, path, "pwc-ddmm", columnar=columnar, zone=app.program.timezone, chunk=10)
            stored[columnar] = result, _stored(app)
        finally:
            app.close()
    assert stored[True] == stored[False]
    assert len(stored[True][1]["records"]) > 60


def test_an_unreadable_row_names_the_same_line_on_both_paths(tmp_path):
    from bot.feeds.tabular import LayoutError

    path = _damaged(tmp_path / "calls.csv", ["good"] * 30, seed=1)
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    lines[25] = lines[25].replace("Streaming", '"' + "x" * 200_000 + '"')
    path.write_text("\r\n".join(lines), encoding="utf-8")
    messages = []
    for columnar in (True, False):
        with pytest.raises(LayoutError) as raised:
            list(parse_file(path, load_mapping("pwc-ddmm"), chunk_size=10, columnar=columnar))
        messages.append(str(raised.value))
    assert messages[0] == messages[1] and "line 26" in messages[0]


@pytest.mark.parametrize(("relative", "mapping_name"), REAL_FILES[1:])
def test_the_other_real_files_store_the_same_on_both_paths(two_urls, relative, mapping_name):  # noqa: F811
    """Composite and line ids, constant instants, pre-aggregated metrics, filters, conditional facts and
    a file zone other than the program's; the second import changes nothing."""
    results = {}
    for name, url in zip(("columnar", "general"), two_urls, strict=True):
        app = make_app(url)
        columnar = name == "columnar"
        try:
            results[name] = [
                _import(app, shared_file(relative), mapping_name, columnar=columnar, chunk=333),
                _import(app, shared_file(relative), mapping_name, columnar=columnar, chunk=333),
                _stored(app),
            ]
        finally:
            app.close()
    assert results["columnar"] == results["general"]
    (first, _), (again, _), stored = results["columnar"]
    assert first["imported"] > 0 and again["imported"] == 0
    assert stored["rollups"]
