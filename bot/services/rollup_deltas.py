"""Rollup arithmetic shared by ingest, batch voids and rebuilds: records in, per-day sums out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from bot.scoring.metrics import contributions

DayKey = tuple[int, date]


class RollupDeltas:
    """Signed (num, den) sums per (subject, business day, metric), added record by record."""

    def __init__(self, service_level_seconds: float) -> None:
        self._sl = service_level_seconds
        self._days: dict[DayKey, dict[str, list[int]]] = {}

    def add(self, subject_id: int, day: date, facts: Mapping[str, Any] | None,
            metrics: Mapping[str, Any] | None, sign: int = 1) -> None:  # fmt: skip
        pairs = {key: (value[0], value[1]) for key, value in metrics.items()} if metrics else None
        cells = self._days.get((subject_id, day))
        if cells is None:
            cells = self._days[(subject_id, day)] = {}
        for metric, (num, den) in contributions(facts, pairs, service_level_seconds=self._sl).items():
            cell = cells.get(metric)
            if cell is None:
                cells[metric] = [sign * num, sign * den]
            else:
                cell[0] += sign * num
                cell[1] += sign * den

    def add_many(
        self,
        subject_ids: list[int],
        days: list[date],
        facts: Sequence[Mapping[str, Any] | None],
        metrics: Sequence[Mapping[str, Any] | None],
    ) -> None:
        """`add` for many records at once (sign +1), grouped as they come; the sums are the same."""
        sl = self._sl
        table = self._days
        for key, record_facts, record_metrics in zip(
            zip(subject_ids, days, strict=True), facts, metrics, strict=True
        ):
            cells = table.get(key)
            if cells is None:
                cells = table[key] = {}
            pairs = contributions(record_facts, record_metrics, service_level_seconds=sl)
            for metric, (num, den) in pairs.items():
                cell = cells.get(metric)
                if cell is None:
                    cells[metric] = [num, den]
                else:
                    cell[0] += num
                    cell[1] += den

    @property
    def service_level_seconds(self) -> float:
        return self._sl

    def add_sum(self, key: DayKey, metric: str, num: int, den: int) -> None:
        """Add an already summed (num, den) pair of records to one subject-day's metric."""
        cells = self._days.get(key)
        if cells is None:
            cells = self._days[key] = {}
        cell = cells.get(metric)
        if cell is None:
            cells[metric] = [num, den]
        else:
            cell[0] += num
            cell[1] += den

    def touch(self, key: DayKey) -> None:
        """A subject-day that has records, whether or not they count towards any metric."""
        if key not in self._days:
            self._days[key] = {}

    def days(self) -> list[DayKey]:
        return sorted(self._days)

    def items(self) -> Iterator[tuple[tuple[int, date, str], tuple[int, int]]]:
        for (subject_id, day), cells in self._days.items():
            for metric, (num, den) in cells.items():
                yield (subject_id, day, metric), (num, den)

    def rows(self) -> list[tuple[int, date, str, int, int]]:
        """(subject_id, business_day, metric, num, den) tuples, as store.upsert.add_to_rollups takes them."""
        return [
            (subject_id, day, metric, num, den)
            for (subject_id, day), cells in self._days.items()
            for metric, (num, den) in cells.items()
        ]
