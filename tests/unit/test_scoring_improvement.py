"""Improvement rules: trailing baselines over working or calendar days, direction, samples, floors, caps."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.messages.explain import explain
from bot.program import ProgramError, parse_program
from bot.scoring.daily_points import Gate, day_awards
from bot.scoring.improvement import Baseline, DailySums, ImprovementSpec, Window, reach
from bot.scoring.metrics import SCALE
from bot.services.points import rule_specs

MONDAY = date(2021, 3, 1)


def _aht(seconds: float, calls: int) -> tuple[int, int]:
    return round(seconds * calls * SCALE), calls * SCALE


def _spec(**changes) -> ImprovementSpec:
    base = {
        "rule_id": "aht-improve",
        "metric": "aht",
        "window": Window(28, working=False),
        "per": 10.0,
        "points": 1.0,
        "better": "lower",
        "min_samples": 3,
        "baseline_min_samples": 10,
    }
    return ImprovementSpec(**(base | changes))


def test_calendar_baseline_pools_the_ratio_over_the_days_before():
    days = {
        MONDAY: {"aht": _aht(300, 10)},
        MONDAY + timedelta(days=1): {"aht": _aht(400, 30)},
        MONDAY + timedelta(days=5): {"aht": _aht(500, 2)},
    }
    sums = DailySums(days)
    baseline = sums.baseline("aht", MONDAY + timedelta(days=5), Window(28, working=False))
    # pooled: (300×10 + 400×30) / 40 = 375, not the mean of the daily means (350)
    assert baseline.value("aht") == 375
    assert (baseline.den // SCALE, baseline.days) == (40, 2)
    # a 5-day window ending the day before day 6 starts on day 1: Monday falls out
    short = sums.baseline("aht", MONDAY + timedelta(days=6), Window(5, working=False))
    assert short.value("aht") == (400 * 30 + 500 * 2) / 32
    assert short.days == 2


def test_working_day_baseline_skips_days_without_data():
    worked = [MONDAY + timedelta(days=offset) for offset in (0, 1, 9, 20, 21)]
    sums = DailySums({day: {"aht": _aht(100 * (i + 1), 10)} for i, day in enumerate(worked)})
    baseline = sums.baseline("aht", worked[4], Window(2, working=True))
    assert baseline.value("aht") == (300 + 400) / 2  # the two working days before, 11 calendar days apart
    assert baseline.days == 2
    first = sums.baseline("aht", worked[0], Window(2, working=True))
    assert (first.num, first.den, first.days) == (0, 0, 0)
    assert first.value("aht") is None


def test_a_total_baselines_on_its_mean_per_working_day():
    sums = DailySums(
        {
            MONDAY: {"handled": (40 * SCALE, 40 * SCALE)},
            MONDAY + timedelta(days=2): {"handled": (20 * SCALE,) * 2},
        }
    )
    assert (
        sums.baseline("handled", MONDAY + timedelta(days=3), Window(28, working=False)).value("handled") == 30
    )


def test_reach_finds_the_days_whose_window_holds_a_touched_day():
    worked = [MONDAY + timedelta(days=offset) for offset in (0, 2, 3, 10, 40)]
    assert reach(worked, MONDAY, Window(2, working=True)) == worked[1:3]
    assert reach(worked, MONDAY, Window(10, working=False)) == worked[1:4]
    assert reach(worked, MONDAY + timedelta(days=5), Window(3, working=True)) == worked[3:5]


def test_points_follow_the_metrics_direction_at_the_stated_unit():
    rule = _spec()
    baseline = Baseline(*_aht(340, 410), 20)
    [award] = day_awards([rule], {"aht": _aht(312, 20)}, 2, baselines={("aht", "calendar:28"): baseline})
    assert award.amount == 280  # 28 s better at 1 pt per 10 s
    assert award.template == "points.improvement"
    assert explain(award.template, award.inputs) == (
        "AHT 5m 12s over 20 contacts vs your 28-day baseline 5m 40s over 410 contacts: "
        "28 s better, 2.8 pts at 1 pt per 10 s, rule aht-improve, program v2"
    )
    # worse than the baseline earns nothing (never negative)
    assert day_awards([rule], {"aht": _aht(350, 20)}, 2, baselines={("aht", "calendar:28"): baseline}) == []


def test_a_higher_better_fraction_per_percentage_point_with_a_cap():
    rule = _spec(
        rule_id="fcr-improve", metric="fcr", better="higher", per=0.01, points=2.0, cap=5.0,
        window=Window(20, working=True),
    )  # fmt: skip
    baseline = Baseline(70 * SCALE, 100 * SCALE, 12)
    keyed = {("fcr", "working:20"): baseline}
    [award] = day_awards([rule], {"fcr": (18 * SCALE, 25 * SCALE)}, 1, baselines=keyed)
    assert award.amount == 400  # 72% vs 70%: 2 percentage points × 2 pts
    [capped] = day_awards([rule], {"fcr": (20 * SCALE, 25 * SCALE)}, 1, baselines=keyed)
    assert capped.amount == 500  # 80%: 20 pts, capped at 5
    assert explain(capped.template, capped.inputs).endswith(
        "10 percentage points better, 5 pts at 2 pts per 1 percentage point, rule fcr-improve, program v1"
        " (capped by the rule from 20 pts)"
    )


def test_samples_floor_and_gates_hold_back_points():
    baseline = {("aht", "calendar:28"): Baseline(*_aht(340, 410), 20)}
    assert day_awards([_spec()], {"aht": _aht(300, 2)}, 1, baselines=baseline) == []  # 2 < 3 calls
    thin = {("aht", "calendar:28"): Baseline(*_aht(340, 9), 2)}
    assert day_awards([_spec()], {"aht": _aht(300, 5)}, 1, baselines=thin) == []  # baseline 9 < 10
    assert day_awards([_spec(floor=120.0)], {"aht": _aht(100, 5)}, 1, baselines=baseline) == []
    gated = _spec(gates=(Gate("csat", 2, gte=4.0),))
    sad = {"aht": _aht(300, 5), "csat": (6 * SCALE, 2 * SCALE)}
    assert day_awards([gated], sad, 1, baselines=baseline) == []
    happy = {"aht": _aht(300, 5), "csat": (9 * SCALE, 2 * SCALE)}
    [award] = day_awards([gated], happy, 1, baselines=baseline)
    assert award.amount == 400
    assert "gate held: CSAT 4.50 ≥ 4.00" in explain(award.template, award.inputs)


@given(
    better=st.sampled_from(["higher", "lower"]),
    base=st.integers(100, 600),
    first=st.integers(100, 600),
    second=st.integers(100, 600),
)
def test_improvement_points_are_monotone_in_the_metrics_direction(better, base, first, second):
    rule = _spec(better=better, baseline_min_samples=1)
    baseline = {("aht", "calendar:28"): Baseline(*_aht(base, 50), 20)}

    def points(value: int) -> int:
        return sum(a.amount for a in day_awards([rule], {"aht": _aht(value, 10)}, 1, baselines=baseline))

    low, high = sorted((first, second))
    if better == "higher":
        assert points(low) <= points(high)
    else:
        assert points(low) >= points(high)


def test_program_file_improvement_rules_and_their_errors():
    program = parse_program(
        "metrics: {aht: {min_samples: 5, floor: 120, weight: 2}}\n"
        "points:\n"
        "  - id: aht-improve\n"
        "    metric: aht\n"
        "    improvement: {baseline_days: 20, baseline: calendar_days, per: 10, points: 1, cap: 8}\n"
        "    gate: {csat: {gte: 3.8}}\n",
        "p.yaml",
    ).program
    [spec] = rule_specs(program)
    assert spec == ImprovementSpec(
        "aht-improve", "aht", Window(20, working=False), 10.0, 1.0, "lower", 5, 5, 120.0, None, 2.0,
        (Gate("csat", 1, 3.8, None),), 8.0,
    )  # fmt: skip
    with pytest.raises(ProgramError) as error:
        parse_program(
            "points:\n"
            "  - {id: csat-day, metric: csat, zones: [[3, 0], [5, 10]]}\n"
            "  - metric: fcr\n"
            "    improvement:\n"
            "      baseline: fortnight\n"
            "      per: 0\n",
            "bad.yaml",
        )
    assert str(error.value).splitlines() == [
        "bad.yaml:5: points.1.improvement.baseline: 'fortnight' is not known; choose one of 'working_days' or"
        " 'calendar_days'",
        "bad.yaml:6: points.1.improvement.per: Input should be greater than 0",
        "bad.yaml:5: points.1.improvement.points: Field required",
    ]
    with pytest.raises(ProgramError, match="repeated: \\['fcr-improvement'\\]"):
        parse_program(
            "points:\n"
            "  - {metric: fcr, improvement: {per: 0.01, points: 1}}\n"
            "  - {metric: fcr, improvement: {per: 0.01, points: 2}}\n",
            "dup.yaml",
        )


def test_the_documented_improvement_example_is_a_valid_program():
    text = (Path(__file__).parents[2] / "docs" / "program.md").read_text(encoding="utf-8")
    section = text.split("## `points`: improvement rules", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    program = parse_program(example, "docs/program.md").program
    specs = {spec.rule_id: spec for spec in rule_specs(program)}
    assert specs["aht-improve"] == ImprovementSpec(
        "aht-improve", "aht", Window(28, working=True), 10.0, 1.0, "lower", 10, 10, 120.0, None, 1.0,
        (Gate("csat", 5, 3.8, None),), 10.0,
    )  # fmt: skip
    assert specs["fcr-improve"].window == Window(20, working=False)
    assert (specs["csat-improve"].per, specs["csat-improve"].baseline_min_samples) == (0.1, 30)
