"""docs/mappings.md stays true: its complete mapping examples load, and the Genesys one reads its sample."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from bot.feeds.mapping import load_mapping, mapping_from_yaml
from bot.feeds.records import KpiRecord, RowReject, SubjectRef
from bot.feeds.tabular import parse_file, write_rejects
from bot.scoring.metrics import CATALOGUE

DOC = Path(__file__).resolve().parents[2] / "docs" / "mappings.md"


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def complete_examples() -> list[str]:
    return [block for block in yaml_blocks() if block.startswith("description:")]


def test_the_reference_has_complete_examples():
    assert len(complete_examples()) >= 2


@pytest.mark.parametrize("block", complete_examples())
def test_complete_examples_are_valid_mappings(block):
    mapping = mapping_from_yaml(block, file="docs/mappings.md", default_name="example")
    assert mapping.referenced_columns()


def test_the_genesys_example_reads_its_sample_export(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    sample = re.search(r"```\n(Agent Id,.*?)```", text, re.S)
    assert sample is not None
    path = tmp_path / "performance.csv"
    path.write_text(sample.group(1), encoding="utf-8")
    block = next(b for b in complete_examples() if "genesys-performance" in b)
    run = parse_file(path, mapping_from_yaml(block, default_name="genesys"))
    records = [item for batch in run for item in batch]
    assert all(isinstance(r, KpiRecord) for r in records)
    (ana,) = records
    assert ana.subject == SubjectRef("agent", "0b5f…", "Ana Lima")
    assert ana.metrics["aht"] == pytest.approx(((6 * 60 + 12.4) * 38, 38))
    assert ana.metrics["talk_time"] == pytest.approx(((4 * 60 + 55.1) * 38, 38))
    assert ana.metrics["handled"] == (38.0, 38.0)
    assert set(ana.metrics) == {"handled", "aht", "talk_time"}
    assert ana.occurred_at.utcoffset() is not None
    assert run.stats.filtered_by_reason == {"no handled calls in the interval": 1}


def test_the_metric_keys_the_reference_shows_are_catalogue_keys():
    text = DOC.read_text(encoding="utf-8")
    assert "one the program defines" not in text
    assert "DESIGN.md" not in text
    snippets = [block for block in yaml_blocks() if block.startswith("metrics:")]
    assert snippets
    for block in [*snippets, *complete_examples()]:
        keys = set((yaml.safe_load(block) or {}).get("metrics") or {})
        assert keys <= set(CATALOGUE), keys - set(CATALOGUE)


def test_the_rejects_example_is_what_the_import_writes(tmp_path):
    """The rejects file shown in the docs, for rows at lines 3, 5 and 8 of an export."""
    text = DOC.read_text(encoding="utf-8")
    sample = re.search(r"```\n(call_id,.*?floorboard_reason\n.*?)```", text, re.S)
    assert sample is not None
    header, *shown = sample.group(1).splitlines()
    source_header = header.removesuffix(",floorboard_line,floorboard_reason")
    raws = [  # the broken rows as the export has them: a bad date, two fields too many, another delimiter
        "ID0002,Becky,31/02/2021,09:12:58,Technical Support,Y,N,70,00:04:02,3",
        "ID0004,Greg,01/01/2021,09:47:31,Contract related,Y,Y,53,00:00:37,2,extra,cols",
        "ID0007;Diane;01/01/2021;10:22:05;Payment related;Y;Y;24;00:03:40;2",
    ]
    good = "ID0001,Diane,01/01/2021,09:12:58,Contract related,Y,Y,109,00:02:23,3"
    export = tmp_path / "damaged.csv"
    export.write_text(
        "\n".join([source_header, good, raws[0], "ID0003" + good[6:], raws[1], good, good, raws[2]]) + "\n",
        encoding="utf-8",
    )
    run = parse_file(export, load_mapping("pwc-ddmm"))
    rejects = [item for batch in run for item in batch if isinstance(item, RowReject)]
    written = tmp_path / "damaged.rejects.csv"
    write_rejects(written, run, rejects)
    assert written.read_text(encoding="utf-8-sig").splitlines() == [header, *shown]


def test_the_csv_variant_of_pwc_xlsx_imports_a_fixed_workbook_rejects_file(tmp_path):
    source = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tabular"
    workbook_path = source / "pwc_call_center_original.xlsx"
    if not workbook_path.exists():
        pytest.skip(f"real input {workbook_path} is not present")
    workbook = load_workbook(workbook_path)
    sheet = workbook["Sheet1"]
    assert sheet.cell(3, 1).value == "ID0002"
    sheet.cell(3, 3).value = "2021-02-31"
    damaged = tmp_path / "pwc.xlsx"
    workbook.save(damaged)
    run = parse_file(damaged, load_mapping("pwc-xlsx"))
    items = [item for batch in run for item in batch]
    rejects = [item for item in items if isinstance(item, RowReject)]
    assert [(r.line, r.reason) for r in rejects] == [
        (3, "column 'Date': '2021-02-31' does not match any of the formats ['%Y-%m-%d']")
    ]
    written = tmp_path / "pwc.rejects.csv"
    write_rejects(written, run, rejects)
    written.write_text(written.read_text(encoding="utf-8").replace("2021-02-31", "2021-01-01"), "utf-8")

    block = next(b for b in complete_examples() if "PwC workbook rejects" in b)
    (fixed,) = [
        item
        for batch in parse_file(written, mapping_from_yaml(block, default_name="pwc-csv"))
        for item in batch
    ]
    original = next(
        item
        for batch in parse_file(workbook_path, load_mapping("pwc-xlsx"))
        for item in batch
        if isinstance(item, KpiRecord) and item.external_id == "ID0002"
    )
    assert fixed == original
