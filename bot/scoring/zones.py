"""Zone rules: points linear between zone points, flat beyond the ends, nothing past a floor or ceiling."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class ZoneScore:
    points: float
    lower: tuple[float, float] | None
    upper: tuple[float, float] | None


def zone_points(
    value: float,
    zones: Sequence[tuple[float, float]],
    *,
    floor: float | None = None,
    ceiling: float | None = None,
    ascending: bool = False,
) -> ZoneScore:
    """Points for `value` on a piecewise-linear curve through `zones` ((value, points) pairs, any order).

    A value below `floor` or above `ceiling` earns nothing: a too-short handle time is not rewarded.
    `ascending` says the zones are already in ascending order of value (the scorer sorts them once).
    """
    if (floor is not None and value < floor) or (ceiling is not None and value > ceiling):
        return ZoneScore(0.0, None, None)
    ordered = zones if ascending or _ascending(zones) else sorted(zones)
    if value <= ordered[0][0]:
        return ZoneScore(ordered[0][1], None, ordered[0])
    if value >= ordered[-1][0]:
        return ZoneScore(ordered[-1][1], ordered[-1], None)
    for low, high in pairwise(ordered):
        if low[0] <= value <= high[0]:
            share = (value - low[0]) / (high[0] - low[0])
            points = low[1] + share * (high[1] - low[1])
            # kept between the segment's ends: float rounding must not step past the next segment's start
            bounded = min(max(points, min(low[1], high[1])), max(low[1], high[1]))
            return ZoneScore(bounded, low, high)
    raise AssertionError("unreachable: zones are sorted and value is inside them")


def against_direction(
    zones: Sequence[tuple[float, float]], better: str
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The first two zone points (in the metric's better direction) where the better value pays less.

    None when the table is monotone in that direction: a better value never earns fewer points.
    """
    ordered = sorted(zones, reverse=better == "lower")  # worse value first
    for worse, better_point in pairwise(ordered):
        if better_point[1] < worse[1]:
            return worse, better_point
    return None


def hundredths(points: float) -> int:
    """Points are stored as integer hundredths, rounded half away from zero."""
    if not math.isfinite(points):
        raise ValueError(f"points must be a finite number, got {points}")
    scaled = abs(points) * 100
    whole = int(scaled + 0.5 + 1e-9)
    return whole if points >= 0 else -whole


def _ascending(zones: Sequence[tuple[float, float]]) -> bool:
    return all(a[0] < b[0] for a, b in pairwise(zones))
