import pytest

from bot.program import ProgramError, load_program, parse_program

BAD = """\
timezone: Mars/Base
metrics:
  happiness: {target: 3}
  csat: {min_samples: 0}
points:
  - {id: a, metric: nosuch, zones: [[1, 0], [2, 5]]}
  - {id: a, metric: csat, zones: [[1, 0], [2, 5]]}
  - {id: kudos, metric: fcr, zones: [[1, 0]]}
kudos:
  values: [Team Work, "#x", ok]
leaderboard: {default_metric: foo}
"""


def test_every_problem_is_reported_at_once_with_line_and_key():
    with pytest.raises(ProgramError) as caught:
        parse_program(BAD, "bad.yaml")
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("bad.yaml:1: timezone: unknown time zone 'Mars/Base'")
    assert any(line.startswith("bad.yaml:3: metrics.happiness: 'happiness' is not known") for line in lines)
    assert any(line.startswith("bad.yaml:4: metrics.csat.min_samples:") for line in lines)
    assert any(line.startswith("bad.yaml:6: points.0.metric: 'nosuch' is not known") for line in lines)
    assert any(line.startswith("bad.yaml:8: points.2.zones:") for line in lines)
    assert sum(line.startswith("bad.yaml:10: kudos.values.") for line in lines) == 2
    assert any(line.startswith("bad.yaml:11: leaderboard.default_metric: 'foo'") for line in lines)
    assert any("rule ids must be unique; repeated: ['a']" in line for line in lines)
    assert len(lines) == 9


def test_reserved_rule_ids_are_refused():
    text = "points:\n  - {id: kudos, metric: csat, zones: [[3, 0], [5, 10]]}\n"
    with pytest.raises(ProgramError, match="reserved for kudos"):
        parse_program(text, "p.yaml")


def test_the_default_program_is_valid_and_weekdays_are_names():
    program = load_program(None).program
    assert program.week_starts_on == "monday"
    assert {rule.rule_id for rule in program.points} >= {"csat-day", "aht-day"}
    with pytest.raises(ProgramError, match="weekday name"):
        parse_program("week_starts_on: Mon\n", "p.yaml")


def test_not_yaml_and_not_a_mapping():
    with pytest.raises(ProgramError, match="not valid YAML"):
        parse_program("metrics: [\n", "p.yaml")
    with pytest.raises(ProgramError, match="must be a mapping"):
        parse_program("- a\n- b\n", "p.yaml")


def test_a_stored_version_loads_though_a_later_check_refuses_it():
    """History stays readable: what an older release stored is not checked again by the newer rules."""
    text = "name: A\nname: B\npoints:\n  - {id: aht-day, metric: aht, zones: [[300, 0], [600, 15]]}\n"
    with pytest.raises(ProgramError) as caught:
        parse_program(text, "program.yaml")
    assert [line.split(": ")[1] for line in str(caught.value).splitlines()] == ["name", "points.0.zones"]
    stored = parse_program(text, "v1", stored=True).program
    assert (stored.name, stored.points[0].zones) == ("B", [(300.0, 0.0), (600.0, 15.0)])
