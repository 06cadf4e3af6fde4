import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.scoring.progression import coins_earned, level_of, xp_for


def test_the_documented_curve():
    assert [xp_for(n, 100, 1.5) for n in (1, 2, 3, 4, 5)] == [0, 10_000, 28_284, 51_962, 80_000]
    assert level_of(0, 100, 1.5).level == 1
    assert level_of(9_999, 100, 1.5).level == 1
    assert level_of(10_000, 100, 1.5).level == 2
    at = level_of(45_028, 100, 1.5)
    assert (at.level, at.to_next) == (3, 51_962 - 45_028)


def test_coins_round_down_on_the_running_total_so_the_remainder_carries():
    assert coins_earned(45_028, 0.1) == 4_502
    days = [55] * 10  # ten days of 0.55 points at 0.1 coins a point: 0.055 coins a day
    assert sum(coins_earned(day, 0.1) for day in days) == 50  # rounding each day loses 0.005 a day
    assert coins_earned(sum(days), 0.1) == 55  # the running total carries it: 0.55 coins
    assert coins_earned(-500, 0.1) == 0


@pytest.mark.parametrize("rate", [0.1, 0.25, 1, 0.333333, 2.5])
def test_coins_are_exact_integers(rate):
    for points in (0, 1, 99, 12_345, 10**9):
        coins = coins_earned(points, rate)
        assert isinstance(coins, int)
        assert coins <= points * rate + 1e-6


@given(st.integers(0, 10**7), st.integers(0, 10**7))
def test_levels_never_go_down_as_xp_grows(a, b):
    low, high = sorted((a, b))
    assert level_of(low, 100, 1.5).level <= level_of(high, 100, 1.5).level


def test_the_top_level_has_nothing_more_to_reach():
    top = level_of(10**13, 100, 1.5)  # 100 billion points: far past level 1000 (3.16 million points)
    assert (top.level, top.top, top.to_next) == (1000, True, 0)
    below = level_of(xp_for(1000, 100, 1.5) - 1, 100, 1.5)
    assert (below.level, below.top, below.to_next) == (999, False, 1)
