"""Mapping files: the shipped ones load, and validation errors name the file, key path and line."""

from __future__ import annotations

import textwrap

import pytest

from bot.feeds.mapping import Mapping, MappingError, list_mappings, load_mapping, mapping_from_yaml
from bot.scoring.metrics import CATALOGUE

MINIMAL = """
description: test layout
source: test
external_id: "{id}"
occurred_at: when
subject: {agent: agent, queue: {column: queue}}
facts:
  answered: {when: {column: outcome, equals: AGENT}}
  wait: wait
"""


def load(text: str) -> Mapping:
    return mapping_from_yaml(textwrap.dedent(text), file="test.yaml", default_name="test")


def error_of(text: str) -> MappingError:
    with pytest.raises(MappingError) as caught:
        load(text)
    return caught.value


def test_the_shipped_mappings():
    mappings = list_mappings()
    names = [m.name for m in mappings]
    assert names == sorted(names)
    assert {"pwc-xlsx", "pwc-ddmm", "technion", "kaggle-sales-rep", "kaggle-daily"} <= set(names)
    for mapping in mappings:
        assert mapping.description.strip()
        assert mapping.create_unknown_agents is True
    by_name = {m.name: m for m in mappings}
    assert by_name["pwc-xlsx"].source == by_name["pwc-ddmm"].source == "pwc"
    assert by_name["pwc-xlsx"].timezone is None
    assert by_name["pwc-ddmm"].timezone is None
    assert by_name["technion"].timezone == "Asia/Jerusalem"
    assert "handle" not in by_name["pwc-ddmm"].facts


def test_load_by_name_and_by_path(tmp_path):
    assert load_mapping("technion").name == "technion"
    path = tmp_path / "mine.yaml"
    path.write_text(MINIMAL)
    mapping = load_mapping(str(path))
    assert mapping.name == "mine"
    assert mapping.create_unknown_agents is False


def test_an_unknown_shipped_name_lists_the_shipped_ones():
    with pytest.raises(MappingError, match=r"no shipped mapping named 'nope' \(shipped: .*pwc-ddmm"):
        load_mapping("nope")


def test_implied_column_types():
    mapping = load(MINIMAL)
    assert mapping.column_spec("when").type == "datetime"
    assert mapping.column_spec("wait").type == "duration"
    assert mapping.column_spec("outcome").type == "text"
    assert mapping.template_columns() == ["id"]


def test_unknown_keys_name_their_path_and_line():
    error = error_of(
        """
        description: d
        source: s
        external_id: "{id}"
        occurred_at: when
        subject: {agent: a, queue: {column: q}}
        facts:
          answered:
            when: {all: [{column: o, equals: A}, {column: q, eq: 1}]}
        """
    )
    assert error.path == ("facts", "answered", "when", "all", 1, "eq")
    assert error.line == 9
    assert str(error) == "test.yaml:9, facts.answered.when.all[1].eq: unknown key 'eq'"


def test_a_declared_type_that_does_not_fit_its_use():
    error = error_of(
        """
        description: d
        source: s
        columns:
          when: {type: number}
        external_id: "{id}"
        occurred_at: when
        subject: {agent: a}
        facts: {wait: w}
        """
    )
    assert error.path == ("occurred_at", "column")
    assert error.line == 7
    assert "declared as number, but a date-time needs date or datetime" in str(error)


@pytest.mark.parametrize(
    ("snippet", "path", "message"),
    [
        ("facts: {speed: w}", ("facts", "speed"), "unknown fact 'speed'"),
        ("facts: {answered: {value: 3}}", ("facts", "answered", "value"), "yes/no fact"),
        ("facts: {rating: {when: {column: x, equals: 1}}}", ("facts", "rating", "when"), "not a yes/no fact"),
        ("facts: {wait: {column: w, value: 3}}", ("facts", "wait"), "exactly one of column, value or when"),
        ("facts: {answered: {when: {column: o}}}", ("facts", "answered", "when"), "exactly one operator"),
        ("facts: {answered: {when: {all: []}}}", ("facts", "answered", "when"), "at least one condition"),
        (
            "facts: {answered: {when: {column: o, in: [A], equals: B}}}",
            ("facts", "answered", "when"),
            "found",
        ),
        ("metrics: {asa: {mean: m}}", ("metrics", "asa"), "either {mean, weight} or {num, den}"),
        ("facts: {}", ("facts",), "needs facts, metrics or both"),
    ],
)
def test_derivation_errors(snippet, path, message):
    text = f"""
description: d
source: s
external_id: "{{id}}"
occurred_at: when
subject: {{agent: a, queue: {{value: main}}}}
{snippet}
"""
    with pytest.raises(MappingError) as caught:
        mapping_from_yaml(text, file="t.yaml", default_name="t")
    assert caught.value.path[: len(path)] == path
    assert message in str(caught.value)
    assert caught.value.line == 7


