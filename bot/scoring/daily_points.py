"""Daily zone points for one agent and day, each with the inputs that explain it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.scoring.metrics import CATALOGUE, samples_of, value_of
from bot.scoring.zones import hundredths, zone_points


@dataclass(frozen=True, slots=True)
class RuleSpec:
    rule_id: str
    metric: str
    zones: tuple[tuple[float, float], ...]
    min_samples: int
    floor: float | None = None
    ceiling: float | None = None
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Award:
    rule_id: str
    amount: int
    template: str
    inputs: dict[str, Any] = field(default_factory=dict)


def day_awards(rules: list[RuleSpec], sums: Mapping[str, tuple[int, int]], version: int) -> list[Award]:
    """Awards in hundredths of a point for one agent-day, from that day's rollup sums; zeros omitted."""
    awards: list[Award] = []
    for rule in rules:
        pair = sums.get(rule.metric)
        if pair is None:
            continue
        num, den = pair
        value = value_of(rule.metric, num, den)
        samples = samples_of(den)
        if value is None or samples < rule.min_samples:
            continue
        score = zone_points(value, rule.zones, floor=rule.floor, ceiling=rule.ceiling)
        amount = hundredths(score.points * rule.weight)
        if amount == 0:
            continue
        awards.append(
            Award(
                rule.rule_id,
                amount,
                "points.zone",
                {
                    "metric": rule.metric,
                    "unit": CATALOGUE[rule.metric].unit,
                    "value": value,
                    "samples": samples,
                    "lower": list(score.lower) if score.lower else None,
                    "upper": list(score.upper) if score.upper else None,
                    "weight": rule.weight,
                    "points": amount / 100,
                    "rule": rule.rule_id,
                    "version": version,
                },
            )
        )
    return awards
