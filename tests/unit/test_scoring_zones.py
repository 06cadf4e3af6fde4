from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.program import Program
from bot.scoring.daily_points import day_awards
from bot.scoring.metrics import CATALOGUE, SCALE
from bot.scoring.zones import hundredths, zone_points
from bot.services.points import rule_specs

CSAT = [(3.5, 0.0), (4.2, 10.0), (4.8, 20.0)]
AHT = [(600.0, 0.0), (420.0, 10.0), (300.0, 15.0)]


def test_linear_between_zone_points():
    score = zone_points(4.31, CSAT)
    assert score.points == pytest.approx(10 + (4.31 - 4.2) / 0.6 * 10)
    assert score.lower == (4.2, 10.0) and score.upper == (4.8, 20.0)


def test_flat_beyond_the_ends():
    assert zone_points(2.0, CSAT).points == 0
    assert zone_points(5.0, CSAT).points == 20


def test_lower_better_zones_and_floor():
    assert zone_points(360, AHT).points == pytest.approx(12.5)
    assert zone_points(100, AHT, floor=120).points == 0
    assert zone_points(130, AHT, floor=120).points == 15


def test_ceiling_earns_nothing_above():
    assert zone_points(4.9, CSAT, ceiling=4.85).points == 0


@given(st.floats(min_value=0, max_value=10), st.floats(min_value=0, max_value=10))
def test_higher_better_zone_is_monotone(a, b):
    low, high = sorted((a, b))
    assert zone_points(low, CSAT).points <= zone_points(high, CSAT).points


@given(st.floats(min_value=0, max_value=2000), st.floats(min_value=0, max_value=2000))
def test_lower_better_zone_is_monotone_without_floor(a, b):
    low, high = sorted((a, b))
    assert zone_points(low, AHT).points >= zone_points(high, AHT).points


@pytest.mark.parametrize(("points", "expected"), [(11.8, 1180), (0.005, 1), (-9.18, -918), (0.0, 0)])
def test_hundredths_round_half_away_from_zero(points, expected):
    assert hundredths(points) == expected


# --- every zone rule the validator accepts is monotone in its metric's direction (DESIGN.md §5) -----------

AGENT_METRICS = ("csat", "aht", "fcr", "handled", "talk_time", "asa", "nps", "adherence")
decimals = st.integers(min_value=0, max_value=100_000).map(lambda n: n / 100)  # 0 … 1000, in hundredths


@st.composite
def zone_programs(draw: st.DrawFn) -> tuple[dict, str]:
    """A program with one day zone rule the validator should accept: zones rising in the better direction
    (flat stretches allowed), any declared direction, an optional floor, ceiling, weight and cap."""
    metric = draw(st.sampled_from(AGENT_METRICS))
    declared = draw(st.sampled_from([None, "higher", "lower"]))
    better = declared or CATALOGUE[metric].better
    values = sorted(draw(st.lists(decimals, min_size=2, max_size=5, unique=True)))
    points = sorted(draw(st.lists(st.integers(-50, 200), min_size=len(values), max_size=len(values))))
    if better == "lower":
        points.reverse()  # the shortest handle time gets the most points
    zones = list(zip(values, [p / 4 for p in points], strict=True))
    draw(st.randoms()).shuffle(zones)  # order in the file does not matter
    policy: dict = {"min_samples": 1, "weight": draw(st.sampled_from([0, 0.5, 1, 2, 3.75]))}
    if declared:
        policy["better"] = declared
    floor = draw(st.none() | decimals)
    ceiling = draw(st.none() | decimals)
    if floor is not None and ceiling is not None and floor > ceiling:
        floor, ceiling = ceiling, floor
    policy |= {key: bound for key, bound in (("floor", floor), ("ceiling", ceiling)) if bound is not None}
    rule: dict = {"id": "rule", "metric": metric, "zones": [list(zone) for zone in zones]}
    if draw(st.booleans()):
        rule["cap"] = draw(st.integers(1, 60))
    return {"metrics": {metric: policy}, "points": [rule]}, better


def _day_points(program: Program, metric: str, value: float) -> int:
    """What the scorer pays for one day at `value` (one sample), in hundredths."""
    pair = (round(value * SCALE), SCALE)
    return sum(award.amount for award in day_awards(rule_specs(program), {metric: pair}, 1))


@given(zone_programs(), decimals, decimals)
@settings(max_examples=300)
def test_every_accepted_zone_rule_pays_a_better_value_at_least_as_much(generated, a, b):
    data, better = generated
    program = Program.model_validate(data)  # the validator accepts every monotone table
    [metric] = program.metrics
    policy = program.policy(metric)
    worse, best = sorted((a, b), reverse=better == "lower")
    inside = [
        v
        for v in (worse, best)
        if (policy.floor is None or v >= policy.floor) and (policy.ceiling is None or v <= policy.ceiling)
    ]
    paid = {v: _day_points(program, metric, v) for v in (worse, best)}
    if len(inside) == 2:
        assert paid[best] >= paid[worse]
    for v in {worse, best} - set(inside):  # past a floor or ceiling a value earns nothing at all
        assert paid[v] == 0


@given(
    st.sampled_from(AGENT_METRICS),
    st.sampled_from([None, "higher", "lower"]),
    st.lists(st.tuples(decimals, st.integers(-20, 20)), min_size=2, max_size=5, unique_by=lambda z: z[0]),
)
def test_the_validator_refuses_exactly_the_tables_that_pay_a_worse_value_more(metric, declared, zones):
    better = declared or CATALOGUE[metric].better
    by_value = [points for _, points in sorted(zones)]
    rising = all(x <= y for x, y in pairwise(by_value))
    falling = all(x >= y for x, y in pairwise(by_value))
    monotone = rising if better == "higher" else falling
    policy = {"better": declared} if declared else {}
    data = {"metrics": {metric: policy}, "points": [{"metric": metric, "zones": [list(z) for z in zones]}]}
    try:
        Program.model_validate(data)
        accepted = True
    except ValidationError as error:
        assert [problem["loc"] for problem in error.errors()] == [("points", 0, "zones")]
        accepted = False
    assert accepted == monotone
