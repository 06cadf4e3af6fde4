"""Recompute stored business days after a team's zone or day start, or an agent's team, changed.

DESIGN.md §2.8: the business day is stored on the record and changing a zone or day start means a rescore.
Records whose day moves leave their old day's rollups and join the new day's; both days are rescored.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, select, update

from bot.clock import Clock
from bot.program import Program
from bot.services.points import queue_for_scoring
from bot.services.rollup_deltas import RollupDeltas
from bot.store.models import ImportBatch, KpiRecordRow, Subject
from bot.store.subjects import SubjectInfo, SubjectResolver
from bot.store.upsert import add_to_rollups


@dataclass(frozen=True, slots=True)
class RezoneReport:
    records: int
    moved: int


def rezone(
    engine: Engine, program: Program, clock: Clock, person_ids: Collection[int] | None = None
) -> RezoneReport:
    """Move records to the business day their agent's (dated) team clock gives; None means everyone."""
    table = KpiRecordRow.__table__
    with engine.begin() as connection:
        resolver = SubjectResolver(
            connection, default_zone=program.zone, default_day_start=program.day_start_minutes, now=clock()
        )
        subjects = select(Subject.id, Subject.kind, Subject.person_id, Subject.namespace, Subject.key)
        if person_ids is not None:
            subjects = subjects.where(Subject.person_id.in_(sorted(person_ids)))
        infos: dict[int, SubjectInfo] = {}
        rows = connection.execute(subjects).all()
        people = resolver.for_people([r.person_id for r in rows if r.person_id is not None])
        for row in rows:
            if row.person_id is not None:
                infos[row.id] = people[row.person_id]
            else:
                infos[row.id] = resolver.queue(row.namespace, row.key)
        deltas = RollupDeltas(program.service_level_seconds)
        moves: list[dict[str, object]] = []
        records = 0
        query = (
            select(
                table.c.id,
                table.c.subject_id,
                table.c.occurred_at,
                table.c.business_day,
                table.c.facts,
                table.c.metrics,
                table.c.void,
                table.c.is_current,
                ImportBatch.voided_at,
            )
            .outerjoin(ImportBatch, ImportBatch.id == table.c.batch_id)
            .where(table.c.subject_id.in_(sorted(infos)))
            .execution_options(yield_per=5000)
        )
        for record in connection.execute(query):
            records += 1
            day = infos[record.subject_id].day_of(_aware(record.occurred_at))
            if day == record.business_day:
                continue
            moves.append({"record_id": record.id, "day": day})
            if record.is_current and not record.void and record.voided_at is None:
                deltas.add(record.subject_id, record.business_day, record.facts, record.metrics, -1)
                deltas.add(record.subject_id, day, record.facts, record.metrics, +1)
        if moves:
            connection.execute(
                update(table)
                .where(table.c.id == bindparam("record_id"))
                .values(business_day=bindparam("day")),
                moves,
            )
            add_to_rollups(connection, deltas.rows())
            queue_for_scoring(connection, deltas.days())
    return RezoneReport(records, len(moves))


def _aware(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant
