"""docs/mappings.md stays true: its complete mapping examples load, and the Genesys one reads its sample."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.feeds.mapping import mapping_from_yaml
from bot.feeds.records import KpiRecord, SubjectRef
from bot.feeds.tabular import parse_file

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
    assert ana.metrics["hold_rate"] == (9.0, 38.0)
    assert ana.occurred_at.utcoffset() is not None
    assert run.stats.filtered_by_reason == {"no handled calls in the interval": 1}
