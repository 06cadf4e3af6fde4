"""What a KPI record's values may be, whichever feed brought them: files and the webhook refuse the same.

A duration over a week is a unit mistake (milliseconds, an epoch), a negative one a broken export; a rating
past any survey scale or a number too large for the ledger's integers would crowd out every real figure.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from bot.feeds.records import FactValue
from bot.scoring.metrics import CATALOGUE

WEEK_SECONDS = 7 * 24 * 3600
WEEK_MINUTES = 7 * 24 * 60
MAX_RATING = 1000  # above any survey scale (1-5, 0-10, 0-100)
MAX_METRIC = 1e12  # a day's sum for one subject; hundredths of it stay well inside 64-bit integers
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

#: fact → (unit, largest value); every numeric fact is 0 or more.
FACT_LIMITS: dict[str, tuple[str, float]] = {
    **{fact: ("seconds", WEEK_SECONDS) for fact in ("wait", "talk", "hold", "acw", "handle")},
    **{fact: ("minutes", WEEK_MINUTES) for fact in ("scheduled_minutes", "adhered_minutes")},
    "rating": ("on the survey scale", MAX_RATING),
    "nps": ("on the 0-10 scale", 10),
}


def fact_problem(key: str, value: FactValue) -> str | None:
    """Why a fact's value cannot be kept, or None."""
    if value is None or isinstance(value, bool) or key not in FACT_LIMITS:
        return None
    unit, limit = FACT_LIMITS[key]
    if not math.isfinite(value):
        return f"facts.{key}: {value!r} is not a number"
    if value < 0:
        return f"facts.{key}: must be 0 or more, got {value:g}"
    if value > limit:
        if unit in ("seconds", "minutes"):
            return f"facts.{key}: {value:g} {unit} is more than 7 days ({limit:,} {unit})"
        return f"facts.{key}: {value:g} is more than {limit:g}, {unit}"
    return None


def _mean_limits() -> dict[str, tuple[float, float, str]]:
    """metric → (lowest, highest, what bounds it) for the mean num/den of a ratio, by the metric's unit."""
    by_unit = {
        "seconds": (0.0, float(WEEK_SECONDS), "0 to 7 days in seconds"),
        "fraction": (0.0, 1.0, "0 to 1"),
    }
    limits = {key: by_unit[metric.unit] for key, metric in CATALOGUE.items() if metric.unit in by_unit}
    limits.pop("adherence")  # exports give it as a percentage too (a Kaggle sheet's 8,285.64 %); left open
    limits["csat"] = (0.0, float(MAX_RATING), f"the survey scale, 0 to {MAX_RATING}")
    limits["nps"] = (-1.0, 1.0, "-1 (all detractors) to 1 (all promoters)")
    return limits


#: ratio metric → (lowest, highest, what) its mean may be; totals (handled) only need num ≥ 0.
METRIC_MEANS: dict[str, tuple[float, float, str]] = _mean_limits()


def metric_problem(key: str, num: float, den: float) -> str | None:
    """Why a pre-aggregated pair cannot be kept, or None: both parts are 0 or more (NPS may sum below 0),
    a ratio's non-zero numerator needs samples, and its mean num/den lies within the metric's scale."""
    if not (math.isfinite(num) and math.isfinite(den)):
        return f"metrics.{key}: numerator and denominator must be numbers"
    if den < 0:
        return f"metrics.{key}.den: must be 0 or more, got {den:g}"
    if abs(num) > MAX_METRIC or den > MAX_METRIC:
        return f"metrics.{key}: {num:g} over {den:g} is beyond {MAX_METRIC:g}"
    low, high, what = METRIC_MEANS.get(key, (0.0, math.inf, ""))
    if num < 0 and low >= 0:
        return f"metrics.{key}.num: must be 0 or more, got {num:g}"
    if key not in METRIC_MEANS or (not num and not den):
        return None
    if not den:
        return f"metrics.{key}: {num:g} over 0 has no samples; give den, the count it is over"
    mean = num / den
    if not low <= mean <= high:
        return f"metrics.{key}: the mean {num:g} / {den:g} = {mean:g} is outside {what}"
    return None


def instant_problem(instant: datetime) -> str | None:
    if not EARLIEST <= instant <= LATEST:
        return f"occurred_at: {instant.isoformat()} is outside {EARLIEST.year}-{LATEST.year}"
    return None


def record_problem(
    facts: dict[str, FactValue], metrics: dict[str, tuple[float, float]], occurred_at: datetime
) -> str | None:
    """The first reason a record's values cannot be kept, or None."""
    for key, value in facts.items():
        problem = fact_problem(key, value)
        if problem:
            return problem
    for key, (num, den) in metrics.items():
        problem = metric_problem(key, num, den)
        if problem:
            return problem
    return instant_problem(occurred_at)
