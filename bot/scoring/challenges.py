"""Challenge arithmetic, pure: each entrant's value, baseline and gate; ranks with ties; who met the goal.

An entrant is an agent, or a team whose members' sums are pooled (Σnum / Σden over every contact, so a
team's FCR is its resolved calls over its handled calls, whatever its headcount). Goals:

- `absolute`: the value reaches the target (≥ for higher-better metrics, ≤ for lower-better);
- `improvement`: the value beats the entrant's own baseline (the `baseline_days` business days before
  the window) by at least the target, in the metric's unit (seconds, score, fraction); totals compare
  per-day averages;
- `top`: a rank of at most the target N; entrants tied at rank N all make it.

Head-to-head has one winner: the first, if it also reaches the goal (for `top`, first is enough). Two
entrants equal at the top are a tie and share the win; the second never wins, whatever the goal.

A quality gate voids an entrant whose gate metric, over the same window, has fewer samples than its
minimum or lies outside its bounds. Entrants below the metric's `min_samples`, or without a baseline
for an improvement goal, are unranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.scoring.ranking import competition_ranks

Goal = Literal["absolute", "improvement", "top"]
Status = Literal["ranked", "void", "too_few", "no_baseline"]


@dataclass(frozen=True, slots=True)
class GateRule:
    metric: str
    min_samples: int
    gte: float | None = None
    lte: float | None = None

    def holds(self, value: float | None, samples: int) -> bool:
        if value is None or samples < self.min_samples:
            return False
        if self.gte is not None and value < self.gte:
            return False
        return not (self.lte is not None and value > self.lte)


@dataclass(frozen=True, slots=True)
class Rules:
    better: Literal["higher", "lower"]
    goal: Goal
    target: float
    min_samples: int
    gate: GateRule | None = None
    head_to_head: bool = False


@dataclass(frozen=True, slots=True)
class Entrant:
    """Figures already reduced to values: `baseline` is None when the entrant has none."""

    key: int
    value: float | None
    samples: int
    baseline: float | None = None
    gate_value: float | None = None
    gate_samples: int = 0


@dataclass(frozen=True, slots=True)
class Standing:
    key: int
    value: float | None
    samples: int
    baseline: float | None
    improvement: float | None
    status: Status
    rank: int | None
    goal_met: bool
    gate_value: float | None = None

    @property
    def score(self) -> float | None:
        return self.improvement if self.improvement is not None else self.value


def improvement(value: float, baseline: float, better: Literal["higher", "lower"]) -> float:
    """How much better than the baseline, positive when better, in the metric's unit."""
    return value - baseline if better == "higher" else baseline - value


def standings(entrants: list[Entrant], rules: Rules) -> list[Standing]:
    """Every entrant's standing, ranked ones first by rank, then the unranked in key order."""
    judged = [_judge(entrant, rules) for entrant in entrants]
    ranked = [s for s in judged if s.status == "ranked"]
    higher_first = rules.goal == "improvement" or rules.better == "higher"
    ordered = competition_ranks(ranked, key=_score_key, descending=higher_first)
    out: list[Standing] = []
    for rank, standing in ordered:
        out.append(_with_rank(standing, rank, rules))
    out.extend(sorted((s for s in judged if s.status != "ranked"), key=lambda s: s.key))
    return out


def _score_key(standing: Standing) -> float:
    score = standing.score
    assert score is not None
    return round(score, 9)  # values computed from sums in a different order compare equal


def _judge(entrant: Entrant, rules: Rules) -> Standing:
    gained = (
        improvement(entrant.value, entrant.baseline, rules.better)
        if rules.goal == "improvement" and entrant.value is not None and entrant.baseline is not None
        else None
    )
    status: Status = "ranked"
    if rules.gate is not None and not rules.gate.holds(entrant.gate_value, entrant.gate_samples):
        status = "void"
    elif entrant.value is None or entrant.samples < rules.min_samples:
        status = "too_few"
    elif rules.goal == "improvement" and entrant.baseline is None:
        status = "no_baseline"
    return Standing(
        entrant.key,
        entrant.value,
        entrant.samples,
        entrant.baseline,
        gained,
        status,
        None,
        False,
        entrant.gate_value,
    )


def _with_rank(standing: Standing, rank: int, rules: Rules) -> Standing:
    if rules.goal == "top":
        met = rank <= rules.target
    elif rules.goal == "improvement":
        met = standing.improvement is not None and round(standing.improvement, 9) >= rules.target
    else:
        assert standing.value is not None
        value = round(standing.value, 9)
        met = value >= rules.target if rules.better == "higher" else value <= rules.target
    if rules.head_to_head:
        met = met and rank == 1
    return Standing(
        standing.key,
        standing.value,
        standing.samples,
        standing.baseline,
        standing.improvement,
        standing.status,
        rank,
        met,
        standing.gate_value,
    )
