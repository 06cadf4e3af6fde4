"""Leaderboards from rollups (KPIs) or the ledger (points), computed by the database, ranked fairly."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Connection, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from bot.program import Program
from bot.scoring.confidence import RankBy, bayesian_average, method_label, population_mean
from bot.scoring.metrics import CATALOGUE, samples_of, value_of
from bot.scoring.periods import Period, window
from bot.scoring.ranking import competition_ranks
from bot.services import leagues
from bot.store.models import ImportBatch, Person, PointsEntry, Rollup, Subject, Team, TeamMembership

POINTS = "points"


class UnknownBoard(ValueError):
    """A metric, period or team the caller named does not exist; the message lists what does."""


class QueueMetric(UnknownBoard):
    """An agent board of a metric only the center has: agents take only answered contacts, so every
    agent's abandon rate is 0. The message points to the queue board."""

    def __init__(self, metric: str) -> None:
        super().__init__(
            f"{metric} is measured on queues, not on agents (agents take only answered contacts, so every "
            f"agent would rank at 0); see the center-wide figure: floorboard leaderboard --metric {metric} "
            "--queues"
        )
        self.metric = metric


@dataclass(frozen=True, slots=True)
class Entry:
    rank: int
    person_id: int
    name: str
    value: float
    samples: int
    public: bool
    rank_value: float = 0.0
    method: str = "raw"


@dataclass(frozen=True, slots=True)
class Unranked:
    person_id: int
    name: str
    value: float | None
    samples: int
    public: bool


@dataclass(frozen=True, slots=True)
class Board:
    metric: str
    period: Period
    start: date
    end: date
    team: str | None
    as_of: datetime | None
    min_samples: int
    entries: list[Entry] = field(default_factory=list)
    unranked: list[Unranked] = field(default_factory=list)
    league: str | None = None

    def rank_of(self, person_id: int) -> Entry | None:
        return next((entry for entry in self.entries if entry.person_id == person_id), None)


@dataclass(frozen=True, slots=True)
class QueueCount:
    queue: str  # "source/key"
    abandoned: int


@dataclass(frozen=True, slots=True)
class QueueBoard:
    """The center-wide figure of a queue metric, and the abandoned contacts of each queue.

    `value` is Σnum / Σden over every subject (agents' answered contacts and queues' abandons), so the
    abandon rate is all abandons over all offered contacts. Per queue only the abandoned count is honest:
    answered contacts are stored on the agent who took them, not on their queue.
    """

    metric: str
    period: Period
    start: date
    end: date
    as_of: datetime | None
    value: float | None
    samples: int
    queues: list[QueueCount] = field(default_factory=list)


def metric_names() -> list[str]:
    return [POINTS, *CATALOGUE]


def queue_metric_names() -> list[str]:
    return [key for key, metric in CATALOGUE.items() if metric.scope != "agent"]


def is_queue_only(metric: str) -> bool:
    return metric in CATALOGUE and CATALOGUE[metric].scope == "queue"


