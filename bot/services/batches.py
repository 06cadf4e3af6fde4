"""Import batches: list them, and void one as a whole (its records stop counting; older versions return)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, tuple_, update

from bot.clock import Clock
from bot.program import Program
from bot.services.points import queue_for_scoring
from bot.services.rollup_deltas import RollupDeltas
from bot.store.models import AuditEntry, ImportBatch, KpiRecordRow, table_of
from bot.store.upsert import add_to_rollups


class BatchError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class BatchSummary:
    id: int
    source: str
    origin: str
    mapping: str | None
    filename: str | None
    created_at: datetime
    counts: dict[str, int]
    voided_at: datetime | None


def list_batches(engine: Engine) -> list[BatchSummary]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                ImportBatch.id,
                ImportBatch.source,
                ImportBatch.origin,
                ImportBatch.mapping,
                ImportBatch.filename,
                ImportBatch.created_at,
                ImportBatch.counts,
                ImportBatch.voided_at,
            ).order_by(ImportBatch.id)
        )
        return [BatchSummary(*row) for row in rows]


def void_batch(engine: Engine, program: Program, batch_id: int, *, actor: str, clock: Clock) -> int:
    """Void a batch; returns how many current records stopped counting."""
    sl = program.service_level_seconds
    now = clock()
    with engine.begin() as connection:
        batch = connection.execute(select(ImportBatch.voided_at).where(ImportBatch.id == batch_id)).first()
        if batch is None:
            raise BatchError(f"no import batch {batch_id}; see: floorboard batches list")
        if batch.voided_at is not None:
            raise BatchError(f"batch {batch_id} was already voided at {batch.voided_at:%Y-%m-%d %H:%M}")
        connection.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(voided_at=now))
        table = table_of(KpiRecordRow)
        current = connection.execute(
            select(
                table.c.id,
                table.c.source,
                table.c.external_id,
                table.c.subject_id,
                table.c.business_day,
                table.c.facts,
                table.c.metrics,
                table.c.void,
            ).where(table.c.batch_id == batch_id, table.c.is_current.is_(True))
        ).all()
        deltas = RollupDeltas(sl)

        def apply(row: Any, sign: int) -> None:
            if not row.void:
                deltas.add(row.subject_id, row.business_day, row.facts, row.metrics, sign)

        for row in current:
            apply(row, -1)
        ids = [row.id for row in current]
        for start in range(0, len(ids), 500):
            connection.execute(
                update(table).where(table.c.id.in_(ids[start : start + 500])).values(is_current=False)
            )
        keys = sorted({(row.source, row.external_id) for row in current})
        for start in range(0, len(keys), 400):
            candidates = connection.execute(
                select(
                    table.c.id,
                    table.c.source,
                    table.c.external_id,
                    table.c.version,
                    table.c.subject_id,
                    table.c.business_day,
                    table.c.facts,
                    table.c.metrics,
                    table.c.void,
                )
                .outerjoin(ImportBatch, ImportBatch.id == table.c.batch_id)
                .where(
                    tuple_(table.c.source, table.c.external_id).in_(keys[start : start + 400]),
                    ImportBatch.voided_at.is_(None),
                )
            ).all()
            best: dict[tuple[str, str], Any] = {}
            for candidate in candidates:
                key = (candidate.source, candidate.external_id)
                if key not in best or candidate.version > best[key].version:
                    best[key] = candidate
            for chosen in best.values():
                connection.execute(update(table).where(table.c.id == chosen.id).values(is_current=True))
                apply(chosen, +1)
        add_to_rollups(connection, deltas.rows())
        queue_for_scoring(connection, deltas.days())
        connection.execute(
            table_of(AuditEntry)
            .insert()
            .values(
                at=now,
                actor=actor,
                action="batch.void",
                target=f"batch:{batch_id}",
                details={"records": len(ids)},
            )
        )
    return len(ids)
