"""Challenges: create, join, live progress from the rollups, end with results and rewards, cancel.

Every action is one transaction with an audit line. Ending is guarded twice: the status moves from open
exactly once (an UPDATE … WHERE status = 'open'), and each person's result row, points entry and coins
entry have unique keys, so rewards are granted exactly once whoever ends it and however often.

A window is whole business days on the participants' clocks, as their records are dated: each team's
zone and day start. `current_day` is a challenge's business day at an instant, the earliest any participant
team's clock shows, so a window is over only once the last team's last day is.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Engine, exists, func, insert, or_, select, true, update

from bot.program import Program
from bot.scoring import challenges as arithmetic
from bot.scoring.metrics import CATALOGUE, samples_of, value_of
from bot.scoring.periods import business_day
from bot.scoring.zones import hundredths
from bot.services import audit, badges, leagues, people, wallet
from bot.services.refusals import Refused
from bot.store.models import (
    Challenge,
    ChallengeParticipant,
    ChallengeResult,
    Person,
    PointsEntry,
    Rollup,
    Subject,
    TeamMembership,
)
from bot.store.upsert import conflict_insert

POINTS = "points"
RULE = "challenge"
KINDS = ("individual", "team", "head-to-head")
MAX_REWARD = 10_000  # points, and coins, per winner of one challenge (docs/challenges.md)
MAX_BASELINE_DAYS = 365  # a baseline of a year at most: days before the window, as dates allow
MAX_TARGET = 1e9  # beyond any count, rate or duration a contact center measures
GOALS = ("absolute", "improvement", "top")
_SLUG = re.compile(r"[^a-z0-9]+")
# A name is shown as plain text in posts: nothing that could mention, link or format.
_UNSAFE_NAME = re.compile(r"[<>@`*_~|\\]")


class ChallengeRefused(Refused):
    """Nothing was written; `code` is a catalogue id suffix under challenge.refused, `inputs` its details."""


@dataclass(frozen=True, slots=True)
class ChallengeSpec:
    """What a supervisor asks for; exactly one of teams, league, agents or opt_in says who takes part."""

    name: str
    metric: str
    start: date
    end: date
    target: float
    kind: str = "individual"
    goal: str = "absolute"
    teams: tuple[str, ...] = ()
    league: str | None = None
    agents: tuple[int, ...] = ()
    opt_in: bool = False
    gate_metric: str | None = None
    gate_min: float | None = None
    gate_max: float | None = None
    reward_points: float = 0
    reward_coins: float = 0
    reward_badge: bool = False
    baseline_days: int | None = None


@dataclass(frozen=True, slots=True)
class Creator:
    person_id: int
    name: str
    supervised_team_ids: frozenset[int] = frozenset()
    admin: bool = False


@dataclass(frozen=True, slots=True)
class ChallengeInfo:
    id: int
    key: str
    name: str
    metric: str
    kind: str
    goal: str
    target: float
    start_day: date
    end_day: date
    baseline_days: int
    scope: str
    scope_ref: list[str]
    gate_metric: str | None
    gate_min: float | None
    gate_max: float | None
    reward_points: int
    reward_coins: int
    reward_badge: bool
    status: str
    created_by: int | None
    closed_at: datetime | None

    @property
    def by_team(self) -> bool:
        """Teams are the entrants: team challenges, and head-to-head between two teams."""
        return self.kind == "team" or (self.kind == "head-to-head" and self.scope == "team")

    @property
    def league(self) -> str | None:
        return self.scope_ref[0] if self.scope == "league" and self.scope_ref else None

    @property
    def limited_to(self) -> list[str]:
        """The keys of the teams whose agents alone may take part: a team challenge's teams, and the
        creator's teams for a supervisor's league or opt-in challenge (empty: no such limit)."""
        if self.scope == "team" or self.scope == "opt-in":
            return list(self.scope_ref)
        if self.scope == "league":
            return list(self.scope_ref[1:])
        return []


@dataclass(frozen=True, slots=True)
class Line:
    """One entrant's standing with a name: a person, or a team (`team_id`) with its members."""

    name: str
    standing: arithmetic.Standing
    team_id: int | None = None
    members: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Progress:
    challenge: ChallengeInfo
    through: date | None  # the last business day counted; None before the window starts
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ResultRow:
    person_id: int
    name: str
    team_id: int | None
    rank: int | None
    value: float | None
    outcome: str
    badge: str | None
    points: int
    coins: int


_COLUMNS = (
    Challenge.id,
    Challenge.key,
    Challenge.name,
    Challenge.metric,
    Challenge.kind,
    Challenge.goal,
    Challenge.target,
    Challenge.start_day,
    Challenge.end_day,
    Challenge.baseline_days,
    Challenge.scope,
    Challenge.scope_ref,
    Challenge.gate_metric,
    Challenge.gate_min,
    Challenge.gate_max,
    Challenge.reward_points,
    Challenge.reward_coins,
    Challenge.reward_badge,
    Challenge.status,
    Challenge.created_by,
    Challenge.closed_at,
)


