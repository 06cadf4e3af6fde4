"""Team boards, normalized by headcount unless the program asks for totals: a big team does not win by
being big.

For points and totals (handled), a team's value is the sum over its members' member-days divided by its
headcount (the agents who belonged to it on any day of the period); with `team_boards: {normalize:
total}` it is the sum itself. For averages and rates it is the pooled ratio Σnum/Σden over those
member-days either way, which already weighs every contact once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from bot.program import Program
from bot.scoring.metrics import CATALOGUE, SCALE
from bot.scoring.periods import Period, window
from bot.scoring.ranking import competition_ranks
from bot.services.leaderboard import POINTS, UnknownBoard, is_queue_only, metric_names
from bot.store.models import ImportBatch, Person, PointsEntry, Rollup, Subject, Team, TeamMembership


@dataclass(frozen=True, slots=True)
class TeamEntry:
    rank: int
    team: str
    name: str
    value: float
    headcount: int
    samples: int


@dataclass(frozen=True, slots=True)
class TeamBoard:
    metric: str
    period: Period
    start: date
    end: date
    as_of: datetime | None
    entries: list[TeamEntry] = field(default_factory=list)
    #: how points and totals were compared: `per_member` (over headcount) or `total`
    normalize: str = "per_member"


def team_board(
    connection: Connection,
    program: Program,
    *,
    metric: str,
    period: Period,
    at: date,
    through: date | None = None,
) -> TeamBoard:
    """Every team's figure for the period containing `at`, stopped at business day `through` if given."""
    if metric != POINTS and metric not in CATALOGUE:
        raise UnknownBoard(f"unknown metric {metric!r}; choose one of: {', '.join(metric_names())}")
    if is_queue_only(metric):
        raise UnknownBoard(
            f"{metric} is measured on queues; see floorboard leaderboard --metric {metric} --queues"
        )
    start, end = window(period, at, program.week_starts_on)
    if through is not None:
        end = min(end, through)
    overlaps = and_(
        TeamMembership.valid_from <= end,
        or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > start),
        Person.role == "agent",
    )
    teams = connection.execute(
        select(Team.id, Team.key, Team.name, func.count(func.distinct(TeamMembership.person_id)))
        .join(TeamMembership, TeamMembership.team_id == Team.id)
        .join(Person, Person.id == TeamMembership.person_id)
        .where(overlaps)
        .group_by(Team.id, Team.key, Team.name)
    ).all()
    totals = _points(connection, start, end) if metric == POINTS else _sums(connection, metric, start, end)
    rows = []
    per_member = program.team_boards.normalize == "per_member"
    for team_id, key, name, headcount in teams:
        num, den = totals.get(team_id, (0, 0))
        divisor = headcount if per_member else 1
        if metric == POINTS:
            value, samples = num / 100 / divisor, den
        elif CATALOGUE[metric].kind == "total":
            value, samples = num / SCALE / divisor, round(num / SCALE)
        elif den:
            value, samples = num / den, round(den / SCALE)
        else:
            continue
        rows.append((key, name, value, int(headcount), samples))
    better = "higher" if metric == POINTS else program.better(metric)
    rows.sort(key=lambda row: row[0])
    ranked = competition_ranks(rows, key=lambda row: row[2], descending=better == "higher")
    entries = [
        TeamEntry(rank, key, name, value, headcount, samples)
        for rank, (key, name, value, headcount, samples) in ranked
    ]
    as_of = connection.scalar(select(func.max(ImportBatch.finished_at)))
    return TeamBoard(metric, period, start, end, as_of, entries, program.team_boards.normalize)


def _on_day(day_column: InstrumentedAttribute[date]) -> ColumnElement[bool]:
    return and_(
        TeamMembership.valid_from <= day_column,
        or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > day_column),
    )


def _sums(connection: Connection, metric: str, start: date, end: date) -> dict[int, tuple[int, int]]:
    rows = connection.execute(
        select(TeamMembership.team_id, func.sum(Rollup.num), func.sum(Rollup.den))
        .select_from(Rollup)
        .join(Subject, Subject.id == Rollup.subject_id)
        .join(Person, Person.id == Subject.person_id)
        .join(TeamMembership, and_(TeamMembership.person_id == Person.id, _on_day(Rollup.business_day)))
        .where(Rollup.metric == metric, Rollup.business_day.between(start, end), Person.role == "agent")
        .group_by(TeamMembership.team_id)
    )
    return {team_id: (int(num), int(den)) for team_id, num, den in rows}


def _points(connection: Connection, start: date, end: date) -> dict[int, tuple[int, int]]:
    rows = connection.execute(
        select(
            TeamMembership.team_id,
            func.sum(PointsEntry.amount),
            func.count(func.distinct(PointsEntry.business_day)),
        )
        .select_from(PointsEntry)
        .join(Person, Person.id == PointsEntry.person_id)
        .join(TeamMembership, and_(TeamMembership.person_id == Person.id, _on_day(PointsEntry.business_day)))
        .where(PointsEntry.business_day.between(start, end), Person.role == "agent")
        .group_by(TeamMembership.team_id)
    )
    return {team_id: (int(total), int(days)) for team_id, total, days in rows}
