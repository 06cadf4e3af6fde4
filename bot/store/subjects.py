"""Resolve a feed's agent or queue key to a subject, with the zone and day start its business day uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select

from bot.scoring.periods import business_day
from bot.store.models import Identity, Person, Subject, Team, TeamMembership

AgentKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ZoneSpan:
    """A team membership's clock: from `valid_from` (inclusive) to `valid_to` (exclusive, None = open)."""

    valid_from: date
    valid_to: date | None
    zone: ZoneInfo
    day_start_minutes: int


@dataclass(frozen=True, slots=True)
class SubjectInfo:
    """A subject and the clocks its business days follow: its teams' over time, else the program's."""

    subject_id: int
    person_id: int | None
    zone: ZoneInfo
    day_start_minutes: int
    spans: tuple[ZoneSpan, ...] = ()

    def day_of(self, instant: datetime) -> date:
        """The business day of an instant, in the zone of the team the subject was in that day."""
        for span in self.spans:
            day = business_day(instant, span.zone, span.day_start_minutes)
            if span.valid_from <= day and (span.valid_to is None or day < span.valid_to):
                return day
        return business_day(instant, self.zone, self.day_start_minutes)


class SubjectResolver:
    """Caches lookups across the chunks of one import; unknown agents are created only when allowed.

    `prepare` resolves a whole chunk's agent keys with a few set-based queries, so a first import of a
    thousand agents costs a handful of statements, not thousands.
    """

    def __init__(
        self, connection: Connection, *, default_zone: ZoneInfo, default_day_start: int, now: datetime
    ) -> None:
        self._connection = connection
        self._default = (default_zone, default_day_start)
        self._now = now
        self._agents: dict[AgentKey, SubjectInfo | None] = {}
        self._queues: dict[AgentKey, SubjectInfo] = {}

    def bind(self, connection: Connection) -> None:
        """Use another transaction's connection, keeping what was already looked up."""
        self._connection = connection

    def forget(self) -> None:
        """Drop the cache, e.g. after a rolled-back transaction that may have created people."""
        self._agents.clear()
        self._queues.clear()

    def prepare(self, wanted: Mapping[AgentKey, str | None], *, create: bool) -> None:
        """Resolve every (namespace, key) not cached yet; create the missing ones when `create`."""
        missing = [key for key in wanted if key not in self._agents or (create and self._agents[key] is None)]
        if not missing:
            return
        found = self._known_people(missing)
        if create:
            absent = [key for key in missing if key not in found]
            found |= self._create_people(absent, wanted)
        infos = self._agent_subjects(sorted(set(found.values())))
        for key in missing:
            person_id = found.get(key)
            self._agents[key] = infos[person_id] if person_id is not None else None

    def agent(
        self, namespace: str, key: str, display_name: str | None, *, create: bool
    ) -> SubjectInfo | None:
        if (namespace, key) not in self._agents or (create and self._agents[(namespace, key)] is None):
            self.prepare({(namespace, key): display_name}, create=create)
        return self._agents[(namespace, key)]

    def for_people(self, person_ids: list[int]) -> dict[int, SubjectInfo]:
        """Fresh (uncached) subject infos for people already on file."""
        return self._agent_subjects(sorted(set(person_ids)))

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
        zone, day_start = self._team_times([team_id]).get(team_id, self._default)
        info = SubjectInfo(subject_id, None, zone, day_start)  # a queue keeps its team's clock
        self._queues[(namespace, key)] = info
        return info

    def _known_people(self, keys: list[AgentKey]) -> dict[AgentKey, int]:
        found: dict[AgentKey, int] = {}
        for namespace in {namespace for namespace, _ in keys}:
            names = [key for ns, key in keys if ns == namespace]
            for start in range(0, len(names), 2000):
                rows = self._connection.execute(
                    select(Identity.key, Identity.person_id).where(
                        Identity.kind == "source",
                        Identity.namespace == namespace,
                        Identity.key.in_(names[start : start + 2000]),
                    )
                )
                found.update({(namespace, key): person_id for key, person_id in rows})
        return found

    def _create_people(
        self, keys: list[AgentKey], names: Mapping[AgentKey, str | None]
    ) -> dict[AgentKey, int]:
        if not keys:
            return {}
        people = [
            {
                "display_name": names.get(key) or key[1],
                "role": "agent",
                "skills": [],
                "attributes": {},
                "public_boards": True,
                "created_at": self._now,
            }
            for key in keys
        ]
        ids = (
            self._connection.execute(
                insert(Person).returning(Person.id, sort_by_parameter_order=True), people
            )
            .scalars()
            .all()
        )
        self._connection.execute(
            insert(Identity),
            [
                {"person_id": pid, "kind": "source", "namespace": ns, "key": key}
                for pid, (ns, key) in zip(ids, keys, strict=True)
            ],
        )
        return {key: int(pid) for key, pid in zip(keys, ids, strict=True)}

    def _agent_subjects(self, person_ids: list[int]) -> dict[int, SubjectInfo]:
        if not person_ids:
            return {}
        subjects = agent_subject_ids(self._connection, person_ids)
        memberships: dict[int, list[tuple[date, date | None, int]]] = {}
        for start in range(0, len(person_ids), 2000):
            rows = self._connection.execute(
                select(
                    TeamMembership.person_id,
                    TeamMembership.valid_from,
                    TeamMembership.valid_to,
                    TeamMembership.team_id,
                )
                .where(TeamMembership.person_id.in_(person_ids[start : start + 2000]))
                .order_by(TeamMembership.valid_from)
            )
            for person_id, valid_from, valid_to, team_id in rows:
                memberships.setdefault(person_id, []).append((valid_from, valid_to, team_id))
        times = self._team_times(list({team for spans in memberships.values() for _, _, team in spans}))
        zone, day_start = self._default
        infos = {}
        for person_id in person_ids:
            spans = tuple(
                ZoneSpan(valid_from, valid_to, *times.get(team_id, self._default))
                for valid_from, valid_to, team_id in memberships.get(person_id, [])
            )
            infos[person_id] = SubjectInfo(subjects[person_id], person_id, zone, day_start, spans)
        return infos

    def _team_times(self, team_ids: list[int | None]) -> dict[int | None, tuple[ZoneInfo, int]]:
        wanted = [team_id for team_id in team_ids if team_id is not None]
        if not wanted:
            return {}
        rows = self._connection.execute(
            select(Team.id, Team.timezone, Team.day_start_minutes).where(Team.id.in_(wanted))
        )
        return {
            team_id: (ZoneInfo(zone) if zone else self._default[0], day_start)
            for team_id, zone, day_start in rows
        }


def agent_subject_ids(connection: Connection, person_ids: list[int]) -> dict[int, int]:
    """The subject row of each person, created on first use."""
    found: dict[int, int] = {}
    for start in range(0, len(person_ids), 2000):
        rows = connection.execute(
            select(Subject.person_id, Subject.id).where(
                Subject.person_id.in_(person_ids[start : start + 2000])
            )
        )
        found.update({int(person_id or 0): int(subject_id) for person_id, subject_id in rows if person_id})
    missing = [pid for pid in person_ids if pid not in found]
    if missing:
        ids = (
            connection.execute(
                insert(Subject).returning(Subject.id, sort_by_parameter_order=True),
                [{"kind": "agent", "person_id": pid} for pid in missing],
            )
            .scalars()
            .all()
        )
        found.update({pid: int(sid) for pid, sid in zip(missing, ids, strict=True)})
    return found
