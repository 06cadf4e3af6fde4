"""Parked records: KPI records that could not be scored yet (an unknown agent key), and their replay.

A replayed record goes back into the batch that brought it, so voiding that batch still retracts it.
Records of a voided batch stay parked: replaying them would count a batch the operator took back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from bot.clock import Clock
from bot.feeds.record_json import record_from_json
from bot.services.ingest import Ingestor
from bot.store.models import ImportBatch, ParkedRecord


@dataclass(frozen=True, slots=True)
class ParkedSummary:
    id: int
    source: str
    external_id: str
    version: int
    subject_kind: str
    subject_key: str
    reason: str
    batch_id: int | None
    created_at: datetime
    resolved_at: datetime | None


@dataclass(slots=True)
class ReplayReport:
    replayed: int = 0
    imported: int = 0
    duplicate: int = 0
    still_parked: int = 0
    skipped_voided: int = 0

    @property
    def resolved(self) -> int:
        return self.imported + self.duplicate

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def list_parked(
    engine: Engine, *, include_resolved: bool = False, source: str | None = None
) -> list[ParkedSummary]:
    query = select(
        ParkedRecord.id,
        ParkedRecord.source,
        ParkedRecord.external_id,
        ParkedRecord.version,
        ParkedRecord.subject_kind,
        ParkedRecord.subject_key,
        ParkedRecord.reason,
        ParkedRecord.batch_id,
        ParkedRecord.created_at,
        ParkedRecord.resolved_at,
    ).order_by(ParkedRecord.id)
    if not include_resolved:
        query = query.where(ParkedRecord.resolved_at.is_(None))
    if source is not None:
        query = query.where(ParkedRecord.source == source)
    with engine.connect() as connection:
        return [ParkedSummary(**row._asdict()) for row in connection.execute(query)]


def replay(
    engine: Engine, ingestor: Ingestor, clock: Clock, *, source: str | None = None, chunk_size: int = 1000
) -> ReplayReport:
    """Ingest every unresolved parked record again (never creating agents); resolve those that stick.

    The caller scores afterwards. Safe to repeat or interrupt: a record already in counts as a duplicate.
    """
    report = ReplayReport()
    query = (
        select(ParkedRecord.id, ParkedRecord.batch_id, ParkedRecord.record, ImportBatch.voided_at)
        .outerjoin(ImportBatch, ImportBatch.id == ParkedRecord.batch_id)
        .where(ParkedRecord.resolved_at.is_(None))
        .order_by(ParkedRecord.id)
        .limit(chunk_size)
    )
    if source is not None:
        query = query.where(ParkedRecord.source == source)
    last_id = 0
    while True:
        with engine.connect() as connection:
            page = connection.execute(query.where(ParkedRecord.id > last_id)).all()
        if not page:
            return report
        last_id = page[-1].id
        by_batch: dict[int | None, list[tuple[int, dict[str, Any]]]] = {}
        for row in page:
            if row.voided_at is not None:
                report.skipped_voided += 1
            else:
                by_batch.setdefault(row.batch_id, []).append((row.id, row.record))
        for batch_id, items in by_batch.items():
            _replay_items(engine, ingestor, clock, batch_id, items, report)


def _replay_items(
    engine: Engine,
    ingestor: Ingestor,
    clock: Clock,
    batch_id: int | None,
    items: list[tuple[int, dict[str, Any]]],
    report: ReplayReport,
) -> None:
    records = [record_from_json(record) for _, record in items]
    outcomes = ingestor.ingest(records, batch_id=batch_id, create_unknown=False)
    resolved = []
    moved = {"imported": 0, "duplicate": 0}
    for (parked_id, _), outcome in zip(items, outcomes, strict=True):
        report.replayed += 1
        if outcome.status == "parked":
            report.still_parked += 1
            continue
        resolved.append(parked_id)
        kind = "duplicate" if outcome.status == "duplicate" else "imported"
        moved[kind] += 1
        setattr(report, kind, getattr(report, kind) + 1)
    _resolve(engine, resolved, batch_id, moved, clock())


def _resolve(
    engine: Engine, ids: list[int], batch_id: int | None, moved: dict[str, int], at: datetime
) -> None:
    """Mark the records resolved and move them in their batch's counts from parked to where they went."""
    if not ids:
        return
    with engine.begin() as connection:
        for start in range(0, len(ids), 500):
            connection.execute(
                update(ParkedRecord)
                .where(ParkedRecord.id.in_(ids[start : start + 500]))
                .values(resolved_at=at)
            )
        if batch_id is None:
            return
        counts = dict(connection.scalar(select(ImportBatch.counts).where(ImportBatch.id == batch_id)) or {})
        counts["parked"] = max(0, counts.get("parked", 0) - len(ids))
        for kind, number in moved.items():
            counts[kind] = counts.get(kind, 0) + number
        connection.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(counts=counts))
