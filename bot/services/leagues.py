"""Who is in which league on a day, from the roster (hire date, role, skills, teams) and the program."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date

from sqlalchemy import Connection, or_, select

from bot.program import Program
from bot.scoring.leagues import league_of
from bot.store.models import Person, Team, TeamMembership


def members(connection: Connection, program: Program, league: str, on: date) -> set[int]:
    """The people the program puts in `league` on `on`."""
    return {person_id for person_id, found in assignments(connection, program, on).items() if found == league}


def of(connection: Connection, program: Program, person_id: int, on: date) -> str | None:
    """The league the program puts one person in on `on` (None: in none, or the program has none)."""
    if not program.leagues:
        return None
    return assignments(connection, program, on, [person_id]).get(person_id)


def assignments(
    connection: Connection, program: Program, on: date, person_ids: Collection[int] | None = None
) -> dict[int, str | None]:
    """Every person's league on `on` (of `person_ids` when given); None for a person in no league."""
    rules = program.league_rules()
    teams: dict[int, set[str]] = defaultdict(set)
    for person_id, key in connection.execute(
        select(TeamMembership.person_id, Team.key)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(
            TeamMembership.valid_from <= on,
            or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > on),
        )
    ):
        teams[person_id].add(key)
    query = select(Person.id, Person.hire_date, Person.role, Person.skills)
    if person_ids is not None:
        query = query.where(Person.id.in_(sorted(person_ids)))
    return {
        person_id: league_of(
            rules, hire_date=hire_date, role=role, skills=skills or [], teams=teams[person_id], on=on
        )
        for person_id, hire_date, role, skills in connection.execute(query)
    }