def slug(name: str) -> str:
    return _SLUG.sub("-", name.strip().lower()).strip("-")[:100]


def create(
    connection: Connection,
    program: Program,
    spec: ChallengeSpec,
    *,
    by: Creator,
    now: datetime,
) -> ChallengeInfo:
    """Validate and store a challenge; raises ChallengeRefused naming what is wrong.

    The window may not be over already on the clock of any team that takes (or, opt-in, may take) part.
    """
    key = slug(spec.name)
    _check_name(spec)
    scope, scope_ref = _scope(connection, program, spec, by)
    _check(spec, scope)
    _check_not_past(spec, _creation_day(connection, program, spec, scope, scope_ref, now))
    inserted = connection.execute(
        conflict_insert(connection, Challenge)
        .values(
            key=key,
            name=spec.name.strip(),
            metric=spec.metric,
            kind=spec.kind,
            goal=spec.goal,
            target=float(spec.target),
            start_day=spec.start,
            end_day=spec.end,
            baseline_days=spec.baseline_days or program.challenges.baseline_days,
            scope=scope,
            scope_ref=scope_ref,
            gate_metric=spec.gate_metric,
            gate_min=spec.gate_min,
            gate_max=spec.gate_max,
            reward_points=hundredths(spec.reward_points),
            reward_coins=hundredths(spec.reward_coins),
            reward_badge=spec.reward_badge,
            status="open",
            created_by=by.person_id,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(Challenge.id)
    ).first()
    if inserted is None:
        raise ChallengeRefused("taken", name=spec.name.strip())
    challenge_id = int(inserted[0])
    if spec.agents:
        connection.execute(
            insert(ChallengeParticipant),
            [
                {"challenge_id": challenge_id, "person_id": pid, "joined_at": now}
                for pid in dict.fromkeys(spec.agents)
            ],
        )
    info = get(connection, key)
    assert info is not None
    audit.record(
        connection,
        at=now,
        actor_id=by.person_id,
        actor=by.name,
        action="challenge.create",
        target=f"challenge:{key}",
        details=_details(info) | {"agents": list(spec.agents)},
    )
    return info


def join(
    connection: Connection, program: Program, name: str, *, person_id: int, person_name: str, now: datetime
) -> ChallengeInfo:
    """Opt in to an open opt-in challenge before its window is over on the joiner's clock; joining
    twice says so. A supervisor's opt-in challenge is for the agents of the teams they lead."""
    info = _open(connection, name)
    if info.scope != "opt-in":
        raise ChallengeRefused("not_opt_in", name=info.name)
    limited = _team_ids(connection, info.limited_to)
    if info.limited_to and not people.in_teams(connection, person_id, limited, info.start_day, info.end_day):
        raise ChallengeRefused("not_for_you", name=info.name, teams=", ".join(info.limited_to))
    teams, teamless = _teams_during(connection, {person_id}, info.start_day, info.end_day)
    if _earliest_day(connection, program, teams, teamless, now) > info.end_day:
        raise ChallengeRefused("over", name=info.name, end=info.end_day.isoformat())
    inserted = connection.execute(
        conflict_insert(connection, ChallengeParticipant)
        .values(challenge_id=info.id, person_id=person_id, joined_at=now)
        .on_conflict_do_nothing()
        .returning(ChallengeParticipant.person_id)
    ).first()
    if inserted is None:
        raise ChallengeRefused("joined", name=info.name)
    audit.record(
        connection,
        at=now,
        actor_id=person_id,
        actor=person_name,
        action="challenge.join",
        target=f"challenge:{info.key}",
    )
    return info


def get(connection: Connection, name: str) -> ChallengeInfo | None:
    """The challenge whose key or name is `name` (any case)."""
    wanted = name.strip()
    row = connection.execute(
        select(*_COLUMNS).where(
            (Challenge.key == slug(wanted)) | (func.lower(Challenge.name) == wanted.lower())
        )
    ).first()
    return ChallengeInfo(*tuple(row)) if row else None


def listed(connection: Connection, *, statuses: Iterable[str] = ("open",)) -> list[ChallengeInfo]:
    rows = connection.execute(
        select(*_COLUMNS)
        .where(Challenge.status.in_(list(statuses)))
        .order_by(Challenge.start_day, Challenge.key)
    )
    return [ChallengeInfo(*tuple(row)) for row in rows]


def autocomplete(connection: Connection, typed: str, *, limit: int = 25) -> list[str]:
    """Open challenge names containing `typed` (any case), for Param.autocomplete == "challenge"."""
    query = select(Challenge.name).where(Challenge.status == "open").order_by(Challenge.name).limit(limit)
    if typed.strip():
        query = query.where(func.lower(Challenge.name).contains(typed.strip().lower(), autoescape=True))
    return list(connection.scalars(query))


def current_day(connection: Connection, program: Program, info: ChallengeInfo, now: datetime) -> date:
    """The challenge's business day at `now`: the earliest day the clock of any participant team shows
    (the program's for entrants in no team), so its window closes when the last team's last day ends."""
    teams, teamless = participant_teams(connection, program, info)
    return _earliest_day(connection, program, teams, teamless, now)


def participant_teams(
    connection: Connection, program: Program, info: ChallengeInfo
) -> tuple[frozenset[int], bool]:
    """The teams taking part: a team challenge's teams, else the teams its entrants belong to during the
    window; and whether some entrant belongs to no team then."""
    if info.scope == "team":
        return _team_ids(connection, info.scope_ref), False
    entrants = {
        pid
        for members in _groups(connection, program, info, info.start_day, info.end_day).values()
        for pid in members
    }
    return _teams_during(connection, entrants, info.start_day, info.end_day)


def running(connection: Connection, program: Program, now: datetime) -> list[tuple[ChallengeInfo, date]]:
    """Open challenges whose window contains their own day at `now`, with that day (kickoffs, reminders)."""
    out = []
    for info in listed(connection):
        today = current_day(connection, program, info, now)
        if info.start_day <= today <= info.end_day:
            out.append((info, today))
    return out


def due_to_end(connection: Connection, program: Program, now: datetime) -> list[ChallengeInfo]:
    """Open challenges whose window is over on every participant's clock (the scheduler ends them)."""
    return [info for info in listed(connection) if current_day(connection, program, info, now) > info.end_day]


def team_ids(connection: Connection, program: Program, info: ChallengeInfo) -> frozenset[int]:
    """The teams a challenge concerns (whose channels hear of it): the teams in scope, else the teams its
    entrants belong to during the window and the teams its creator supervises."""
    teams, _ = participant_teams(connection, program, info)
    if info.scope == "team":
        return teams
    created = people.supervised_teams(connection, info.created_by) if info.created_by else frozenset()
    return teams | created


def end_due(
    engine: Engine,
    program: Program,
    *,
    now: datetime,
    program_version: int,
    on_end: Callable[[Connection, ChallengeInfo, list[ResultRow]], None] | None = None,
) -> list[tuple[ChallengeInfo, list[ResultRow]]]:
    """End every open challenge whose window is over on every participant's clock, each in its own
    transaction (for the scheduler).

    A challenge that another replica ends first is skipped, so each is ended, and rewarded, once.
    `on_end` runs in the ending transaction (the scheduler posts the results there), so the results and
    their post commit together.
    """
    with engine.connect() as connection:
        due = due_to_end(connection, program, now)
    ended = []
    for info in due:
        try:
            with engine.begin() as connection:
                rows = end(
                    connection,
                    program,
                    info.key,
                    by_id=None,
                    by_name="scheduler",
                    now=now,
                    program_version=program_version,
                )
                if on_end is not None:
                    on_end(connection, info, rows)
        except ChallengeRefused:
            continue
        ended.append((info, rows))
    return ended


def progress(connection: Connection, program: Program, info: ChallengeInfo, *, today: date) -> Progress:
    """Standings over the window so far (the whole window once it is over)."""
    if today < info.start_day:
        return Progress(info, None, [])
    through = min(today, info.end_day)
    entrants, named = _entrants(connection, program, info, info.start_day, through)
    lines = [named[s.key](s) for s in arithmetic.standings(entrants, _rules(program, info))]
    return Progress(info, through, lines)


def end(
    connection: Connection,
    program: Program,
    name: str,
    *,
    by_id: int | None,
    by_name: str,
    now: datetime,
    program_version: int,
) -> list[ResultRow]:
    """Close the challenge over its window so far (on its own clock, `current_day`), store each
    person's result and grant the rewards once. A challenge whose window has not started has nothing to
    end: that is ChallengeRefused("not_started"), and `cancel` calls it off."""
    info = _open(connection, name)
    today = current_day(connection, program, info, now)
    if today < info.start_day:
        raise ChallengeRefused("not_started", name=info.name, start=info.start_day.isoformat())
    closed = connection.execute(
        update(Challenge)
        .where(Challenge.id == info.id, Challenge.status == "open")
        .values(status="ended", closed_by=by_id, closed_at=now)
    )
    if not closed.rowcount:
        raise ChallengeRefused("closed", name=info.name, status="ended")
    final = progress(connection, program, info, today=today)
    day = final.through or info.start_day
    badge = program.challenges.win_badge if info.reward_badge else None
    rows: list[dict[str, Any]] = []
    for line in final.lines:
        outcome = _outcome(line.standing)
        members = line.members if info.by_team else (line.standing.key,)
        for person_id in members:
            won = outcome == "won"
            team_points = not info.by_team or program.challenges.team_wins_feed_xp
            rows.append(
                {
                    "challenge_id": info.id,
                    "person_id": person_id,
                    "team_id": line.team_id,
                    "rank": line.standing.rank,
                    "value": line.standing.value,
                    "outcome": outcome,
                    "badge": badge if won else None,
                    "points": info.reward_points if won and team_points else 0,
                    "coins": info.reward_coins if won else 0,
                    "business_day": day,
                    "created_at": now,
                }
            )
    if rows:
        connection.execute(conflict_insert(connection, ChallengeResult).on_conflict_do_nothing(), rows)
    _grant(connection, info, rows, day=day, now=now, program_version=program_version)
    _award_badges(connection, program, info, rows, badge, day=day, now=now, program_version=program_version)
    audit.record(
        connection,
        at=now,
        actor_id=by_id,
        actor=by_name,
        action="challenge.end",
        target=f"challenge:{info.key}",
        details={
            "through": day.isoformat(),
            "winners": sorted(row["person_id"] for row in rows if row["outcome"] == "won"),
        },
    )
    return results(connection, info.id)


def cancel(
    connection: Connection, name: str, *, by_id: int, by_name: str, reason: str, now: datetime
) -> ChallengeInfo:
    """Cancel an open challenge: no results, no rewards; the audit log keeps who and why."""
    info = _open(connection, name)
    closed = connection.execute(
        update(Challenge)
        .where(Challenge.id == info.id, Challenge.status == "open")
        .values(status="cancelled", closed_by=by_id, closed_at=now)
    )
    if not closed.rowcount:
        raise ChallengeRefused("closed", name=info.name, status="cancelled")
    audit.record(
        connection,
        at=now,
        actor_id=by_id,
        actor=by_name,
        action="challenge.cancel",
        target=f"challenge:{info.key}",
        details={"reason": reason},
    )
    return info


def results(connection: Connection, challenge_id: int) -> list[ResultRow]:
    """Stored results, best rank first, then the unranked by name."""
    rows = connection.execute(
        select(
            ChallengeResult.person_id,
            Person.display_name,
            ChallengeResult.team_id,
            ChallengeResult.rank,
            ChallengeResult.value,
            ChallengeResult.outcome,
            ChallengeResult.badge,
            ChallengeResult.points,
            ChallengeResult.coins,
        )
        .join(Person, Person.id == ChallengeResult.person_id)
        .where(ChallengeResult.challenge_id == challenge_id)
    )
    out = [ResultRow(*row) for row in rows]
    return sorted(out, key=lambda r: (r.rank is None, r.rank or 0, r.name))


def wins(connection: Connection, person_id: int) -> int:
    """How many challenges the person has won (alone or with their team)."""
    return int(
        connection.scalar(
            select(func.count(ChallengeResult.id)).where(
                ChallengeResult.person_id == person_id, ChallengeResult.outcome == "won"
            )
        )
        or 0
    )


# --- internals ---------------------------------------------------------------------------------------


def _open(connection: Connection, name: str) -> ChallengeInfo:
    info = get(connection, name)
    if info is None:
        open_names = ", ".join(c.name for c in listed(connection)) or "none"
        raise ChallengeRefused("unknown", name=name, names=open_names)
    if info.status != "open":
        raise ChallengeRefused("closed", name=info.name, status=info.status)
    return info


def _scope(
    connection: Connection, program: Program, spec: ChallengeSpec, by: Creator
) -> tuple[str, list[str]]:
    given = [bool(spec.teams), spec.league is not None, bool(spec.agents), spec.opt_in]
    if sum(given) != 1:
        raise ChallengeRefused("scope")
    if spec.teams:
        keys = []
        for key in dict.fromkeys(spec.teams):
            team = people.team_by_key(connection, key)
            if team is None:
                raise ChallengeRefused("unknown_team", team=key)
            if not by.admin and team.id not in by.supervised_team_ids:
                raise ChallengeRefused("not_your_team", team=team.key)
            keys.append(team.key)
        return "team", keys
    if spec.league is not None:
        known = [rule.id for rule in program.league_rules()]
        if spec.league not in known:
            raise ChallengeRefused("unknown_league", league=spec.league, leagues=", ".join(known) or "none")
        if by.admin:
            return "league", [spec.league]
        keys = _own_team_keys(connection, by)
        if not _league_agents(connection, program, spec.league, keys, spec.start, spec.end):
            raise ChallengeRefused("league_not_yours", league=spec.league, teams=", ".join(keys))
        return "league", [spec.league, *keys]
    if spec.agents:
        if not by.admin:
            theirs = people.members_of(connection, by.supervised_team_ids, spec.start, spec.end)
            others = sorted(set(spec.agents) - theirs)
            if others:
                names = people.names(connection, set(others))
                raise ChallengeRefused("not_your_agent", name=", ".join(names[pid] for pid in others))
        return "agents", []
    return "opt-in", [] if by.admin else _own_team_keys(connection, by)


def _own_team_keys(connection: Connection, by: Creator) -> list[str]:
    """The keys of the teams a supervisor leads; refused when they lead none."""
    keys = sorted(team.key for tid in by.supervised_team_ids if (team := people.team(connection, tid)))
    if not keys:
        raise ChallengeRefused("no_teams")
    return keys


def _creation_day(
    connection: Connection,
    program: Program,
    spec: ChallengeSpec,
    scope: str,
    scope_ref: list[str],
    now: datetime,
) -> date:
    """The new challenge's business day at `now`, on the clocks of those who take part: its teams, its
    named agents' or league's teams, or (opt-in) every team that may join."""
    if scope == "team":
        return _earliest_day(connection, program, _team_ids(connection, scope_ref), False, now)
    if scope == "agents":
        teams, teamless = _teams_during(connection, set(spec.agents), spec.start, spec.end)
    elif scope == "league":
        members = _league_agents(connection, program, scope_ref[0], scope_ref[1:], spec.start, spec.end)
        teams, teamless = _teams_during(connection, members, spec.start, spec.end)
    elif scope_ref:
        teams, teamless = _team_ids(connection, scope_ref), False
    else:  # anyone may join
        teams, teamless = frozenset(people.team_clocks(connection)), True
    return _earliest_day(connection, program, teams, teamless, now)


def _league_agents(
    connection: Connection, program: Program, league: str, teams: list[str], start: date, end: date
) -> set[int]:
    """The league's agents (its members on the window's first day), those of `teams` only when given: a
    supervisor's league challenge is for their own teams."""
    members = leagues.members(connection, program, league, start) & _agents(connection)
    if teams:
        members &= people.members_of(connection, _team_ids(connection, teams), start, end)
    return members


def _team_ids(connection: Connection, keys: Iterable[str]) -> frozenset[int]:
    return frozenset(team.id for key in keys if (team := people.team_by_key(connection, key)) is not None)


def _teams_during(
    connection: Connection, person_ids: Iterable[int], start: date, end: date
) -> tuple[frozenset[int], bool]:
    """The teams these people belong to on some day of [start, end], and whether one belongs to none."""
    wanted = set(person_ids)
    held = people.teams_of(connection, wanted, start, end)
    return frozenset(t for teams in held.values() for t in teams), bool(wanted - held.keys())


def earliest_day_anywhere(connection: Connection, program: Program, now: datetime) -> date:
    """The earliest business day `now` falls on among every team's clock and the program's: before it,
    a window is over for whoever could take part."""
    return _earliest_day(connection, program, frozenset(people.team_clocks(connection)), True, now)


def _earliest_day(
    connection: Connection, program: Program, team_ids: frozenset[int], teamless: bool, now: datetime
) -> date:
    """The earliest business day `now` falls on among these teams' clocks, and the program's when some
    participant is in no team (or there are no teams)."""
    days = [
        business_day(now, ZoneInfo(zone) if zone else program.zone, minutes)
        for zone, minutes in people.team_clocks(connection, team_ids).values()
    ]
    if teamless or not days:
        days.append(business_day(now, program.zone, program.day_start_minutes))
    return min(days)


def validate(spec: ChallengeSpec, *, today: date) -> None:
    """The checks that need no database (name, metric, type, goal, window, gate, reward, who in form):
    a form can show them on its fields before anything is sent; `create` runs them all again."""
    _check_name(spec)
    given = {"team": bool(spec.teams), "league": spec.league is not None, "agents": bool(spec.agents)}
    given["opt-in"] = spec.opt_in
    scopes = [scope for scope, present in given.items() if present]
    if len(scopes) != 1:
        raise ChallengeRefused("scope")
    _check(spec, scopes[0])
    _check_not_past(spec, today)


def check_references(connection: Connection, spec: ChallengeSpec) -> None:
    """Read-only checks a form can show on its fields: the name is free and the teams exist (whether the
    caller may set them a challenge is `create`'s to say)."""
    if connection.scalar(select(Challenge.id).where(Challenge.key == slug(spec.name))) is not None:
        raise ChallengeRefused("taken", name=spec.name.strip())
    for key in spec.teams:
        if people.team_by_key(connection, key) is None:
            raise ChallengeRefused("unknown_team", team=key)


def _check_name(spec: ChallengeSpec) -> None:
    if not slug(spec.name) or _UNSAFE_NAME.search(spec.name):
        raise ChallengeRefused("name")


def _check(spec: ChallengeSpec, scope: str) -> None:
    if spec.metric != POINTS and spec.metric not in CATALOGUE:
        raise ChallengeRefused("metric", metric=spec.metric, metrics=", ".join([POINTS, *CATALOGUE]))
    if spec.kind not in KINDS:
        raise ChallengeRefused("kind", kind=spec.kind, kinds=", ".join(KINDS))
    if spec.goal not in GOALS:
        raise ChallengeRefused("goal", goal=spec.goal, goals=", ".join(GOALS))
    if spec.end < spec.start:
        raise ChallengeRefused("window", start=spec.start.isoformat(), end=spec.end.isoformat())
    if spec.goal == "top" and (spec.target < 1 or spec.target != int(spec.target)):
        raise ChallengeRefused("top", target=spec.target)
    if spec.kind == "team" and scope != "team":
        raise ChallengeRefused("team_scope")
    if spec.kind == "head-to-head":
        count = len(spec.teams) if scope == "team" else len(set(spec.agents))
        if scope not in ("team", "agents") or count != 2:
            raise ChallengeRefused("head_to_head")
    if spec.gate_metric is not None:
        if spec.gate_metric not in CATALOGUE:
            raise ChallengeRefused("metric", metric=spec.gate_metric, metrics=", ".join(CATALOGUE))
        if spec.gate_min is None and spec.gate_max is None:
            raise ChallengeRefused("gate_bound", metric=spec.gate_metric)
    elif spec.gate_min is not None or spec.gate_max is not None:
        raise ChallengeRefused("gate_metric")
    if spec.reward_points < 0 or spec.reward_coins < 0:
        raise ChallengeRefused("reward")
    for kind, amount in (("points", spec.reward_points), ("coins", spec.reward_coins)):
        if not amount <= MAX_REWARD:  # also NaN
            raise ChallengeRefused("reward_too_large", kind=kind, most=f"{MAX_REWARD:,}")
        if 0 < amount < 0.005:  # less than a hundredth once rounded: a reward that pays nothing
            raise ChallengeRefused("reward_too_small", kind=kind, amount=f"{amount:g}")
    if spec.baseline_days is not None and not 1 <= spec.baseline_days <= MAX_BASELINE_DAYS:
        raise ChallengeRefused("baseline_days", days=spec.baseline_days, most=MAX_BASELINE_DAYS)
    if spec.gate_min is not None and spec.gate_max is not None and spec.gate_min > spec.gate_max:
        raise ChallengeRefused(
            "gate_range", metric=spec.gate_metric, low=f"{spec.gate_min:g}", high=f"{spec.gate_max:g}"
        )
    if not math.isfinite(spec.target) or abs(spec.target) > MAX_TARGET:
        raise ChallengeRefused("target_range", target=f"{spec.target:g}", metric=spec.metric)


def _check_not_past(spec: ChallengeSpec, today: date) -> None:
    if spec.end < today:
        raise ChallengeRefused("past", end=spec.end.isoformat(), today=today.isoformat())


def _rules(program: Program, info: ChallengeInfo) -> arithmetic.Rules:
    gate = None
    if info.gate_metric is not None:
        gate = arithmetic.GateRule(
            info.gate_metric, program.policy(info.gate_metric).min_samples, info.gate_min, info.gate_max
        )
    duel = info.kind == "head-to-head"
    if info.metric == POINTS:
        return arithmetic.Rules("higher", info.goal, info.target, 0, gate, duel)  # type: ignore[arg-type]
    return arithmetic.Rules(
        program.better(info.metric),
        info.goal,  # type: ignore[arg-type]
        info.target,
        program.policy(info.metric).min_samples,
        gate,
        duel,
    )


Sums = dict[int, dict[str, tuple[int, int]]]
Namer = dict[int, Any]


def _entrants(
    connection: Connection, program: Program, info: ChallengeInfo, start: date, through: date
) -> tuple[list[arithmetic.Entrant], Namer]:
    groups = _groups(connection, program, info, start, through)
    everyone = sorted({pid for members in groups.values() for pid in members})
    metrics = [m for m in (info.metric, info.gate_metric) if m is not None and m != POINTS]
    base_start = start - timedelta(days=info.baseline_days)
    base_end = start - timedelta(days=1)
    improvement = info.goal == "improvement"

    def figures(members: list[int], team_id: int | None) -> tuple[Sums, Sums]:
        window = _figures(connection, info, members, metrics, start, through, team_id)
        baseline = (
            _figures(connection, info, members, [info.metric], base_start, base_end, team_id)
            if improvement
            else {}
        )
        return window, baseline

    shared = figures(everyone, None) if not info.by_team else ({}, {})
    names = people.names(connection, set(everyone))
    teams = _team_names(connection, info) if info.by_team else {}
    window_days = (through - start).days + 1
    entrants: list[arithmetic.Entrant] = []
    namer: Namer = {}
    for key, members in groups.items():
        # a team counts each member's days in the team only, so a move mid-window splits them right
        window_sums, baseline = figures(sorted(members), key) if info.by_team else shared
        pooled = _pool(window_sums, members)
        value, samples = _value(info.metric, pooled.get(info.metric))
        base_value = None
        if improvement:
            base_value, _ = _value(info.metric, _pool(baseline, members).get(info.metric))
            if base_value is not None and _is_total(info.metric):
                base_value = base_value / info.baseline_days * window_days
        gate_value, gate_samples = (
            _value(info.gate_metric, pooled.get(info.gate_metric)) if info.gate_metric else (None, 0)
        )
        entrants.append(arithmetic.Entrant(key, value, samples, base_value, gate_value, gate_samples))
        if info.by_team:
            namer[key] = _team_line(teams.get(key, str(key)), key, tuple(sorted(members)))
        else:
            namer[key] = _person_line(names.get(key, str(key)))
    return entrants, namer


def _figures(
    connection: Connection,
    info: ChallengeInfo,
    members: list[int],
    metrics: list[str],
    start: date,
    end: date,
    team_id: int | None,
) -> Sums:
    sums = _sums(connection, members, [m for m in metrics if m != POINTS], start, end, team_id)
    if info.metric == POINTS:
        for pid, total in _points(connection, members, start, end, team_id).items():
            sums[pid][POINTS] = (total, 1)
    return sums


def _team_line(name: str, team_id: int, members: tuple[int, ...]) -> Any:
    return lambda standing: Line(name, standing, team_id, members)


def _person_line(name: str) -> Any:
    return lambda standing: Line(name, standing)


def _groups(
    connection: Connection, program: Program, info: ChallengeInfo, start: date, end: date
) -> dict[int, set[int]]:
    """Entrant key → the people it pools: a person alone, or a team's agents during the window."""
    agents = _agents(connection)
    if info.by_team:
        out: dict[int, set[int]] = {}
        for key in info.scope_ref:
            team = people.team_by_key(connection, key)
            if team is not None:
                out[team.id] = people.members_of(connection, frozenset({team.id}), start, end) & agents
        return out
    if info.scope == "team":
        members = people.members_of(connection, _team_ids(connection, info.scope_ref), start, end)
    elif info.scope == "league":
        members = _league_agents(connection, program, info.scope_ref[0], info.limited_to, start, end)
    else:
        members = set(
            connection.scalars(
                select(ChallengeParticipant.person_id).where(ChallengeParticipant.challenge_id == info.id)
            )
        )
        return {int(pid): {int(pid)} for pid in members}  # named or opted in: agents or not
    return {pid: {pid} for pid in members & agents}


def _agents(connection: Connection) -> set[int]:
    return {int(pid) for pid in connection.scalars(select(Person.id).where(Person.role == "agent"))}


def _team_names(connection: Connection, info: ChallengeInfo) -> dict[int, str]:
    out = {}
    for key in info.scope_ref:
        team = people.team_by_key(connection, key)
        if team is not None:
            out[team.id] = team.name
    return out


def _in_team(team_id: int | None, person: Any, day: Any) -> ColumnElement[bool]:
    """The row's person belonged to the team on the row's business day (always true without a team)."""
    if team_id is None:
        return true()
    return exists().where(
        TeamMembership.person_id == person,
        TeamMembership.team_id == team_id,
        TeamMembership.valid_from <= day,
        or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > day),
    )


