"""The ledger's equality (DESIGN.md §5), keyed by names so two databases can be compared."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, select

from bot.store.models import Person, PointsEntry, Rollup, Subject

PointsKey = tuple[str, date, str, int]
RollupKey = tuple[str, date, str]


def net_points(engine: Engine) -> dict[PointsKey, int]:
    """Net hundredths per (agent, business day, rule, program version); a rule netting to zero is absent.

    Two ledgers are equal when these maps are equal: replay and arrival order must not change them.
    """
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Person.display_name,
                PointsEntry.business_day,
                PointsEntry.rule,
                PointsEntry.program_version,
                func.sum(PointsEntry.amount),
            )
            .join(Person, Person.id == PointsEntry.person_id)
            .group_by(
                Person.display_name, PointsEntry.business_day, PointsEntry.rule, PointsEntry.program_version
            )
        )
        return {(name, day, rule, version): int(total) for name, day, rule, version, total in rows if total}


def rollup_sums(engine: Engine) -> dict[RollupKey, tuple[int, int]]:
    """Every non-empty rollup, keyed by the agent's name or the queue's key."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                func.coalesce(Person.display_name, Subject.key),
                Rollup.business_day,
                Rollup.metric,
                Rollup.num,
                Rollup.den,
            )
            .join(Subject, Subject.id == Rollup.subject_id)
            .outerjoin(Person, Person.id == Subject.person_id)
        )
        return {(name, day, metric): (num, den) for name, day, metric, num, den in rows if num or den}