def board(
    connection: Connection,
    program: Program,
    *,
    metric: str,
    period: Period,
    at: date,
    team: str | None = None,
    team_ids: Collection[int] | None = None,
    league: str | None = None,
    through: date | None = None,
) -> Board:
    """The full board (the admin view); callers apply visibility rules for public posts.

    Only agents rank: people whose role is supervisor or admin never appear, even with kudos points.
    `team` (a key or name) counts each agent's figures only on the days they belonged to that team;
    `team_ids` does the same for the union of several teams (a supervisor's teams): a day counts once
    when the agent was in any of them. Given both, a day must be in `team` and in one of `team_ids`.
    `league` keeps the agents the program puts in that league on the period's last day; the board's
    mean (the prior of confidence-adjusted ranking) is then the league's. `through` stops the period at
    that business day (a post as it stood on a day inside its week); the board's `end` says so.
    """
    if metric not in CATALOGUE and metric != POINTS:
        raise UnknownBoard(f"unknown metric {metric!r}; choose one of: {', '.join(metric_names())}")
    if is_queue_only(metric):
        raise QueueMetric(metric)
    start, end = window(period, at, program.week_starts_on)
    if through is not None:
        end = min(end, through)
    scopes = [frozenset(team_ids)] if team_ids is not None else []
    team_id = _team_id(connection, team)
    if team_id is not None:
        scopes.append(frozenset({team_id}))
    if metric == POINTS:
        rows = _points(connection, start, end, scopes)
        better, min_samples = "higher", 1
    else:
        rows = _kpis(connection, metric, start, end, scopes)
        better, min_samples = program.better(metric), program.policy(metric).min_samples
    if league is not None:
        known = [rule.id for rule in program.league_rules()]
        if league not in known:
            raise UnknownBoard(
                f"unknown league {league!r}; leagues: {', '.join(known) or 'none in the program'}"
            )
        in_league = leagues.members(connection, program, league, end)
        rows = [row for row in rows if row[0] in in_league]
    ranked_rows, unranked = [], []
    for person_id, name, public, value, samples in rows:
        if value is None or samples < min_samples:
            unranked.append(Unranked(person_id, name, value, samples, public))
        else:
            ranked_rows.append((person_id, name, public, value, samples))
    adjust = _rank_value(
        program, metric, [(value, samples) for *_, value, samples in rows if value is not None]
    )
    scored = [
        (pid, name, public, value, samples, adjust.value(value, samples))
        for pid, name, public, value, samples in ranked_rows
    ]
    scored.sort(key=lambda r: (r[1], r[0]))
    ranked = competition_ranks(scored, key=lambda r: r[5], descending=better == "higher")
    entries = [
        Entry(rank, pid, name, value, samples, public, rank_value, adjust.label)
        for rank, (pid, name, public, value, samples, rank_value) in ranked
    ]
    unranked.sort(key=lambda u: (u.name, u.person_id))
    as_of = connection.scalar(select(func.max(ImportBatch.finished_at)))
    return Board(metric, period, start, end, team, as_of, min_samples, entries, unranked, league)


@dataclass(frozen=True, slots=True)
class _Adjustment:
    rank_by: RankBy
    prior_weight: float
    prior_mean: float | None

    @property
    def label(self) -> str:
        return method_label(self.rank_by, self.prior_weight, self.prior_mean)

    def value(self, value: float, samples: int) -> float:
        if self.rank_by == "raw" or self.prior_mean is None:
            return value
        return bayesian_average(value, samples, self.prior_mean, self.prior_weight)


def _rank_value(program: Program, metric: str, population: list[tuple[float, int]]) -> _Adjustment:
    """How this board ranks: raw values, or Bayesian averages toward the whole board's mean (every agent
    with data in the window, ranked or not, makes the prior)."""
    if metric == POINTS:
        return _Adjustment("raw", 0, None)
    return _Adjustment(
        program.rank_by(metric), program.policy(metric).prior_weight, population_mean(population)
    )


