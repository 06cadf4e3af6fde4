"""Rebuild rollups from the stored records, and report whether they matched the incremental ones."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete, select

from bot.program import Program
from bot.services.points import queue_for_scoring
from bot.services.rollup_deltas import RollupDeltas
from bot.store.models import ImportBatch, KpiRecordRow, Rollup, table_of


@dataclass(frozen=True, slots=True)
class RebuildReport:
    records: int
    rollups: int
    changed: int


def rebuild(engine: Engine, program: Program) -> RebuildReport:
    """Recompute every rollup from the current records in one transaction; changed days are rescored."""
    sums = RollupDeltas(program.service_level_seconds)
    records = 0
    with engine.begin() as connection:
        rows = connection.execute(
            select(
                KpiRecordRow.subject_id, KpiRecordRow.business_day, KpiRecordRow.facts, KpiRecordRow.metrics
            )
            .outerjoin(ImportBatch, ImportBatch.id == KpiRecordRow.batch_id)
            .where(
                KpiRecordRow.is_current.is_(True),
                KpiRecordRow.void.is_(False),
                ImportBatch.voided_at.is_(None),
            )
            .execution_options(yield_per=5000)
        )
        for subject_id, day, facts, metrics in rows:
            records += 1
            sums.add(subject_id, day, facts, metrics)
        before = {
            (r.subject_id, r.business_day, r.metric): (r.num, r.den)
            for r in connection.execute(
                select(Rollup.subject_id, Rollup.business_day, Rollup.metric, Rollup.num, Rollup.den)
            )
            if r.num or r.den
        }
        after = {key: pair for key, pair in sums.items() if pair[0] or pair[1]}
        changed = {key for key in set(before) | set(after) if before.get(key) != after.get(key)}
        connection.execute(delete(Rollup))
        if after:
            connection.execute(
                table_of(Rollup).insert(),
                [
                    {"subject_id": s, "business_day": d, "metric": m, "num": n, "den": dn}
                    for (s, d, m), (n, dn) in after.items()
                ],
            )
        queue_for_scoring(connection, {(s, d) for s, d, _ in changed})
    return RebuildReport(records, len(after), len(changed))
