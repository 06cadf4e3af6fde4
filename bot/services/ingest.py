"""Ingest KPI records: dedupe on (source, external id, version), persist, roll up, queue for scoring.

Each chunk is one transaction: the records, their rollup deltas and the days to rescore commit together,
so a crash mid-import loses nothing and a re-run counts nothing twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import compress, repeat
from operator import attrgetter, is_not, itemgetter
from typing import Any, Literal, overload

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.feeds.record_columns import ColumnBatch, RecordColumns, WallClock
from bot.feeds.record_json import record_to_json
from bot.feeds.records import KpiRecord, RowReject, SubjectRef
from bot.program import Program
from bot.services.column_rollups import add_fact_columns
from bot.services.own_records import OwnRecords
from bot.services.points import queue_for_scoring
from bot.services.rollup_deltas import RollupDeltas
from bot.store.bulk import (
    collector_paused,
    insert_columns,
    insert_rows,
    sqlite_json_objects,
    sqlite_utc_texts,
)
from bot.store.models import ImportBatch, KpiRecordRow, ParkedRecord, table_of
from bot.store.subjects import SubjectInfo, SubjectResolver
from bot.store.upsert import add_to_rollups, insert_ignoring_conflicts

_ATTEMPTS = 5
RECORD_COLUMNS = (
    "source",
    "external_id",
    "version",
    "subject_id",
    "occurred_at",
    "business_day",
    "facts",
    "metrics",
    "void",
    "is_current",
    "batch_id",
    "received_at",
)
_FACTS, _METRICS = RECORD_COLUMNS.index("facts"), RECORD_COLUMNS.index("metrics")
_IS_CURRENT = RECORD_COLUMNS.index("is_current")
Status = Literal["accepted", "duplicate", "parked", "rejected"]


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    external_id: str
    status: Status
    reason: str | None = None
    line: int = 0  # the item's line in its source file, 0 when it has none


class ChunkOutcomes(Sequence[ItemOutcome]):
    """A chunk's outcomes in item order: `known` ones, and None where a first sighting was accepted
    (`accepted` holds their ids, in order). Counting them builds no outcome object."""

    def __init__(self, known: list[ItemOutcome | None], accepted: list[str]) -> None:
        self._known = known
        self._accepted = accepted
        self._items: list[ItemOutcome] | None = None

    def statuses(self) -> Counter[str]:
        counted: Counter[str] = Counter(outcome.status for outcome in self._known if outcome is not None)
        counted["accepted"] += len(self._accepted)
        return counted

    def rejected(self) -> list[ItemOutcome]:
        return [outcome for outcome in self._known if outcome is not None and outcome.status == "rejected"]

    def _all(self) -> list[ItemOutcome]:
        if self._items is None:
            accepted = iter(self._accepted)
            self._items = [
                outcome if outcome is not None else ItemOutcome(next(accepted), "accepted")
                for outcome in self._known
            ]
        return self._items

    def __len__(self) -> int:
        return len(self._known)

    @overload
    def __getitem__(self, index: int) -> ItemOutcome: ...
    @overload
    def __getitem__(self, index: slice) -> list[ItemOutcome]: ...
    def __getitem__(self, index: int | slice) -> ItemOutcome | list[ItemOutcome]:
        return self._all()[index]

    def __iter__(self) -> Iterator[ItemOutcome]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


_COUNTED = ("read", "imported", "duplicate", "rejected", "parked", "filtered")


@dataclass(slots=True)
class IngestCounts:
    """Items by status, and the outcome of each rejected item (with its line, for a file): rejections
    are few, so an import that keeps no other outcome can still list every one."""

    read: int = 0
    imported: int = 0
    duplicate: int = 0
    rejected: int = 0
    parked: int = 0
    filtered: int = 0
    rejects: list[ItemOutcome] = field(default_factory=list, compare=False, repr=False)

    def add(self, outcomes: Iterable[ItemOutcome]) -> None:
        if isinstance(outcomes, ChunkOutcomes):
            self.rejects.extend(outcomes.rejected())
            for status, count in outcomes.statuses().items():
                self.read += count
                if status == "accepted":
                    self.imported += count
                else:
                    setattr(self, status, getattr(self, status) + count)
            return
        for outcome in outcomes:
            self.read += 1
            if outcome.status == "rejected":
                self.rejects.append(outcome)
            if outcome.status == "accepted":
                self.imported += 1
            else:
                setattr(self, outcome.status, getattr(self, outcome.status) + 1)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in _COUNTED}


@dataclass(slots=True)
class _Existing:
    id: int
    version: int
    is_current: bool
    void: bool
    voided_batch: bool
    subject_id: int
    business_day: date
    facts: dict[str, Any] | None
    metrics: dict[str, Any] | None
    occurred_at: datetime
    pending: list[Any] | None = None  # the row this chunk will still write, while it can change

    def supersede(self) -> None:
        self.is_current = False
        if self.pending is not None:
            self.pending[_IS_CURRENT] = False

    def same_content(self, record: KpiRecord, subject_id: int) -> bool:
        """Whether a redelivery with this (source, external id, version) carries what is stored."""
        metrics = {key: list(pair) for key, pair in record.metrics.items()} or None
        return (
            self.subject_id == subject_id
            and self.void == record.void
            and _utc(self.occurred_at) == _utc(record.occurred_at)
            and (self.facts or None) == (record.facts or None)
            and (self.metrics or None) == metrics
        )


def _utc(instant: datetime) -> datetime:
    """Stored instants are UTC; SQLite hands them back naive."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


