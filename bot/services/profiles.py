"""What one person has: points balance and breakdown, ledger changes with their reasons, KPIs vs targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from bot.program import Program
from bot.scoring.metrics import CATALOGUE, samples_of, value_of
from bot.scoring.periods import Period, window
from bot.services import leagues
from bot.services.leaderboard import POINTS, board
from bot.store.models import PointsEntry, Rollup, Subject


@dataclass(frozen=True, slots=True)
class PointsStanding:
    """Amounts are integer hundredths; `rank` is on the points board of `period` (None: not ranked), the
    person's league's board when the program competes `within_leagues`."""

    balance: int
    period: Period
    start: date
    end: date
    day: date
    day_rules: dict[str, int] = field(default_factory=dict)
    period_rules: dict[str, int] = field(default_factory=dict)
    rank: int | None = None
    ranked: int = 0

    @property
    def day_total(self) -> int:
        return sum(self.day_rules.values())

    @property
    def period_total(self) -> int:
        return sum(self.period_rules.values())


@dataclass(frozen=True, slots=True)
class LedgerChange:
    id: int
    business_day: date
    rule: str
    entry: str
    amount: int
    template: str
    inputs: dict[str, Any]
    program_version: int


@dataclass(frozen=True, slots=True)
class KpiStanding:
    metric: str
    value: float | None
    samples: int
    target: float | None
    better: str
    min_samples: int

    @property
    def eligible(self) -> bool:
        return self.value is not None and self.samples >= self.min_samples

    @property
    def on_target(self) -> bool | None:
        if self.target is None or not self.eligible or self.value is None:
            return None
        return self.value >= self.target if self.better == "higher" else self.value <= self.target


def balance(connection: Connection, person_id: int) -> int:
    """Every ledger amount of the person, in hundredths: awards minus reversals, all time."""
    return int(
        connection.scalar(
            select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(PointsEntry.person_id == person_id)
        )
        or 0
    )


def by_rule(connection: Connection, person_id: int, start: date, end: date) -> dict[str, int]:
    """Net hundredths per rule over the business days [start, end]; rules that net to zero are kept."""
    rows = connection.execute(
        select(PointsEntry.rule, func.sum(PointsEntry.amount))
        .where(PointsEntry.person_id == person_id, PointsEntry.business_day.between(start, end))
        .group_by(PointsEntry.rule)
        .order_by(PointsEntry.rule)
    )
    return {rule: int(total) for rule, total in rows}


def standing(
    connection: Connection, program: Program, person_id: int, *, period: Period, at: date
) -> PointsStanding:
    start, end = window(period, at, program.week_starts_on)
    league = leagues.of(connection, program, person_id, end) if program.within_leagues else None
    points_board = board(connection, program, metric=POINTS, period=period, at=at, league=league)
    entry = points_board.rank_of(person_id)
    return PointsStanding(
        balance=balance(connection, person_id),
        period=period,
        start=start,
        end=end,
        day=at,
        day_rules=by_rule(connection, person_id, at, at),
        period_rules=by_rule(connection, person_id, start, end),
        rank=entry.rank if entry else None,
        ranked=len(points_board.entries),
    )


def last_change_day(connection: Connection, person_id: int, on_or_before: date | None = None) -> date | None:
    """The latest business day with a ledger row for the person (not after `on_or_before`)."""
    query = select(func.max(PointsEntry.business_day)).where(PointsEntry.person_id == person_id)
    if on_or_before is not None:
        query = query.where(PointsEntry.business_day <= on_or_before)
    found = connection.scalar(query)
    return found if isinstance(found, date) else None


def changes(connection: Connection, person_id: int, day: date) -> list[LedgerChange]:
    """Every ledger row of the person on one business day, in the order written."""
    rows = connection.execute(
        select(
            PointsEntry.id,
            PointsEntry.business_day,
            PointsEntry.rule,
            PointsEntry.entry,
            PointsEntry.amount,
            PointsEntry.template,
            PointsEntry.inputs,
            PointsEntry.program_version,
        )
        .where(PointsEntry.person_id == person_id, PointsEntry.business_day == day)
        .order_by(PointsEntry.id)
    )
    return [LedgerChange(*row) for row in rows]


def kpis(
    connection: Connection, program: Program, person_id: int, start: date, end: date
) -> list[KpiStanding]:
    """The program's metrics for the person over [start, end], each with its target and direction."""
    metrics = [metric for metric in program.metrics if metric in CATALOGUE]
    sums: dict[str, tuple[int, int]] = {}
    if metrics:
        rows = connection.execute(
            select(Rollup.metric, func.sum(Rollup.num), func.sum(Rollup.den))
            .join(Subject, Subject.id == Rollup.subject_id)
            .where(
                Subject.person_id == person_id,
                Rollup.metric.in_(metrics),
                Rollup.business_day.between(start, end),
            )
            .group_by(Rollup.metric)
        )
        sums = {metric: (int(num), int(den)) for metric, num, den in rows}
    out = []
    for metric in metrics:
        policy = program.policy(metric)
        num, den = sums.get(metric, (0, 0))
        value = value_of(metric, num, den) if metric in sums else None
        count = samples_of(num if CATALOGUE[metric].kind == "total" else den)
        out.append(
            KpiStanding(metric, value, count, policy.target, program.better(metric), policy.min_samples)
        )
    return out
