"""Rebuild rollups from the stored records, and report whether they matched the incremental ones."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select

from bot.program import Program
from bot.scoring.metrics import contributions
from bot.services.points import queue_for_scoring
from bot.store.models import ImportBatch, KpiRecordRow, Rollup


@dataclass(frozen=True, slots=True)
class RebuildReport:
    records: int
    rollups: int
    changed: int


def rebuild(engine: Engine, program: Program) -> RebuildReport:
    """Recompute every rollup from the current records in one transaction; changed days are rescored."""
    sums: dict[tuple[int, object, str], list[int]] = defaultdict(lambda: [0, 0])
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
            pairs = {k: tuple(v) for k, v in (metrics or {}).items()}
            for metric, (num, den) in contributions(
                facts, pairs, service_level_seconds=program.service_level_seconds
            ).items():
                cell = sums[(subject_id, day, metric)]
                cell[0] += num
                cell[1] += den
        before = {
            (r.subject_id, r.business_day, r.metric): (r.num, r.den)
            for r in connection.execute(
                select(Rollup.subject_id, Rollup.business_day, Rollup.metric, Rollup.num, Rollup.den)
            )
            if r.num or r.den
        }
        after = {key: (num, den) for key, (num, den) in sums.items() if num or den}
        changed = {key for key in set(before) | set(after) if before.get(key) != after.get(key)}
        connection.execute(delete(Rollup))
        if after:
            connection.execute(
                Rollup.__table__.insert(),
                [
                    {"subject_id": s, "business_day": d, "metric": m, "num": n, "den": dn}
                    for (s, d, m), (n, dn) in after.items()
                ],
            )
        queue_for_scoring(connection, sorted({(s, d) for s, d, _ in changed}))
    return RebuildReport(records, len(after), len(changed))
