"""Who is in which league on a day, from the roster (hire date, role, skills, teams) and the program."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Connection, or_, select

from bot.program import Program
from bot.scoring.leagues import league_of
from bot.store.models import Person, Team, TeamMembership


def members(connection: Connection, program: Program, league: str, on: date) -> set[int]:
    """The people the program puts in `league` on `on`."""
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
    people = connection.execute(select(Person.id, Person.hire_date, Person.role, Person.skills))
    return {
        person_id
        for person_id, hire_date, role, skills in people
        if league_of(
            rules, hire_date=hire_date, role=role, skills=skills or [], teams=teams[person_id], on=on
        )
        == league
    }
