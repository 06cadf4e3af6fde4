"""Leagues: agents compete with peers, grouped automatically by tenure band, role, skill or team.

A person belongs to the first league, in program order, whose every condition holds on the given day.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class LeagueRule:
    id: str
    tenure_lt: int | None = None  # days since hire, exclusive upper bound
    tenure_gte: int | None = None
    roles: frozenset[str] = frozenset()
    skills: frozenset[str] = frozenset()  # any of them
    teams: frozenset[str] = frozenset()  # team keys, any of them on that day

    def admits(
        self, *, hire_date: date | None, role: str, skills: Collection[str], teams: Collection[str], on: date
    ) -> bool:
        if self.tenure_lt is not None or self.tenure_gte is not None:
            if hire_date is None:
                return False
            tenure = (on - hire_date).days
            if self.tenure_lt is not None and tenure >= self.tenure_lt:
                return False
            if self.tenure_gte is not None and tenure < self.tenure_gte:
                return False
        if self.roles and role not in self.roles:
            return False
        if self.skills and not self.skills.intersection(skills):
            return False
        return not self.teams or bool(self.teams.intersection(teams))


def league_of(
    rules: Sequence[LeagueRule],
    *,
    hire_date: date | None,
    role: str,
    skills: Collection[str],
    teams: Collection[str],
    on: date,
) -> str | None:
    for rule in rules:
        if rule.admits(hire_date=hire_date, role=role, skills=skills, teams=teams, on=on):
            return rule.id
    return None