def queue_board(
    connection: Connection, program: Program, *, metric: str, period: Period, at: date
) -> QueueBoard:
    """The center-wide figure of `metric` (abandon_rate or service_level) and abandons per queue."""
    if metric not in CATALOGUE or CATALOGUE[metric].scope == "agent":
        raise UnknownBoard(
            f"{metric!r} has no queue board; queue boards show: {', '.join(queue_metric_names())}"
        )
    start, end = window(period, at, program.week_starts_on)
    num, den = connection.execute(
        select(func.coalesce(func.sum(Rollup.num), 0), func.coalesce(func.sum(Rollup.den), 0)).where(
            Rollup.metric == metric, Rollup.business_day.between(start, end)
        )
    ).one()
    abandoned = func.sum(Rollup.num)
    queues = connection.execute(
        select(Subject.namespace, Subject.key, abandoned)
        .select_from(Rollup)
        .join(Subject, Subject.id == Rollup.subject_id)
        .where(
            Subject.kind == "queue", Rollup.metric == "abandon_rate", Rollup.business_day.between(start, end)
        )
        .group_by(Subject.namespace, Subject.key)
        .having(abandoned != 0)
    ).all()
    counts = sorted(
        (QueueCount(f"{namespace}/{key}", samples_of(int(total))) for namespace, key, total in queues),
        key=lambda count: (-count.abandoned, count.queue),
    )
    as_of = connection.scalar(select(func.max(ImportBatch.finished_at)))
    value = value_of(metric, int(num), int(den))
    return QueueBoard(metric, period, start, end, as_of, value, samples_of(int(den)), counts)


def _team_id(connection: Connection, team: str | None) -> int | None:
    if team is None:
        return None
    team_id = connection.scalar(select(Team.id).where(or_(Team.key == team, Team.name == team)))
    if team_id is None:
        known = connection.scalars(select(Team.key).order_by(Team.key)).all()
        raise UnknownBoard(
            f"unknown team {team!r}; teams: {', '.join(known) or 'none yet (import a roster)'}"
        )
    return int(team_id)


def _member_on(day_column: InstrumentedAttribute[date], team_ids: frozenset[int]) -> ColumnElement[bool]:
    """The person of the row belonged to one of `team_ids` on the row's business day.

    An EXISTS, not a join: overlapping memberships (two supervised teams on one day) count the day once.
    """
    return exists().where(
        TeamMembership.person_id == Person.id,
        TeamMembership.team_id.in_(team_ids),
        TeamMembership.valid_from <= day_column,
        or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > day_column),
    )


def _kpis(
    connection: Connection, metric: str, start: date, end: date, scopes: list[frozenset[int]]
) -> list[tuple[int, str, bool, float | None, int]]:
    query = (
        select(
            Person.id, Person.display_name, Person.public_boards, func.sum(Rollup.num), func.sum(Rollup.den)
        )
        .select_from(Rollup)
        .join(Subject, Subject.id == Rollup.subject_id)
        .join(Person, Person.id == Subject.person_id)
        .where(
            Rollup.metric == metric,
            Rollup.business_day.between(start, end),
            Subject.kind == "agent",
            Person.role == "agent",
            *(_member_on(Rollup.business_day, team_ids) for team_ids in scopes),
        )
        .group_by(Person.id, Person.display_name, Person.public_boards)
        .having(or_(func.sum(Rollup.num) != 0, func.sum(Rollup.den) != 0))
    )
    out = []
    for person_id, name, public, num, den in connection.execute(query):
        num, den = int(num), int(den)
        if CATALOGUE[metric].kind == "total":
            out.append((person_id, name, public, value_of(metric, num, den), samples_of(num)))
        else:
            out.append((person_id, name, public, value_of(metric, num, den), samples_of(den)))
    return out


def _points(
    connection: Connection, start: date, end: date, scopes: list[frozenset[int]]
) -> list[tuple[int, str, bool, float | None, int]]:
    query = (
        select(
            Person.id,
            Person.display_name,
            Person.public_boards,
            func.sum(PointsEntry.amount),
            func.count(func.distinct(PointsEntry.business_day)),
        )
        .select_from(PointsEntry)
        .join(Person, Person.id == PointsEntry.person_id)
        .where(
            PointsEntry.business_day.between(start, end),
            Person.role == "agent",
            *(_member_on(PointsEntry.business_day, team_ids) for team_ids in scopes),
        )
        .group_by(Person.id, Person.display_name, Person.public_boards)
        .having(func.sum(PointsEntry.amount) != 0)
    )
    return [
        (pid, name, public, int(total) / 100, int(days))
        for pid, name, public, total, days in connection.execute(query)
    ]