@dataclass(slots=True)
class _Plan:
    deltas: RollupDeltas
    rows: list[list[Any]] = field(default_factory=list)
    # first sightings, column-wise, each with the names of its columns already in SQLite's storage text
    column_sets: list[tuple[dict[str, list[Any]], frozenset[str]]] = field(default_factory=list)
    revive: list[tuple[int, list[Any]]] = field(default_factory=list)
    retire: list[int] = field(default_factory=list)


class Ingestor:
    """Turns neutral records into stored records, rollups and pending score days.

    `columnar` (the default) stores the records of a chunk whose id was never seen, the bulk of any
    import, column by column; `columnar=False` takes every record through the general per-record path,
    which gives the same stored records, rollups and ledger (the tests compare the two).
    """

    def __init__(self, engine: Engine, program: Program, clock: Clock, *, columnar: bool = True) -> None:
        self._engine = engine
        self._program = program
        self._clock = clock
        self._columnar = columnar
        self._subjects: SubjectResolver | None = None
        self._own = OwnRecords()

    def start_batch(
        self,
        *,
        source: str,
        origin: str,
        mapping: str | None = None,
        filename: str | None = None,
        sha256: str | None = None,
    ) -> int:
        with self._engine.begin() as connection:
            return int(
                connection.execute(
                    insert(ImportBatch)
                    .values(
                        source=source,
                        origin=origin,
                        mapping=mapping,
                        filename=filename,
                        sha256=sha256,
                        counts={},
                        created_at=self._clock(),
                    )
                    .returning(ImportBatch.id)
                ).scalar_one()
            )

    def finish_batch(self, batch_id: int, counts: IngestCounts) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(ImportBatch)
                .where(ImportBatch.id == batch_id)
                .values(counts=counts.as_dict(), finished_at=self._clock())
            )

    def ingest(
        self, items: Sequence[KpiRecord | RowReject], *, batch_id: int | None, create_unknown: bool
    ) -> Sequence[ItemOutcome]:
        """Ingest one chunk in one transaction; outcomes are in the order of `items`.

        A concurrent delivery of the same records (two replicas, a redelivered webhook) may win a unique key
        first: the whole chunk then rolls back and runs again, and the retry sees those records as duplicates.
        """
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with collector_paused():
                    return self._ingest_once(items, batch_id=batch_id, create_unknown=create_unknown)
            except IntegrityError:
                if attempt == _ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _ingest_once(
        self, items: Sequence[KpiRecord | RowReject], *, batch_id: int | None, create_unknown: bool
    ) -> Sequence[ItemOutcome]:
        with self._engine.begin() as connection:
            if self._subjects is None:
                self._subjects = SubjectResolver(
                    connection,
                    default_zone=self._program.zone,
                    default_day_start=self._program.day_start_minutes,
                    now=self._clock(),
                )
            self._subjects.bind(connection)
            try:
                self._own.check(connection)
                chunk = _ChunkIngest(
                    connection, self._program, self._clock, self._subjects, batch_id, create_unknown
                )
                return chunk.run(items, self._own if self._columnar else None)
            except BaseException:
                self._subjects.forget()
                self._own.disable()
                raise


