"""Zone rules over a period: pooled value, min_samples and gates over the period, a cap per period."""

from datetime import date

import pytest

from bot.program import ProgramError, parse_program
from bot.scoring.daily_points import Gate, RuleSpec, day_awards, period_awards
from bot.scoring.metrics import SCALE
from bot.scoring.periods import Period
from bot.services.period_points import period_specs

CSAT = RuleSpec("csat-month", "csat", ((3.0, 0.0), (4.0, 50.0)), min_samples=20)
JAN = (date(2021, 1, 1), date(2021, 1, 31))


def _ratings(total: int, surveys: int) -> tuple[int, int]:
    return total * SCALE, surveys * SCALE


def test_min_samples_counts_the_period_not_a_day():
    day = {"csat": _ratings(36, 10)}  # 3.6 over 10 surveys: below 20 on its own
    assert day_awards([CSAT], day, 1) == []
    month = {"csat": _ratings(36 + 38, 20)}  # two such days pooled: 74 / 20 = 3.7
    [award] = period_awards([CSAT], month, 1, "month", *JAN)
    assert award.amount == 3500  # (3.7 - 3.0) / 1.0 × 50 = 35 pts
    assert (award.inputs["period"], award.inputs["start"], award.inputs["end"]) == (
        "month",
        "2021-01-01",
        "2021-01-31",
    )
    assert award.inputs["samples"] == 20


def test_gates_read_the_period_and_the_cap_is_per_period():
    gated = RuleSpec(
        "handled-week", "handled", ((0.0, 0.0), (100.0, 40.0)), 1, gates=(Gate("fcr", 1, gte=0.9),), cap=30
    )
    week = {"handled": (80 * SCALE, 80 * SCALE), "fcr": (71 * SCALE, 80 * SCALE)}  # FCR 0.8875
    assert period_awards([gated], week, 1, "week", date(2021, 1, 4), date(2021, 1, 10)) == []
    week["fcr"] = (76 * SCALE, 80 * SCALE)  # 0.95
    [award] = period_awards([gated], week, 1, "week", date(2021, 1, 4), date(2021, 1, 10))
    assert (award.amount, award.inputs["uncapped"], award.inputs["cap"]) == (3000, 32.0, "rule_cap")


def test_the_program_takes_week_month_and_quarter_and_names_a_bad_period():
    program = parse_program(
        "points:\n"
        "  - {metric: csat, period: month, zones: [[3, 0], [4, 50]]}\n"
        "  - {metric: handled, period: week, zones: [[0, 0], [100, 40]]}\n"
        "  - {metric: csat, zones: [[3, 0], [4, 10]]}\n",
        "p.yaml",
    ).program
    assert [rule.rule_id for rule in program.points] == ["csat-month", "handled-week", "csat-day"]
    assert [spec.rule_id for spec in period_specs(program, Period.MONTH)] == ["csat-month"]
    assert period_specs(program, Period.QUARTER) == []
    with pytest.raises(ProgramError, match=r"p.yaml:2: points.0.period: 'year' is not known"):
        parse_program("points:\n  - {metric: csat, period: year, zones: [[3, 0], [4, 50]]}\n", "p.yaml")
