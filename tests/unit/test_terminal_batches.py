"""`floorboard batches list` rendering: a table that fits 80 columns, with a legend, and JSON."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from bot.services.batches import BatchSummary, list_batches
from bot.terminal.batches import LEGEND, batches_json, batches_table, compact_counts
from tests.unit.test_handlers_world import ratings_records

PWC = BatchSummary(
    1,
    "pwc",
    "file",
    "pwc-xlsx",
    "pwc_call_center_original.xlsx",
    datetime(2021, 4, 1, 12, 0),
    {"read": 5000, "imported": 5000, "duplicate": 0, "rejected": 0, "parked": 0, "filtered": 0},
    None,
)
HOOK = BatchSummary(
    12345,
    "genesys-east-production",
    "webhook",
    None,
    None,
    datetime(2021, 4, 1, 12, 5, tzinfo=UTC),
    {"read": 1000, "imported": 998, "duplicate": 0, "rejected": 1, "parked": 1, "filtered": 0},
    datetime(2021, 4, 2, 8, 0),
)
UNFINISHED = BatchSummary(3, "pwc", "file", "pwc-ddmm", "x.csv", datetime(2021, 4, 1, 13, 0), {}, None)


def rendered(width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(batches_table([PWC, HOOK, UNFINISHED], width))
    return console.export_text().splitlines()


def test_the_table_fits_80_columns_with_short_counts() -> None:
    lines = rendered(80)

    assert max(len(line.rstrip()) for line in lines) <= 80
    assert [line.split() for line in lines[1:]] == [
        ["id", "created", "source", "file", "counts", "voided"],
        ["1", "2021-04-01", "12:00", "pwc", "pwc_call_center_o…", "5000/0/0/0/0"],
        ["12345", "2021-04-01", "12:05", "genesys-…", "webhook", "998/0/1/1/0", "2021-04-02"],
        ["3", "2021-04-01", "13:00", "pwc", "x.csv", "unfinished"],
    ]


def test_only_source_and_file_give_way_on_a_narrow_terminal() -> None:
    lines = rendered(70)

    assert max(len(line.rstrip()) for line in lines) <= 70
    assert lines[2].split() == ["1", "2021-04-01", "12:00", "pwc", "pwc_call_c…", "5000/0/0/0/0"]
    assert lines[3].split() == [
        "12345",
        "2021-04-01",
        "12:05",
        "genes…",
        "webhook",
        "998/0/1/1/0",
        "2021-04-02",
    ]


def test_counts_follow_the_legend() -> None:
    assert LEGEND == "counts: imported/duplicate/rejected/parked/filtered; times in UTC"
    assert (
        compact_counts({"read": 7, "imported": 3, "duplicate": 2, "rejected": 1, "parked": 1}) == "3/2/1/1/0"
    )
    assert compact_counts({}) == "unfinished"


def test_json_has_every_field_with_utc_instants() -> None:
    assert batches_json([PWC, HOOK]) == [
        {
            "id": 1,
            "origin": "file",
            "source": "pwc",
            "mapping": "pwc-xlsx",
            "file": "pwc_call_center_original.xlsx",
            "created_at": "2021-04-01T12:00:00+00:00",
            "finished": True,
            "counts": {
                "read": 5000,
                "imported": 5000,
                "duplicate": 0,
                "rejected": 0,
                "parked": 0,
                "filtered": 0,
            },
            "voided_at": None,
        },
        {
            "id": 12345,
            "origin": "webhook",
            "source": "genesys-east-production",
            "mapping": None,
            "file": None,
            "created_at": "2021-04-01T12:05:00+00:00",
            "finished": True,
            "counts": {
                "read": 1000,
                "imported": 998,
                "duplicate": 0,
                "rejected": 1,
                "parked": 1,
                "filtered": 0,
            },
            "voided_at": "2021-04-02T08:00:00+00:00",
        },
    ]


def test_json_of_stored_batches(app) -> None:
    app.ingest([ratings_records({"Ann Lee": [5, 4]})], source="test", origin="test", create_unknown=True)

    [batch] = batches_json(list_batches(app.engine))

    assert batch["created_at"] == "2021-04-01T12:00:00+00:00"
    assert batch["counts"] == {
        "read": 2,
        "imported": 2,
        "duplicate": 0,
        "rejected": 0,
        "parked": 0,
        "filtered": 0,
    }
