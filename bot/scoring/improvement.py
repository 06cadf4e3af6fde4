"""Improvement rules: points for beating one's own trailing baseline of a metric.

The baseline of day D is the metric pooled over a window before D: the N calendar days D-N … D-1, or the
agent's last N working days before D (a working day is a day with at least one record). A ratio pools its
sums (Σnum/Σden over the window), so a day of 40 contacts weighs more than a day of 2; a total is the mean
per working day of the window. Because a baseline reaches forward, a change on day X moves the baselines
of the days whose window holds X: `reach` finds them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from typing import Any, Literal

from bot.scoring.gates import Gate
from bot.scoring.metrics import CATALOGUE, SCALE, samples_of, value_of
from bot.scoring.zones import hundredths


@dataclass(frozen=True, slots=True)
class Window:
    days: int
    working: bool
    key: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{'working' if self.working else 'calendar'}:{self.days}")


@dataclass(frozen=True, slots=True)
class Baseline:
    """Sums of a metric over a baseline window, and how many working days the window held."""

    num: int
    den: int
    days: int

    def value(self, metric: str) -> float | None:
        if self.days == 0:
            return None
        if CATALOGUE[metric].kind == "total":
            return self.num / SCALE / self.days
        return value_of(metric, self.num, self.den)


@dataclass(frozen=True, slots=True)
class ImprovementSpec:
    rule_id: str
    metric: str
    window: Window
    per: float
    points: float
    better: Literal["higher", "lower"]
    min_samples: int
    baseline_min_samples: int
    floor: float | None = None
    ceiling: float | None = None
    weight: float = 1.0
    gates: tuple[Gate, ...] = ()
    cap: float | None = None


class DailySums:
    """One subject's daily sums of each metric, with prefix sums so any window sums in O(log n)."""

    def __init__(self, days: Mapping[date, Mapping[str, tuple[int, int]]]) -> None:
        self.working = sorted(day for day, cells in days.items() if any(n or d for n, d in cells.values()))
        self._series: dict[str, tuple[list[date], list[int], list[int]]] = {}
        metrics = {metric for cells in days.values() for metric in cells}
        for metric in metrics:
            rows = sorted((day, cells[metric]) for day, cells in days.items() if metric in cells)
            self._series[metric] = (
                [day for day, _ in rows],
                [0, *accumulate(pair[0] for _, pair in rows)],
                [0, *accumulate(pair[1] for _, pair in rows)],
            )

    def baseline(self, metric: str, day: date, window: Window) -> Baseline:
        """The sums over `window` before `day` (never including `day` itself)."""
        end = bisect_left(self.working, day)
        if window.working:
            start_index = max(end - window.days, 0)
            first = self.working[start_index] if end else day
        else:
            first = day - timedelta(days=window.days)
            start_index = bisect_left(self.working, first)
        series = self._series.get(metric)
        if series is None or end == start_index:
            return Baseline(0, 0, end - start_index)
        days, nums, dens = series
        low, high = bisect_left(days, first), bisect_left(days, day)
        return Baseline(nums[high] - nums[low], dens[high] - dens[low], end - start_index)


def reach(working: Sequence[date], touched: date, window: Window) -> list[date]:
    """The days among `working` (sorted) whose baseline window can hold `touched`."""
    after = bisect_right(working, touched)
    if window.working:
        return list(working[after : after + window.days])
    last = touched + timedelta(days=window.days)
    return list(working[after : bisect_right(working, last)])


def improvement_award(
    rule: ImprovementSpec, sums: Mapping[str, tuple[int, int]], baseline: Baseline | None
) -> tuple[int, dict[str, Any]] | None:
    """Hundredths earned and the inputs that explain them, or None when the rule pays nothing.

    Gates and caps are the caller's (daily_points), shared with zone rules.
    """
    pair = sums.get(rule.metric)
    if pair is None or baseline is None:
        return None
    value = value_of(rule.metric, *pair)
    samples = samples_of(pair[1])
    if value is None or samples < rule.min_samples:
        return None
    if (rule.floor is not None and value < rule.floor) or (rule.ceiling is not None and value > rule.ceiling):
        return None
    base = baseline.value(rule.metric)
    base_samples = samples_of(baseline.den)
    if base is None or base_samples < rule.baseline_min_samples:
        return None
    better_by = value - base if rule.better == "higher" else base - value
    if better_by <= 0:
        return None
    earned = better_by / rule.per * rule.points * rule.weight
    amount = hundredths(earned)
    if amount <= 0:
        return None
    return amount, {
        "metric": rule.metric,
        "unit": CATALOGUE[rule.metric].unit,
        "value": value,
        "samples": samples,
        "baseline": base,
        "baseline_samples": base_samples,
        "baseline_days": rule.window.days,
        "window": "working" if rule.window.working else "calendar",
        "better_by": better_by,
        "per": rule.per,
        "rate": rule.points,
        "weight": rule.weight,
    }
