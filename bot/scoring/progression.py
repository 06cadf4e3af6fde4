"""Levels from XP and coins from points: structured formulas, never evaluated text.

XP is an agent's all-time net points (hundredths). Level n (n ≥ 1) is reached at
    xp_for(n) = base × (n − 1) ** exponent   points
so with base 100 and exponent 1.5: level 2 at 100, level 3 at 283, level 4 at 520, level 5 at 800.
Coins are earned at `per_point` coins per point, in hundredths, rounded down on the running total, so
the remainder is carried: ten days of 0.05 coins make 0.50, not 0.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Level:
    level: int
    xp: int  # hundredths of a point
    floor: int  # XP in hundredths where this level starts
    next_at: int  # XP in hundredths where the next level starts
    top: bool = False  # the highest level there is: nothing further to reach

    @property
    def to_next(self) -> int:
        """XP in hundredths still to earn for the next level; 0 at the top."""
        return 0 if self.top else max(self.next_at - self.xp, 0)


def xp_for(level: int, base: float, exponent: float) -> int:
    """XP, in hundredths, at which `level` starts."""
    if level < 1:
        raise ValueError("levels start at 1")
    steps: float = float(level - 1) ** exponent
    return round(base * steps * 100)


MAX_LEVEL = 1000


def level_of(xp: int, base: float, exponent: float, cap: int = MAX_LEVEL) -> Level:
    """The level reached with `xp` hundredths, at most `cap` (the top level, however much XP is beyond)."""
    level = 1
    while level < cap and xp >= xp_for(level + 1, base, exponent):
        level += 1
    return Level(level, xp, xp_for(level, base, exponent), xp_for(level + 1, base, exponent), level >= cap)


def coins_earned(points: int, per_point: float) -> int:
    """Coins in hundredths for an all-time total of points in hundredths, rounded down once, on the total."""
    if points <= 0:
        return 0
    numerator, denominator = _ratio(per_point)
    return points * numerator // denominator


def _ratio(rate: float) -> tuple[int, int]:
    """An exact fraction for a decimal rate such as 0.1, so integer arithmetic stays exact."""
    text = f"{rate:.6f}".rstrip("0").rstrip(".")
    if "." not in text:
        return int(text), 1
    whole, fraction = text.split(".")
    scale = 10 ** len(fraction)
    return int(whole) * scale + int(fraction), scale
