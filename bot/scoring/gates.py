"""Quality gates: a rule's points count only while another metric of the same day holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.scoring.metrics import CATALOGUE, samples_of, value_of


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