def test_metric_keys_must_be_metrics_of_the_catalogue():
    error = error_of(
        """
        description: d
        source: s
        external_id: "{id}"
        occurred_at: when
        subject: {agent: a}
        metrics:
          handled: {num: Answered, den: Answered}
          hold_rate: {num: Held, den: Answered}
        """
    )
    assert error.path == ("metrics", "hold_rate")
    assert error.line == 9
    assert str(error) == (
        "test.yaml:9, metrics.hold_rate: unknown metric 'hold_rate'; the metrics are " + ", ".join(CATALOGUE)
    )
    assert ", ".join(CATALOGUE).startswith("handled, aht, talk_time, asa, fcr, csat, nps, abandon_rate")
    assert set(load(MINIMAL.replace("facts:", "metrics: {aht: {mean: m, weight: w}}\nfacts:")).metrics) == {
        "aht"
    }


def test_answered_facts_need_a_queue_for_the_unanswered():
    error = error_of(
        """
        description: d
        source: s
        external_id: "{id}"
        occurred_at: when
        subject: {agent: a}
        facts: {answered: x}
        """
    )
    assert error.path == ("subject", "queue")
    assert error.line == 6


def test_condition_literals_are_checked_against_the_column_type():
    error = error_of(
        """
        description: d
        source: s
        columns:
          w: {type: duration}
        external_id: "{id}"
        occurred_at: when
        subject: {agent: a}
        facts:
          wait: w
          talk: {column: t, only_when: {column: w, gt: abc}}
        """
    )
    assert error.path == ("facts", "talk", "only_when", "gt")
    assert error.line == 11
    assert "'abc' is not a number" in str(error)


@pytest.mark.parametrize(
    ("snippet", "path", "message"),
    [
        ("timezone: Mars/Olympus", ("timezone",), "unknown time zone 'Mars/Olympus'"),
        ("encoding: klingon", ("encoding",), "unknown encoding"),
        ('external_id: "{id"', ("external_id",), "unbalanced '{'"),
        ('external_id: "{_row}"', ("external_id",), "unknown built-in {_row}"),
        ("columns: {d: {type: date, formats: ['%d/%Q/%Y']}}", ("columns", "d", "formats"), "bad directive"),
        ("columns: {d: {type: text, unit: seconds}}", ("columns", "d"), "unit applies to duration"),
        ("columns: {d: {type: duration, unit: fortnights}}", ("columns", "d"), "not one of"),
        ("columns: {d: {type: bool, truthy: [Y], falsy: [y]}}", ("columns", "d"), "both truthy and falsy"),
        ("format: parquet", ("format",), "csv"),
        ("source: 'has space'", ("source",), "pattern"),
    ],
)
def test_parsing_option_errors(snippet, path, message):
    base = {
        "description": "d",
        "source": "s",
        "external_id": '"{id}"',
        "occurred_at": "when",
        "subject": "{agent: a}",
        "facts": "{wait: w}",
    }
    base.pop(snippet.split(":")[0], None)
    text = "".join(f"{key}: {value}\n" for key, value in base.items()) + snippet + "\n"
    with pytest.raises(MappingError) as caught:
        mapping_from_yaml(text, file="t.yaml", default_name="t")
    assert caught.value.path[: len(path)] == path
    assert message in str(caught.value)
    assert caught.value.line is not None


def test_yaml_syntax_errors_and_duplicate_keys_have_lines():
    broken = error_of("description: d\nsource: s\n external_id: x\n")
    assert broken.line == 3
    duplicate = error_of("description: d\nsource: s\nsource: t\n")
    assert duplicate.line == 3
    assert "duplicate key 'source'" in str(duplicate)


def test_yaml_1_2_scalars_keep_texts_as_texts():
    mapping = load(
        """
        description: d
        source: s
        null_tokens: [n/a, no]
        columns:
          flag: {type: bool, truthy: [yes, on, Y], falsy: [off, N]}
          q_start: {type: time, sentinels: [1:30:00, 010]}
        external_id: "{id}"
        occurred_at: {date: day, time: q_start}
        subject: {agent: a}
        facts: {resolved: flag}
        """
    )
    assert mapping.null_tokens == ["n/a", "no"]
    assert mapping.column_spec("flag").truthy == ["yes", "on", "Y"]
    assert mapping.column_spec("q_start").sentinels == ["1:30:00", "10"]


def test_a_mapping_file_that_is_not_a_mapping():
    with pytest.raises(MappingError, match="must be a YAML mapping"):
        mapping_from_yaml("- a\n- b\n", file="list.yaml")


def test_an_unreadable_mapping_file(tmp_path):
    with pytest.raises(MappingError, match="cannot read the mapping file"):
        load_mapping(str(tmp_path / "absent.yaml"))