class _ChunkIngest:
    def __init__(
        self,
        connection: Connection,
        program: Program,
        clock: Clock,
        subjects: SubjectResolver,
        batch_id: int | None,
        create_unknown: bool,
    ) -> None:
        self._connection = connection
        self._program = program
        self._now = clock()
        self._batch_id = batch_id
        self._create_unknown = create_unknown
        self._subjects = subjects
        self._own: OwnRecords | None = None

    def run(
        self, items: Sequence[KpiRecord | RowReject], own: OwnRecords | None = None
    ) -> Sequence[ItemOutcome]:
        """`own` (the columnar path) lets first sightings skip the lookups and the per-record loop."""
        self._own = own
        plan = _Plan(deltas=RollupDeltas(self._program.service_level_seconds))
        if own is not None and isinstance(items, ColumnBatch):
            outcomes: Sequence[ItemOutcome] = self._run_columns(items, plan)
        else:
            outcomes = self._run_items(items, plan)
        self._write(plan)
        return outcomes

    def _run_items(self, items: Sequence[KpiRecord | RowReject], plan: _Plan) -> list[ItemOutcome]:
        outcomes: list[ItemOutcome | None] = [None] * len(items)
        located: list[tuple[int, KpiRecord, SubjectInfo]] = []
        parked: list[dict[str, Any]] = []
        self._subjects.prepare(
            {
                (item.source, item.subject.key): item.subject.display_name
                for item in items
                if isinstance(item, KpiRecord) and item.subject.kind == "agent"
            },
            create=self._create_unknown,
        )
        for index, item in enumerate(items):
            if isinstance(item, RowReject):
                outcomes[index] = ItemOutcome(f"line {item.line}", "rejected", item.reason, item.line)
                continue
            subject = self._resolve(item)
            if subject is None:
                reason = f"unknown agent key {item.subject.key!r} in source {item.source!r}"
                parked.append(self._parked_row(item, reason))
                outcomes[index] = ItemOutcome(item.external_id, "parked", reason)
                continue
            located.append((index, item, subject))
        insert_ignoring_conflicts(self._connection, table_of(ParkedRecord), parked)
        for index, outcome in self._store(located, plan):
            outcomes[index] = outcome
        return [outcome for outcome in outcomes if outcome is not None]

    def _run_columns(self, batch: ColumnBatch, plan: _Plan) -> ChunkOutcomes:
        """A columnar parse's chunk: rows whose id is new to the store and to the chunk, and whose subject
        is known, are stored and rolled up column by column; every other item takes `_run_items`."""
        columns = batch.columns
        source = columns.source
        places = batch.column_places()
        subjects = columns.subjects
        for ref, ref_source in self._prepare_agents(batch, places):
            if ref.kind == "queue":  # new queues are created in item order, as `_run_items` meets them
                self._subjects.queue(ref_source, ref.key)
        # refs are shared objects (one per subject in a parse): grouping them by identity stays in C
        distinct = dict(zip(map(id, subjects), subjects, strict=True))
        info_by_id = {key: self._resolve_ref(source, ref) for key, ref in distinct.items()}
        infos = list(map(info_by_id.__getitem__, map(id, subjects)))
        ids = columns.external_ids
        other_records = [item for item in batch.others if isinstance(item, KpiRecord)]
        if any(record.source != source for record in other_records):
            raise ValueError("a column batch holds the records of one source")
        every_id = ids + [record.external_id for record in other_records]
        unique_ids = set(every_id)
        repeated = (
            set() if len(unique_ids) == len(every_id) else
            {external_id for external_id, count in Counter(every_id).items() if count > 1}
        )  # fmt: skip
        existing = {external_id for _, external_id in self._existing({source: unique_ids})}
        if existing or repeated:
            fresh = [
                info is not None and external_id not in existing and external_id not in repeated
                for info, external_id in zip(infos, ids, strict=True)
            ]
        else:
            fresh = list(map(is_not, infos, repeat(None)))
        if all(fresh):
            general: list[tuple[int, KpiRecord | RowReject]] = list(
                zip(batch.other_places, batch.others, strict=True)
            )
        else:
            general = sorted(
                [
                    *zip(batch.other_places, batch.others, strict=True),
                    *((places[row], columns.record(row)) for row, ok in enumerate(fresh) if not ok),
                ],
                key=itemgetter(0),
            )
        known: list[ItemOutcome | None] = [None] * len(batch)
        if general:
            done = self._run_items([item for _, item in general], plan)
            for (place, _), outcome in zip(general, done, strict=True):
                known[place] = outcome
        self._store_columns(columns, fresh, infos, plan)
        return ChunkOutcomes(known, list(compress(ids, fresh)))

    def _prepare_agents(self, batch: ColumnBatch, places: list[int]) -> list[tuple[SubjectRef, str]]:
        """`prepare` with the agents in the order the items have them (people are created in it; the
        last display name given for a key is the one kept), as `_run_items` asks for them. Returns the
        distinct subjects with their sources, in item order."""
        wanted: dict[tuple[str, str], str | None] = {}
        if not batch.others:
            source = batch.columns.source
            subjects = batch.columns.subjects
            distinct = list(dict(zip(map(id, subjects), subjects, strict=True)).values())
            named = False
            for ref in distinct:
                if ref.kind == "agent":
                    wanted.setdefault((source, ref.key), None)
                    named = named or ref.display_name is not None
            if named:
                for ref in subjects:
                    if ref.kind == "agent":
                        wanted[(source, ref.key)] = ref.display_name
            self._subjects.prepare(wanted, create=self._create_unknown)
            return [(ref, source) for ref in distinct]
        refs: list[SubjectRef | None] = [None] * len(batch)
        for place, column_ref in zip(places, batch.columns.subjects, strict=True):
            refs[place] = column_ref
        sources = [batch.columns.source] * len(refs)
        for place, item in zip(batch.other_places, batch.others, strict=True):
            if isinstance(item, KpiRecord):
                refs[place] = item.subject
                sources[place] = item.source
        ordered: dict[tuple[int, str], tuple[SubjectRef, str]] = {}
        for subject, source in zip(refs, sources, strict=True):
            if subject is None:
                continue
            ordered.setdefault((id(subject), source), (subject, source))
            if subject.kind == "agent":
                wanted[(source, subject.key)] = subject.display_name
        self._subjects.prepare(wanted, create=self._create_unknown)
        return list(ordered.values())

    def _resolve_ref(self, source: str, ref: SubjectRef) -> SubjectInfo | None:
        if ref.kind == "queue":
            return self._subjects.queue(source, ref.key)
        return self._subjects.agent(source, ref.key, ref.display_name, create=self._create_unknown)

    def _store_columns(
        self, columns: RecordColumns, fresh: Sequence[bool], infos: list[SubjectInfo | None], plan: _Plan
    ) -> None:
        size = sum(fresh)
        if not size:
            return
        every = all(fresh)

        def kept(values: list[Any]) -> list[Any]:
            return values if every else list(compress(values, fresh))

        kept_infos: list[SubjectInfo] = kept(infos)
        combined: list[list[datetime]] = []

        def instants() -> list[datetime]:
            if not combined:
                combined.append(kept(columns.instants()))
            return combined[0]

        days = _business_days(kept_infos, instants, columns.wall, kept)
        subject_ids = list(map(_SUBJECT_ID, kept_infos))
        facts = {key: kept(values) for key, values in columns.facts.items()}
        metrics = {key: kept(values) for key, values in columns.metrics.items()}
        kept_columns = RecordColumns(
            columns.source, kept(columns.external_ids), [], None, kept(columns.versions), facts,
            columns.bool_facts, metrics,
        )  # fmt: skip
        if metrics or not add_fact_columns(plan.deltas, subject_ids, days, facts):
            plan.deltas.add_many(subject_ids, days, kept_columns.fact_dicts(), kept_columns.metric_dicts())
        sqlite = self._connection.dialect.name == "sqlite"
        stored_facts = sqlite_json_objects(facts, size) if sqlite else None
        wall = columns.wall
        stored_instants = (
            sqlite_utc_texts(kept(wall.days), kept(wall.times)) if sqlite and wall and wall.is_utc() else None
        )
        stored_metrics = kept_columns.metric_dicts()
        stored_text = frozenset(
            name
            for name, text in (("facts", stored_facts), ("occurred_at", stored_instants))
            if text is not None
        ) | ({"metrics"} if not metrics else set())  # no metrics: all NULL, nothing to convert
        plan.column_sets.append((
            {
                "source": [columns.source] * size,
                "external_id": kept_columns.external_ids,
                "version": kept_columns.versions,
                "subject_id": subject_ids,
                "occurred_at": stored_instants if stored_instants is not None else instants(),
                "business_day": days,
                "facts": stored_facts if stored_facts is not None else kept_columns.fact_dicts(),
                "metrics": stored_metrics,
                "void": [False] * size,
                "is_current": [True] * size,
                "batch_id": [self._batch_id] * size,
                "received_at": [self._now] * size,
            },
            stored_text,
        ))  # fmt: skip

    def _resolve(self, record: KpiRecord) -> SubjectInfo | None:
        subject = record.subject
        if subject.kind == "queue":
            return self._subjects.queue(record.source, subject.key)
        return self._subjects.agent(
            record.source, subject.key, subject.display_name, create=self._create_unknown
        )

    def _store(
        self, located: list[tuple[int, KpiRecord, SubjectInfo]], plan: _Plan
    ) -> list[tuple[int, ItemOutcome]]:
        by_source: dict[str, set[str]] = defaultdict(set)
        for _, record, _ in located:
            by_source[record.source].add(record.external_id)
        existing = self._existing(by_source)
        results: list[tuple[int, ItemOutcome]] = []
        if self._own is not None:
            located, results = self._first_sightings(located, existing, plan)
        for index, record, subject in located:
            key = (record.source, record.external_id)
            versions = existing.get(key)
            if versions is None:
                results.append((index, self._first_sight(record, subject, existing, plan)))
                continue
            previous = versions.get(record.version)
            if previous is not None and not previous.voided_batch:
                results.append((index, self._redelivery(previous, record, subject)))
                continue
            current = next((v for v in versions.values() if v.is_current), None)
            becomes_current = current is None or record.version > current.version
            day = subject.day_of(record.occurred_at)
            row = self._row(record, subject.subject_id, day, becomes_current)
            if previous is not None:
                plan.revive.append((previous.id, row))
            else:
                plan.rows.append(row)
            entry = _entry(
                previous.id if previous else -1, record, subject.subject_id, day, row, becomes_current
            )
            versions[record.version] = entry
            reason = None
            if becomes_current:
                if current is not None:
                    current.supersede()
                    if current.id >= 0:
                        plan.retire.append(current.id)
                    _apply(plan.deltas, current, -1)
                if not record.void:
                    _apply(plan.deltas, entry, +1)
            else:
                reason = (
                    f"older than current version {current.version if current else '?'}: stored, no effect"
                )
            results.append((index, ItemOutcome(record.external_id, "accepted", reason)))
        return results

    def _redelivery(self, stored: _Existing, record: KpiRecord, subject: SubjectInfo) -> ItemOutcome:
        if stored.same_content(record, subject.subject_id):
            return ItemOutcome(record.external_id, "duplicate")
        return ItemOutcome(
            record.external_id,
            "rejected",
            f"version {record.version} of {record.external_id!r} is already stored with different content; "
            f"nothing changed: send version {record.version + 1} or higher to correct it",
            record.line,
        )

    def _first_sight(
        self,
        record: KpiRecord,
        subject: SubjectInfo,
        existing: dict[tuple[str, str], dict[int, _Existing]],
        plan: _Plan,
    ) -> ItemOutcome:
        """The common case, a record whose id was never seen: store it as current and roll it up."""
        day = subject.day_of(record.occurred_at)
        row = self._row(record, subject.subject_id, day, True)
        plan.rows.append(row)
        existing[(record.source, record.external_id)] = {
            record.version: _entry(-1, record, subject.subject_id, day, row, True)
        }
        if not record.void:
            plan.deltas.add(subject.subject_id, day, record.facts, record.metrics)
        return ItemOutcome(record.external_id, "accepted")

    def _first_sightings(
        self,
        located: list[tuple[int, KpiRecord, SubjectInfo]],
        existing: dict[tuple[str, str], dict[int, _Existing]],
        plan: _Plan,
    ) -> tuple[list[tuple[int, KpiRecord, SubjectInfo]], list[tuple[int, ItemOutcome]]]:
        """Store, column by column, the records whose (source, id) is neither stored nor repeated in the
        chunk: each is current and independent of every other. Returns the rest, for the general loop."""
        keys = [(record.source, record.external_id) for _, record, _ in located]
        repeated = {key for key, count in Counter(keys).items() if count > 1}
        if existing or repeated:
            fresh = [
                item
                for item, key in zip(located, keys, strict=True)
                if key not in existing and key not in repeated
            ]
            rest = [
                item for item, key in zip(located, keys, strict=True) if key in existing or key in repeated
            ]
        else:
            fresh, rest = located, []
        if not fresh:
            return rest, []
        records = [record for _, record, _ in fresh]
        subjects = [subject for _, _, subject in fresh]
        instants = [record.occurred_at for record in records]
        days = list(map(SubjectInfo.day_of, subjects, instants))
        subject_ids = [subject.subject_id for subject in subjects]
        facts = [record.facts or None for record in records]
        metrics = [
            {key: list(pair) for key, pair in record.metrics.items()} if record.metrics else None
            for record in records
        ]
        voids = [record.void for record in records]
        counted = [not void for void in voids]
        plan.deltas.add_many(
            _kept(subject_ids, counted), _kept(days, counted), _kept(facts, counted), _kept(metrics, counted)
        )
        size = len(records)
        plan.column_sets.append(({
            "source": [record.source for record in records],
            "external_id": [record.external_id for record in records],
            "version": [record.version for record in records],
            "subject_id": subject_ids,
            "occurred_at": instants,
            "business_day": days,
            "facts": facts,
            "metrics": metrics,
            "void": voids,
            "is_current": [True] * size,
            "batch_id": [self._batch_id] * size,
            "received_at": [self._now] * size,
        }, frozenset()))  # fmt: skip
        accepted = [(index, ItemOutcome(record.external_id, "accepted")) for index, record, _ in fresh]
        return rest, accepted

    def _existing(self, by_source: dict[str, set[str]]) -> dict[tuple[str, str], dict[int, _Existing]]:
        """The stored versions of these ids, by (source, external id)."""
        found: dict[tuple[str, str], dict[int, _Existing]] = {}
        table = table_of(KpiRecordRow)
        batches = table_of(ImportBatch)
        for source, ids in by_source.items():
            maybe = self._own.candidates(self._connection, source, ids) if self._own is not None else None
            if maybe is not None:
                ids = maybe
            elif self._connection.scalar(select(table.c.id).where(table.c.source == source).limit(1)) is None:
                continue
            ordered = sorted(ids)
            for start in range(0, len(ordered), 2000):
                rows = self._connection.execute(
                    select(
                        table.c.id,
                        table.c.external_id,
                        table.c.version,
                        table.c.is_current,
                        table.c.void,
                        table.c.subject_id,
                        table.c.business_day,
                        table.c.facts,
                        table.c.metrics,
                        table.c.occurred_at,
                        batches.c.voided_at,
                    )
                    .select_from(table.outerjoin(batches, batches.c.id == table.c.batch_id))
                    .where(table.c.source == source, table.c.external_id.in_(ordered[start : start + 2000]))
                )
                for row in rows:
                    found.setdefault((source, row.external_id), {})[row.version] = _Existing(
                        row.id,
                        row.version,
                        row.is_current,
                        row.void,
                        row.voided_at is not None,
                        row.subject_id,
                        row.business_day,
                        row.facts,
                        row.metrics,
                        row.occurred_at,
                    )
        return found

    def _row(self, record: KpiRecord, subject_id: int, day: date, current: bool) -> list[Any]:
        """A kpi_records row in RECORD_COLUMNS order."""
        return [
            record.source,
            record.external_id,
            record.version,
            subject_id,
            record.occurred_at,
            day,
            record.facts or None,
            {key: list(pair) for key, pair in record.metrics.items()} or None,
            record.void,
            current,
            self._batch_id,
            self._now,
        ]

    def _parked_row(self, record: KpiRecord, reason: str) -> dict[str, Any]:
        return {
            "source": record.source,
            "external_id": record.external_id,
            "version": record.version,
            "subject_kind": record.subject.kind,
            "subject_key": record.subject.key,
            "reason": reason,
            "record": record_to_json(record),
            "batch_id": self._batch_id,
            "created_at": self._now,
        }

    def _write(self, plan: _Plan) -> None:
        connection = self._connection
        table = table_of(KpiRecordRow)
        if plan.retire:
            for start in range(0, len(plan.retire), 500):
                connection.execute(
                    update(table)
                    .where(table.c.id.in_(plan.retire[start : start + 500]))
                    .values(is_current=False)
                )
        for record_id, row in plan.revive:
            values = dict(zip(RECORD_COLUMNS, row, strict=True))
            connection.execute(update(table).where(table.c.id == record_id).values(**values))
        insert_rows(connection, table, RECORD_COLUMNS, plan.rows)
        for columns, stored_text in plan.column_sets:
            insert_columns(connection, table, columns, stored_text=stored_text)
        if self._own is not None:
            written: dict[str, list[str]] = defaultdict(list)
            for row in [*plan.rows, *(row for _, row in plan.revive)]:
                written[row[0]].append(row[1])
            for columns, _ in plan.column_sets:
                sources, ids = columns["source"], columns["external_id"]
                if len(set(sources)) == 1:
                    written[sources[0]].extend(ids)
                else:
                    for source, external_id in zip(sources, ids, strict=True):
                        written[source].append(external_id)
            self._own.stored(connection, written.items())
        add_to_rollups(connection, plan.deltas.rows())
        queue_for_scoring(connection, plan.deltas.days())


