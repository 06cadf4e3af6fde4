"""Confidence-adjusted values for ranking ratio metrics, so a handful of samples cannot top a board.

The Bayesian average pulls each agent's mean toward the population's by `prior_weight` pseudo-samples:
    adjusted = (prior_weight × population_mean + samples × value) / (prior_weight + samples)
With prior_weight 10, one 5-star survey against a 3.4 population ranks at 3.55, below an agent with
120 surveys at 4.1 (4.05). With many samples the adjusted value approaches the agent's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

RankBy = Literal["raw", "bayesian"]


def bayesian_average(value: float, samples: int, prior_mean: float, prior_weight: float) -> float:
    if prior_weight < 0 or samples < 0:
        raise ValueError("samples and prior_weight must not be negative")
    if prior_weight + samples == 0:
        return prior_mean
    return (prior_weight * prior_mean + samples * value) / (prior_weight + samples)


def population_mean(values: Sequence[tuple[float, int]]) -> float | None:
    """The sample-weighted mean of (value, samples) pairs: Σ value·samples / Σ samples."""
    total = sum(samples for _, samples in values)
    if total == 0:
        return None
    return sum(value * samples for value, samples in values) / total


def method_label(rank_by: RankBy, prior_weight: float, prior_mean: float | None) -> str:
    if rank_by == "raw" or prior_mean is None:
        return "raw"
    return f"bayesian(prior_weight={prior_weight:g}, prior_mean={prior_mean:.6g})"
