"""Recompute stored business days after a team's zone or day start, or an agent's team, changed.

DESIGN.md §2.8: the business day is stored on the record and changing a zone or day start means a rescore.
Records whose day moves leave their old day's rollups and join the new day's; both days are rescored.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, bindparam, select, update

from bot.clock import Clock
from bot.program import Program
from bot.services.points import queue_for_scoring
from bot.services.rollup_deltas import RollupDeltas
from bot.store.models import ImportBatch, KpiRecordRow, Subject, table_of
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
    table = table_of(KpiRecordRow)
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
        moves: dict[int, date] = {}
        records = 0
        light = select(table.c.id, table.c.subject_id, table.c.occurred_at, table.c.business_day)
        if person_ids is not None:
            light = light.where(table.c.subject_id.in_(sorted(infos)))
        for record_id, subject_id, occurred_at, stored_day in connection.execute(
            light.execution_options(yield_per=20_000)
        ):
            records += 1
            day = infos[subject_id].day_of(_aware(occurred_at))
            if day != stored_day:
                moves[record_id] = day
        if moves:
            _move(connection, program, moves)
    return RezoneReport(records, len(moves))


def _move(connection: Connection, program: Program, moves: dict[int, date]) -> None:
    """Re-date the records and carry the current ones' contributions from the old day to the new."""
    table = table_of(KpiRecordRow)
    deltas = RollupDeltas(program.service_level_seconds)
    ids = sorted(moves)
    for start in range(0, len(ids), 2000):
        part = ids[start : start + 2000]
        rows = connection.execute(
            select(table.c.id, table.c.subject_id, table.c.business_day, table.c.facts, table.c.metrics)
            .outerjoin(ImportBatch, ImportBatch.id == table.c.batch_id)
            .where(
                table.c.id.in_(part),
                table.c.is_current.is_(True),
                table.c.void.is_(False),
                ImportBatch.voided_at.is_(None),
            )
        )
        for record_id, subject_id, old_day, facts, metrics in rows:
            deltas.add(subject_id, old_day, facts, metrics, -1)
            deltas.add(subject_id, moves[record_id], facts, metrics, +1)
    connection.execute(
        update(table).where(table.c.id == bindparam("record_id")).values(business_day=bindparam("day")),
        [{"record_id": record_id, "day": day} for record_id, day in moves.items()],
    )
    add_to_rollups(connection, deltas.rows())
    queue_for_scoring(connection, deltas.days())


def _aware(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant
