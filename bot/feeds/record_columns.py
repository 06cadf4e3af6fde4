"""Records kept as columns: what a columnar parse yields and what the columnar ingest consumes.

A `ColumnBatch` is a sequence of records and rejects like any other batch (indexing or iterating it builds
the `KpiRecord`s), so every consumer of a parse keeps working; the ingest reads its columns directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timezone, tzinfo
from typing import Any, overload
from zoneinfo import ZoneInfo

from bot.feeds.records import FactValue, KpiRecord, RowReject, SubjectRef

Item = KpiRecord | RowReject


@dataclass(slots=True)
class WallClock:
    """The naive local dates and times the instants were read from, all in `zone` (no explicit offsets,
    no day with a clock change): the business day of a subject on the same clock follows from them."""

    zone: tzinfo
    days: list[date]
    times: list[time]

    def is_utc(self) -> bool:
        """Whether the wall clock is UTC itself (its dates and times are the instants' UTC ones)."""
        return _is_utc(self.zone) or (isinstance(self.zone, timezone) and not self.zone.utcoffset(None))

    def same_zone(self, zone: tzinfo) -> bool:
        """Whether `zone` shows the same wall clock as this one at every instant."""
        return zone is self.zone or (_is_utc(zone) and _is_utc(self.zone))


def _is_utc(zone: tzinfo) -> bool:
    if zone is UTC:
        return True
    return isinstance(zone, ZoneInfo) and zone.key in ("UTC", "Etc/UTC")


@dataclass(slots=True)
class RecordColumns:
    """Records of one source as aligned columns. A fact or metric column holds None where it is absent.
    `facts` keeps the order a record's facts dict has; `fact_kinds` says which facts are bools."""

    source: str
    external_ids: list[str]
    subjects: list[SubjectRef]
    occurred_at: list[datetime] | None  # None: combined from `wall` when asked (see `instants`)
    versions: list[int]
    facts: dict[str, list[FactValue]] = field(default_factory=dict)
    bool_facts: frozenset[str] = frozenset()
    metrics: dict[str, list[tuple[float, float] | None]] = field(default_factory=dict)
    wall: WallClock | None = None
    lines: list[int] | None = None  # each record's line in the source file

    def __len__(self) -> int:
        return len(self.external_ids)

    def record(self, index: int) -> KpiRecord:
        facts = {key: column[index] for key, column in self.facts.items() if column[index] is not None}
        metrics: dict[str, tuple[float, float]] = {}
        for key, pairs in self.metrics.items():
            pair = pairs[index]
            if pair is not None:
                metrics[key] = pair
        return KpiRecord(
            self.source,
            self.external_ids[index],
            self.subjects[index],
            self.instants()[index],
            self.versions[index],
            facts,
            metrics,
            line=self.lines[index] if self.lines is not None else 0,
        )

    def instants(self) -> list[datetime]:
        if self.occurred_at is None:
            assert self.wall is not None
            self.occurred_at = list(map(datetime.combine, self.wall.days, self.wall.times))
        return self.occurred_at

    def fact_dicts(self) -> list[dict[str, Any] | None]:
        """Each record's facts as stored: a dict, or None when it has none."""
        keys = list(self.facts)
        columns = list(self.facts.values())
        out: list[dict[str, Any] | None] = []
        for values in zip(*columns, strict=True) if columns else ((),) * len(self):
            facts = {key: value for key, value in zip(keys, values, strict=True) if value is not None}
            out.append(facts or None)
        return out

    def metric_dicts(self) -> list[dict[str, Any] | None]:
        """Each record's metrics as stored: {key: [num, den]}, or None when it has none."""
        if not self.metrics:
            return [None] * len(self)
        keys = list(self.metrics)
        out: list[dict[str, Any] | None] = []
        for pairs in zip(*self.metrics.values(), strict=True):
            metrics = {key: list(pair) for key, pair in zip(keys, pairs, strict=True) if pair is not None}
            out.append(metrics or None)
        return out


class ColumnBatch(Sequence[Item]):
    """One chunk of a columnar parse: `columns` (records in file order) and `others` (rejects and the
    records the general row path built), each at its place in the chunk (`other_places`)."""

    def __init__(self, columns: RecordColumns, others: list[Item], other_places: list[int]) -> None:
        self.columns = columns
        self.others = others
        self.other_places = other_places
        self._items: list[Item] | None = None

    def __len__(self) -> int:
        return len(self.columns) + len(self.others)

    def items(self) -> list[Item]:
        if self._items is None:
            items: list[Item] = []
            columns = self.columns
            next_column = 0
            for place, other in zip(self.other_places, self.others, strict=True):
                while len(items) < place:
                    items.append(columns.record(next_column))
                    next_column += 1
                items.append(other)
            items.extend(columns.record(index) for index in range(next_column, len(columns)))
            self._items = items
        return self._items

    def column_places(self) -> list[int]:
        """The place in the chunk of each row of `columns`."""
        if not self.other_places:
            return list(range(len(self.columns)))
        taken = set(self.other_places)
        return [place for place in range(len(self)) if place not in taken]

    @overload
    def __getitem__(self, index: int) -> Item: ...
    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...
    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        return self.items()[index]

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items())
