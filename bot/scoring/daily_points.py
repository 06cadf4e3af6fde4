"""Daily zone points for one agent and day, each with the inputs that explain it.

A rule scores one metric on a piecewise-linear zone curve. Quality gates make a rule's points depend on
other metrics of the same day (AHT points only while CSAT holds, so speed bought with quality earns
nothing); a rule cap and a daily cap bound what one day can earn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.scoring.metrics import CATALOGUE, samples_of, value_of
from bot.scoring.zones import hundredths, zone_points


@dataclass(frozen=True, slots=True)
class Gate:
    """The gate holds when `metric` has at least `min_samples` and its value is ≥ gte and ≤ lte."""

    metric: str
    min_samples: int
    gte: float | None = None
    lte: float | None = None

    def check(self, sums: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
        num, den = sums.get(self.metric, (0, 0))
        value = value_of(self.metric, num, den) if den or CATALOGUE[self.metric].kind == "total" else None
        samples = samples_of(den)
        held = (
            value is not None
            and samples >= self.min_samples
            and (self.gte is None or value >= self.gte)
            and (self.lte is None or value <= self.lte)
        )
        return {
            "metric": self.metric,
            "gte": self.gte,
            "lte": self.lte,
            "value": value,
            "samples": samples,
            "held": held,
        }


@dataclass(frozen=True, slots=True)
class RuleSpec:
    rule_id: str
    metric: str
    zones: tuple[tuple[float, float], ...]
    min_samples: int
    floor: float | None = None
    ceiling: float | None = None
    weight: float = 1.0
    gates: tuple[Gate, ...] = ()
    cap: float | None = None


@dataclass(frozen=True, slots=True)
class Award:
    rule_id: str
    amount: int
    template: str
    inputs: dict[str, Any] = field(default_factory=dict)


def day_awards(
    rules: list[RuleSpec],
    sums: Mapping[str, tuple[int, int]],
    version: int,
    daily_cap: float | None = None,
) -> list[Award]:
    """Awards in hundredths of a point for one agent-day, from that day's rollup sums; zeros omitted.

    Rules are applied in program order; once `daily_cap` is reached, later rules earn nothing more.
    """
    awards: list[Award] = []
    budget = None if daily_cap is None else hundredths(daily_cap)
    for rule in rules:
        award = _award(rule, sums, version)
        if award is None:
            continue
        if budget is not None:
            if budget <= 0:
                continue
            if award.amount > budget:
                award = _capped(award, budget, "daily_cap")
            budget -= award.amount
        awards.append(award)
    return awards


def _award(rule: RuleSpec, sums: Mapping[str, tuple[int, int]], version: int) -> Award | None:
    pair = sums.get(rule.metric)
    if pair is None:
        return None
    num, den = pair
    value = value_of(rule.metric, num, den)
    samples = samples_of(den)
    if value is None or samples < rule.min_samples:
        return None
    gates = [gate.check(sums) for gate in rule.gates]
    if not all(gate["held"] for gate in gates):
        return None
    score = zone_points(value, rule.zones, floor=rule.floor, ceiling=rule.ceiling)
    amount = hundredths(score.points * rule.weight)
    if amount == 0:
        return None
    award = Award(
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
            **({"gates": gates} if gates else {}),
        },
    )
    if rule.cap is not None and amount > hundredths(rule.cap):
        award = _capped(award, hundredths(rule.cap), "rule_cap")
    return award


def _capped(award: Award, amount: int, reason: str) -> Award:
    inputs = award.inputs | {"points": amount / 100, "uncapped": award.amount / 100, "cap": reason}
    return Award(award.rule_id, amount, award.template, inputs)