_SUBJECT_ID = attrgetter("subject_id")


def _business_days(
    infos: list[SubjectInfo],
    instants: Callable[[], list[datetime]],
    wall: WallClock | None,
    kept: Callable[[list[Any]], list[Any]],
) -> list[date]:
    """Each record's business day. Subjects on the clock the file was read in take the wall-clock date
    (shifted by their day start); the others, and files without a wall clock, go instant by instant.
    Infos are shared objects, told apart by identity (hashing one hashes its clocks)."""
    distinct = dict(zip(map(id, infos), infos, strict=True))
    starts_by_id = {key: _wall_day_start(info, wall) for key, info in distinct.items()}
    starts = set(starts_by_id.values())
    if wall is None or starts == {None}:
        return list(map(SubjectInfo.day_of, infos, instants()))
    days: list[date] = kept(wall.days)
    if starts == {0}:
        return days
    times: list[time] = kept(wall.times)
    seconds = _SecondsOfDay()
    out = []
    for info, day, clock, instant in zip(infos, days, times, instants(), strict=True):
        start = starts_by_id[id(info)]
        if start is None:
            out.append(info.day_of(instant))
        elif start and seconds[clock] < start * 60:
            out.append(day - _ONE_DAY)
        else:
            out.append(day)
    return out


_ONE_DAY = timedelta(days=1)


