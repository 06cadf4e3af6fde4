from hypothesis import given
from hypothesis import strategies as st

from bot.scoring.ranking import competition_ranks


def test_ties_share_a_rank_and_the_next_rank_skips():
    ranked = competition_ranks([("a", 5), ("b", 7), ("c", 7), ("d", 1)], key=lambda x: x[1], descending=True)
    assert [(rank, name) for rank, (name, _) in ranked] == [(1, "b"), (1, "c"), (3, "a"), (4, "d")]


def test_lower_is_better_ranks_ascending():
    ranked = competition_ranks([300.0, 120.0, 300.0], key=lambda x: x, descending=False)
    assert [rank for rank, _ in ranked] == [1, 2, 2]


@given(st.lists(st.integers(min_value=-5, max_value=5), max_size=40), st.booleans())
def test_ranks_are_a_permutation_with_ties_sharing(values, descending):
    ranked = competition_ranks(values, key=lambda v: v, descending=descending)
    assert sorted(v for _, v in ranked) == sorted(values)
    for position, (rank, value) in enumerate(ranked, start=1):
        better = [v for v in values if (v > value if descending else v < value)]
        assert rank == len(better) + 1
        assert rank <= position