def _sums(
    connection: Connection,
    person_ids: list[int],
    metrics: list[str],
    start: date,
    end: date,
    team_id: int | None = None,
) -> Sums:
    out: Sums = defaultdict(dict)
    if not person_ids or not metrics:
        return out
    rows = connection.execute(
        select(Subject.person_id, Rollup.metric, func.sum(Rollup.num), func.sum(Rollup.den))
        .join(Subject, Subject.id == Rollup.subject_id)
        .where(
            Subject.person_id.in_(person_ids),
            Rollup.metric.in_(metrics),
            Rollup.business_day.between(start, end),
            _in_team(team_id, Subject.person_id, Rollup.business_day),
        )
        .group_by(Subject.person_id, Rollup.metric)
    )
    for pid, metric, num, den in rows:
        out[int(pid or 0)][metric] = (int(num), int(den))
    return out


def _points(
    connection: Connection, person_ids: list[int], start: date, end: date, team_id: int | None = None
) -> dict[int, int]:
    """Net points (hundredths) per person over the days, challenge rewards left out."""
    totals = {pid: 0 for pid in person_ids}
    if not person_ids:
        return totals
    rows = connection.execute(
        select(PointsEntry.person_id, func.sum(PointsEntry.amount))
        .where(
            PointsEntry.person_id.in_(person_ids),
            PointsEntry.business_day.between(start, end),
            PointsEntry.rule != RULE,
            _in_team(team_id, PointsEntry.person_id, PointsEntry.business_day),
        )
        .group_by(PointsEntry.person_id)
    )
    totals.update({int(pid): int(total) for pid, total in rows})
    return totals


