"""`rescore`: replay the stored records under the program versions in force, from a day on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, select, union

from bot.clock import Clock
from bot.program import Program
from bot.services.points import queue_for_scoring, score_pending
from bot.services.programs import ProgramHistory
from bot.services.rezone import rezone
from bot.services.rollups import rebuild
from bot.store.models import PointsEntry, Rollup, Subject


@dataclass(frozen=True, slots=True)
class RescoreReport:
    days: int
    ledger_rows: int
    records_moved: int
    rollups_changed: int


def rescore(
    engine: Engine, program: Program, history: ProgramHistory, clock: Clock, since: date
) -> RescoreReport:
    """Re-date records, rebuild rollups, and rescore every agent-day from `since` that has data or points.

    Idempotent: a second run finds every (agent, day, rule, version) already netting to what it should and
    writes nothing.
    """
    moved = rezone(engine, program, clock)
    rebuilt = rebuild(engine, program)
    with engine.begin() as connection:
        with_data = select(Rollup.subject_id, Rollup.business_day).where(Rollup.business_day >= since)
        with_points = (
            select(Subject.id, PointsEntry.business_day)
            .join(Subject, Subject.person_id == PointsEntry.person_id)
            .where(PointsEntry.business_day >= since)
        )
        days = [(subject_id, day) for subject_id, day in connection.execute(union(with_data, with_points))]
        before = connection.scalar(select(func.count()).select_from(PointsEntry)) or 0
        queue_for_scoring(connection, days)
    score_pending(engine, history, clock)
    with engine.connect() as connection:
        after = connection.scalar(select(func.count()).select_from(PointsEntry)) or 0
    return RescoreReport(len(days), after - before, moved.moved, rebuilt.changed)
