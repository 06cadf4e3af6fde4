"""Resolve a feed's agent or queue key to a subject, with the zone and day start its business day uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select

from bot.store.models import Identity, Person, Subject, Team, TeamMembership


@dataclass(frozen=True, slots=True)
class SubjectInfo:
    subject_id: int
    person_id: int | None
    zone: ZoneInfo
    day_start_minutes: int


class SubjectResolver:
    """Caches lookups for the life of one import; unknown agents are created only when allowed."""

    def __init__(
        self, connection: Connection, *, default_zone: ZoneInfo, default_day_start: int, now: datetime
    ) -> None:
        self._connection = connection
        self._default = (default_zone, default_day_start)
        self._now = now
        self._agents: dict[tuple[str, str], SubjectInfo | None] = {}
        self._queues: dict[tuple[str, str], SubjectInfo] = {}

    def agent(
        self, namespace: str, key: str, display_name: str | None, *, create: bool
    ) -> SubjectInfo | None:
        cached = self._agents.get((namespace, key))
        if cached is not None:
            return cached
        person_id = self._connection.scalar(
            select(Identity.person_id).where(
                Identity.kind == "source", Identity.namespace == namespace, Identity.key == key
            )
        )
        if person_id is None:
            if not create:
                return None
            person_id = self._create_person(namespace, key, display_name or key)
        info = self._agent_subject(person_id)
        self._agents[(namespace, key)] = info
        return info

    def queue(self, namespace: str, key: str) -> SubjectInfo:
        cached = self._queues.get((namespace, key))
        if cached is not None:
            return cached
        row = self._connection.execute(
            select(Subject.id, Subject.team_id).where(Subject.namespace == namespace, Subject.key == key)
        ).first()
        if row is None:
            subject_id = self._connection.execute(
                insert(Subject).values(kind="queue", namespace=namespace, key=key).returning(Subject.id)
            ).scalar_one()
            team_id = None
        else:
            subject_id, team_id = row
        zone, day_start = self._team_time(team_id)
        info = SubjectInfo(subject_id, None, zone, day_start)
        self._queues[(namespace, key)] = info
        return info

    def _create_person(self, namespace: str, key: str, name: str) -> int:
        person_id = self._connection.execute(
            insert(Person)
            .values(
                display_name=name,
                role="agent",
                skills=[],
                attributes={},
                public_boards=True,
                created_at=self._now,
            )
            .returning(Person.id)
        ).scalar_one()
        self._connection.execute(
            insert(Identity).values(person_id=person_id, kind="source", namespace=namespace, key=key)
        )
        return int(person_id)

    def _agent_subject(self, person_id: int) -> SubjectInfo:
        subject_id = agent_subject_id(self._connection, person_id)
        team_id = self._connection.scalar(
            select(TeamMembership.team_id)
            .where(TeamMembership.person_id == person_id)
            .order_by(TeamMembership.valid_to.is_(None).desc(), TeamMembership.valid_from.desc())
            .limit(1)
        )
        zone, day_start = self._team_time(team_id)
        return SubjectInfo(subject_id, person_id, zone, day_start)

    def _team_time(self, team_id: int | None) -> tuple[ZoneInfo, int]:
        if team_id is None:
            return self._default
        row = self._connection.execute(
            select(Team.timezone, Team.day_start_minutes).where(Team.id == team_id)
        ).one()
        zone = ZoneInfo(row.timezone) if row.timezone else self._default[0]
        return zone, row.day_start_minutes


def agent_subject_id(connection: Connection, person_id: int) -> int:
    """The subject row of a person, created on first use."""
    subject_id = connection.scalar(select(Subject.id).where(Subject.person_id == person_id))
    if subject_id is None:
        subject_id = connection.execute(
            insert(Subject).values(kind="agent", person_id=person_id).returning(Subject.id)
        ).scalar_one()
    return int(subject_id)