def _pool(sums: Sums, members: set[int]) -> dict[str, tuple[int, int]]:
    pooled: dict[str, tuple[int, int]] = {}
    for pid in members:
        for metric, (num, den) in sums.get(pid, {}).items():
            a, b = pooled.get(metric, (0, 0))
            pooled[metric] = (a + num, b + den)
    return pooled


def _is_total(metric: str) -> bool:
    return metric == POINTS or CATALOGUE[metric].kind == "total"


def _value(metric: str | None, pair: tuple[int, int] | None) -> tuple[float | None, int]:
    if metric is None:
        return None, 0
    if metric == POINTS:
        return (pair[0] / 100 if pair else 0.0), 1
    if pair is None:
        return None, 0
    num, den = pair
    samples = samples_of(num if CATALOGUE[metric].kind == "total" else den)
    return value_of(metric, num, den), samples


def _outcome(standing: arithmetic.Standing) -> str:
    if standing.status == "void":
        return "void"
    if standing.status != "ranked":
        return "unranked"
    return "won" if standing.goal_met else "finished"


def _grant(
    connection: Connection,
    info: ChallengeInfo,
    rows: list[dict[str, Any]],
    *,
    day: date,
    now: datetime,
    program_version: int,
) -> None:
    for row in rows:
        if row["outcome"] != "won":
            continue
        person_id: int = row["person_id"]
        key = f"challenge:{info.id}:{person_id}"
        inputs = {"challenge": info.key, "name": info.name, "rank": row["rank"], "team": row["team_id"]}
        if row["points"]:
            connection.execute(
                conflict_insert(connection, PointsEntry)
                .values(
                    person_id=person_id,
                    business_day=day,
                    rule=RULE,
                    program_version=program_version,
                    revision=1,
                    entry="award",
                    amount=row["points"],
                    template="points.challenge",
                    inputs=inputs | {"points": row["points"] / 100},
                    idempotency_key=key,
                    created_at=now,
                )
                .on_conflict_do_nothing()
            )
        if row["coins"]:
            wallet.credit(
                connection,
                person_id,
                row["coins"],
                kind="challenge",
                key=key,
                template="coins.challenge",
                inputs=inputs,
                now=now,
            )


