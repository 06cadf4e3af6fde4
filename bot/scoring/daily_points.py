"""Daily points for one agent and day, each with the inputs that explain it.

A zone rule scores one metric on a piecewise-linear zone curve; an improvement rule scores it against the
agent's own trailing baseline (bot/scoring/improvement.py). Quality gates make a rule's points depend on
other metrics of the same day (AHT points only while CSAT holds, so speed bought with quality earns
nothing); a rule cap and a daily cap bound what one day can earn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.scoring.gates import Gate
from bot.scoring.improvement import Baseline, ImprovementSpec, improvement_award
from bot.scoring.metrics import CATALOGUE, SCALE, samples_of
from bot.scoring.zones import hundredths, zone_points

__all__ = ["Award", "Baseline", "Gate", "ImprovementSpec", "RuleSpec", "day_awards", "period_awards"]

#: Baselines of one agent-day, keyed by (metric, window key).
Baselines = Mapping[tuple[str, str], Baseline]


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
    rules: Sequence[RuleSpec | ImprovementSpec],
    sums: Mapping[str, tuple[int, int]],
    version: int,
    daily_cap: float | None = None,
    baselines: Baselines | None = None,
) -> list[Award]:
    """Awards in hundredths of a point for one agent-day, from that day's rollup sums; zeros omitted.

    Improvement rules read the day's `baselines`. Rules are applied in program order; once `daily_cap`
    is reached, later rules earn nothing more.
    """
    awards: list[Award] = []
    budget = None if daily_cap is None else hundredths(daily_cap)
    for rule in rules:
        if isinstance(rule, ImprovementSpec):
            baseline = baselines.get((rule.metric, rule.window.key)) if baselines else None
            award = _improvement(rule, sums, baseline, version)
        else:
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


def period_awards(
    rules: Sequence[RuleSpec],
    sums: Mapping[str, tuple[int, int]],
    version: int,
    period: str,
    start: date,
    end: date,
) -> list[Award]:
    """Awards of zone rules over a whole period, from the period's pooled sums; zeros omitted.

    The value is Σnum / Σden over the period (a total: its sum); `min_samples` and gates apply to the
    period's sums and a rule's cap to the period. There is no daily cap: the points belong to no one day.
    """
    span = {"period": period, "start": start.isoformat(), "end": end.isoformat()}
    awards = [_award(rule, sums, version) for rule in rules]
    return [Award(a.rule_id, a.amount, a.template, a.inputs | span) for a in awards if a is not None]


def _award(rule: RuleSpec, sums: Mapping[str, tuple[int, int]], version: int) -> Award | None:
    pair = sums.get(rule.metric)
    if pair is None:
        return None
    num, den = pair
    metric = CATALOGUE[rule.metric]
    if metric.kind == "total":
        value = num / SCALE
    elif den:
        value = num / den
    else:
        return None
    samples = samples_of(den)
    if samples < rule.min_samples:
        return None
    gates = _gates(rule.gates, sums)
    if gates is None:
        return None
    score = zone_points(value, rule.zones, floor=rule.floor, ceiling=rule.ceiling, ascending=True)
    amount = hundredths(score.points * rule.weight)
    if amount == 0:
        return None
    inputs = {
        "metric": rule.metric,
        "unit": metric.unit,
        "value": value,
        "samples": samples,
        "lower": list(score.lower) if score.lower else None,
        "upper": list(score.upper) if score.upper else None,
        "weight": rule.weight,
        "points": amount / 100,
        "rule": rule.rule_id,
        "version": version,
    }
    return _finished(rule.rule_id, amount, "points.zone", inputs, gates, rule.cap)


def _improvement(
    rule: ImprovementSpec, sums: Mapping[str, tuple[int, int]], baseline: Baseline | None, version: int
) -> Award | None:
    earned = improvement_award(rule, sums, baseline)
    if earned is None:
        return None
    gates = _gates(rule.gates, sums)
    if gates is None:
        return None
    amount, inputs = earned
    inputs |= {"points": amount / 100, "rule": rule.rule_id, "version": version}
    return _finished(rule.rule_id, amount, "points.improvement", inputs, gates, rule.cap)


def _finished(
    rule_id: str,
    amount: int,
    template: str,
    inputs: dict[str, Any],
    gates: list[dict[str, Any]],
    cap: float | None,
) -> Award:
    """The award with the gates that held, trimmed to the rule's cap."""
    if gates:
        inputs["gates"] = gates
    award = Award(rule_id, amount, template, inputs)
    if cap is not None and amount > hundredths(cap):
        award = _capped(award, hundredths(cap), "rule_cap")
    return award


def _gates(gates: tuple[Gate, ...], sums: Mapping[str, tuple[int, int]]) -> list[dict[str, Any]] | None:
    """Each gate's check, or None when one fails."""
    if not gates:
        return []
    checks = [gate.check(sums) for gate in gates]
    return checks if all(check["held"] for check in checks) else None


def _capped(award: Award, amount: int, reason: str) -> Award:
    inputs = award.inputs | {"points": amount / 100, "uncapped": award.amount / 100, "cap": reason}
    return Award(award.rule_id, amount, award.template, inputs)
