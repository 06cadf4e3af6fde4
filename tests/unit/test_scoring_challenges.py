"""Challenge arithmetic: ranks with ties, goals, gates, improvement in either direction."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.scoring.challenges import Entrant, GateRule, Rules, standings


def _ranks(result: list) -> dict[int, tuple[int | None, str, bool]]:
    return {s.key: (s.rank, s.status, s.goal_met) for s in result}


def test_top_n_includes_everyone_tied_at_the_last_place() -> None:
    entrants = [Entrant(1, 0.91, 50), Entrant(2, 0.88, 50), Entrant(3, 0.88, 50), Entrant(4, 0.80, 50)]
    result = standings(entrants, Rules("higher", "top", 2, 10))
    assert _ranks(result) == {
        1: (1, "ranked", True),
        2: (2, "ranked", True),
        3: (2, "ranked", True),
        4: (4, "ranked", False),
    }


def test_lower_is_better_ranks_ascending_and_absolute_goal_is_a_ceiling() -> None:
    entrants = [Entrant(1, 310.0, 40), Entrant(2, 280.0, 40), Entrant(3, 300.0, 40)]
    result = standings(entrants, Rules("lower", "absolute", 300, 10))
    assert [s.key for s in result] == [2, 3, 1]
    assert _ranks(result) == {2: (1, "ranked", True), 3: (2, "ranked", True), 1: (3, "ranked", False)}


def test_improvement_is_against_each_ones_baseline_in_the_metric_direction() -> None:
    entrants = [
        Entrant(1, 220.0, 40, baseline=230.0),  # 10 s faster
        Entrant(2, 200.0, 40, baseline=204.0),  # 4 s faster, the faster agent
        Entrant(3, 240.0, 40, baseline=None),
        Entrant(4, 250.0, 40, baseline=240.0),  # 10 s slower
    ]
    result = standings(entrants, Rules("lower", "improvement", 5, 10))
    by_key = {s.key: s for s in result}
    assert [(by_key[k].rank, by_key[k].improvement) for k in (1, 2, 4)] == [(1, 10.0), (2, 4.0), (3, -10.0)]
    assert [by_key[k].goal_met for k in (1, 2, 4)] == [True, False, False]
    assert by_key[3].status == "no_baseline" and by_key[3].rank is None


def test_a_gate_voids_and_too_few_samples_do_not_rank() -> None:
    gate = GateRule("csat", min_samples=5, gte=3.5)
    entrants = [
        Entrant(1, 200.0, 40, gate_value=3.4, gate_samples=30),
        Entrant(2, 210.0, 40, gate_value=3.9, gate_samples=30),
        Entrant(3, 190.0, 40, gate_value=4.8, gate_samples=2),  # too few surveys to prove quality
        Entrant(4, 150.0, 3, gate_value=4.0, gate_samples=10),
    ]
    result = standings(entrants, Rules("lower", "top", 1, 10, gate))
    assert _ranks(result) == {
        2: (1, "ranked", True),
        1: (None, "void", False),
        3: (None, "void", False),
        4: (None, "too_few", False),
    }


def test_head_to_head_tie_shares_the_win() -> None:
    result = standings([Entrant(7, 4.5, 20), Entrant(9, 4.5, 20)], Rules("higher", "top", 1, 5))
    assert _ranks(result) == {7: (1, "ranked", True), 9: (1, "ranked", True)}


@given(st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), min_size=1, max_size=30))
def test_ranks_are_competition_ranks(values: list[float]) -> None:
    result = standings([Entrant(i, v, 10) for i, v in enumerate(values)], Rules("higher", "top", 3, 1))
    for s in result:
        better = sum(1 for v in values if round(v, 9) > round(s.value or 0, 9))
        assert s.rank == better + 1
        assert s.goal_met == (better + 1 <= 3)


@pytest.mark.parametrize("better", ["higher", "lower"])
def test_an_entrant_without_data_is_unranked(better: str) -> None:
    [s] = standings([Entrant(1, None, 0)], Rules(better, "absolute", 1, 1))  # type: ignore[arg-type]
    assert (s.rank, s.status) == (None, "too_few")


@pytest.mark.parametrize(
    ("goal", "target", "values", "expected"),
    [
        ("absolute", 4.0, (4.6, 4.4), {1: (1, True), 2: (2, False)}),  # both reach 4.0: the first wins
        ("absolute", 4.5, (4.4, 4.3), {1: (1, False), 2: (2, False)}),  # the first misses: no winner
        ("absolute", 4.0, (4.5, 4.5), {1: (1, True), 2: (1, True)}),  # equal: a tie, both win
        ("top", 2, (4.6, 4.4), {1: (1, True), 2: (2, False)}),  # top 2 of two is still one winner
    ],
)
def test_head_to_head_has_one_winner_or_a_tie(
    goal: str, target: float, values: tuple[float, float], expected: dict[int, tuple[int, bool]]
) -> None:
    entrants = [Entrant(1, values[0], 20), Entrant(2, values[1], 20)]
    rules = Rules("higher", goal, target, 10, head_to_head=True)  # type: ignore[arg-type]
    assert {s.key: (s.rank, s.goal_met) for s in standings(entrants, rules)} == expected


def test_head_to_head_improvement_pays_the_bigger_improvement_only() -> None:
    entrants = [Entrant(1, 200.0, 40, baseline=230.0), Entrant(2, 220.0, 40, baseline=235.0)]
    rules = Rules("lower", "improvement", 10, 10, head_to_head=True)
    assert {s.key: (s.rank, s.improvement, s.goal_met) for s in standings(entrants, rules)} == {
        1: (1, 30.0, True),
        2: (2, 15.0, False),  # beat the target too, but lost the duel
    }