def _award_badges(
    connection: Connection,
    program: Program,
    info: ChallengeInfo,
    rows: list[dict[str, Any]],
    badge: str | None,
    *,
    day: date,
    now: datetime,
    program_version: int,
) -> None:
    """The challenge's own badge to each winner (once: keyed by the challenge), then the winners'
    challenges-won count badges, which now count this win."""
    winners = sorted({row["person_id"] for row in rows if row["outcome"] == "won"})
    if not winners:
        return
    if badge is not None:
        ranks = {row["person_id"]: row["rank"] for row in rows}
        for person_id in winners:
            badges.award(
                connection,
                person_id=person_id,
                badge=badge,
                tier="",
                period_key=f"{badges.CHALLENGE_KEY}{info.id}",
                business_day=day,
                template="badge.challenge",
                inputs={
                    "badge": badge,
                    "name": badge,
                    "tier": "",
                    "version": program_version,
                    "challenge": info.key,
                    "challenge_name": info.name,
                    "rank": ranks[person_id],
                    "start": info.start_day.isoformat(),
                    "end": day.isoformat(),
                },
                program_version=program_version,
                now=now,
            )
    badges.refresh_under(connection, winners, program, program_version, now, of="challenges_won")


def _details(info: ChallengeInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "metric": info.metric,
        "kind": info.kind,
        "goal": info.goal,
        "target": info.target,
        "window": [info.start_day.isoformat(), info.end_day.isoformat()],
        "scope": info.scope,
        "scope_ref": info.scope_ref,
        "gate": {"metric": info.gate_metric, "min": info.gate_min, "max": info.gate_max}
        if info.gate_metric
        else None,
        "reward": {"points": info.reward_points, "coins": info.reward_coins, "badge": info.reward_badge},
    }
