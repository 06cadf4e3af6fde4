import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.scoring.zones import hundredths, zone_points

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