class _SecondsOfDay(dict[time, int]):
    def __missing__(self, clock: time) -> int:
        value = self[clock] = clock.hour * 3600 + clock.minute * 60 + clock.second
        return value


def _wall_day_start(info: SubjectInfo, wall: WallClock | None) -> int | None:
    """The subject's day start in minutes when its business days follow the file's wall clock, else None."""
    if wall is None or info.spans or not 0 <= info.day_start_minutes < 24 * 60:
        return None
    return info.day_start_minutes if wall.same_zone(info.zone) else None


def _entry(
    record_id: int, record: KpiRecord, subject_id: int, day: date, row: list[Any], current: bool
) -> _Existing:
    """What this chunk now knows is stored for a record (id -1 until the insert)."""
    return _Existing(
        record_id,
        record.version,
        current,
        record.void,
        False,
        subject_id,
        day,
        row[_FACTS],
        row[_METRICS],
        record.occurred_at,
        row,
    )


def _kept(values: list[Any], keep: list[bool]) -> list[Any]:
    return values if all(keep) else [value for value, kept in zip(values, keep, strict=True) if kept]


def _apply(deltas: RollupDeltas, record: _Existing, sign: int) -> None:
    if not record.void:
        deltas.add(record.subject_id, record.business_day, record.facts, record.metrics, sign)
