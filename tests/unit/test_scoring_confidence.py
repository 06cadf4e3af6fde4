import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.scoring.confidence import bayesian_average, method_label, population_mean


def test_one_five_star_survey_does_not_beat_a_long_record():
    prior = 3.4
    lucky = bayesian_average(5.0, 1, prior, 10)
    steady = bayesian_average(4.1, 120, prior, 10)
    assert lucky == pytest.approx((10 * 3.4 + 5.0) / 11)
    assert steady == pytest.approx((10 * 3.4 + 120 * 4.1) / 130)
    assert steady > lucky


def test_population_mean_is_weighted_by_samples():
    assert population_mean([(5.0, 1), (3.0, 3)]) == pytest.approx(3.5)
    assert population_mean([]) is None


def test_labels_say_how_a_board_ranked():
    assert method_label("raw", 10, 3.4) == "raw"
    assert method_label("bayesian", 10, 3.40386) == "bayesian(prior_weight=10, prior_mean=3.40386)"


@given(
    st.floats(min_value=0, max_value=5),
    st.integers(min_value=0, max_value=10_000),
    st.floats(min_value=0, max_value=5),
    st.floats(min_value=0, max_value=100),
)
def test_the_adjusted_value_lies_between_the_prior_and_the_agent(value, samples, prior, weight):
    adjusted = bayesian_average(value, samples, prior, weight)
    assert min(value, prior) - 1e-9 <= adjusted <= max(value, prior) + 1e-9


@given(st.floats(min_value=0, max_value=5), st.floats(min_value=0, max_value=5), st.integers(1, 500))
def test_more_samples_move_closer_to_the_agents_own_value(value, prior, samples):
    nearer = bayesian_average(value, samples + 1, prior, 10)
    farther = bayesian_average(value, samples, prior, 10)
    assert abs(nearer - value) <= abs(farther - value) + 1e-12
