"""People on the roster: find them by chat identity or name, their roles, teams and who supervises whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, update

from bot.store.models import Identity, Person, Supervision, Team, TeamMembership, table_of
from bot.store.upsert import insert_ignoring_conflicts


@dataclass(frozen=True, slots=True)
class PersonInfo:
    id: int
    display_name: str
    role: str
    public_boards: bool


@dataclass(frozen=True, slots=True)
class TeamInfo:
    id: int
    key: str
    name: str
    has_channel: bool


class AmbiguousName(LookupError):
    """A name that fits several people; `candidates` lists their display names."""

    def __init__(self, name: str, candidates: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.candidates = candidates


_COLUMNS = (Person.id, Person.display_name, Person.role, Person.public_boards)


def get(connection: Connection, person_id: int) -> PersonInfo | None:
    row = connection.execute(select(*_COLUMNS).where(Person.id == person_id)).first()
    return PersonInfo(*row) if row else None


def names(connection: Connection, person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    rows = connection.execute(select(Person.id, Person.display_name).where(Person.id.in_(person_ids)))
    return {int(pid): name for pid, name in rows}


def by_identity(connection: Connection, kind: str, namespace: str, key: str) -> PersonInfo | None:
    row = connection.execute(
        select(*_COLUMNS)
        .join(Identity, Identity.person_id == Person.id)
        .where(
            Identity.kind == kind, Identity.namespace == namespace, func.lower(Identity.key) == key.lower()
        )
    ).first()
    return PersonInfo(*row) if row else None


def by_display_name(connection: Connection, name: str) -> PersonInfo | None:
    """The one person whose display name is `name` (any case); raises AmbiguousName when several are."""
    rows = connection.execute(
        select(*_COLUMNS).where(func.lower(Person.display_name) == name.strip().lower()).order_by(Person.id)
    ).all()
    if len(rows) > 1:
        raise AmbiguousName(name, [row.display_name for row in rows])
    return PersonInfo(*rows[0]) if rows else None


def by_first_name(connection: Connection, name: str) -> PersonInfo | None:
    """The one person whose display name starts with the word `name` (`Martha` for Martha Jones)."""
    word = name.strip().lower()
    rows = connection.execute(
        select(*_COLUMNS).where(func.lower(Person.display_name).like(f"{_escape_like(word)} %", escape="\\"))
    ).all()
    if len(rows) > 1:
        raise AmbiguousName(name, sorted(row.display_name for row in rows))
    return PersonInfo(*rows[0]) if rows else None


def console_person(connection: Connection, namespace: str, name: str) -> PersonInfo | None:
    """The person a console user `--as NAME` is: a console identity, else the display name, linked on use."""
    person = by_identity(connection, "console", namespace, name)
    if person is not None:
        return person
    person = by_display_name(connection, name)
    if person is not None:
        identity = {"person_id": person.id, "kind": "console", "namespace": namespace, "key": name.strip()}
        insert_ignoring_conflicts(connection, table_of(Identity), [identity])
    return person


def supervised_teams(connection: Connection, person_id: int) -> frozenset[int]:
    rows = connection.scalars(select(Supervision.team_id).where(Supervision.supervisor_id == person_id))
    return frozenset(int(team_id) for team_id in rows)


def teams_on(connection: Connection, person_id: int, day: date) -> list[TeamInfo]:
    """The teams a person belongs to on `day` (memberships are dated)."""
    rows = connection.execute(
        select(Team.id, Team.key, Team.name, Team.channels)
        .join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.person_id == person_id, _member_on(day))
        .order_by(Team.key)
    )
    return [TeamInfo(int(tid), key, name, bool(channels)) for tid, key, name, channels in rows]


def in_teams(
    connection: Connection, person_id: int, team_ids: frozenset[int], start: date, end: date
) -> bool:
    """Whether the person was a member of any of `team_ids` on some day of [start, end]."""
    return bool(members_of(connection, team_ids, start, end) & {person_id})


def members_of(connection: Connection, team_ids: frozenset[int], start: date, end: date) -> set[int]:
    """Everyone who belonged to one of `team_ids` on some day of [start, end]."""
    if not team_ids:
        return set()
    rows = connection.scalars(
        select(TeamMembership.person_id).where(
            TeamMembership.team_id.in_(team_ids),
            TeamMembership.valid_from <= end,
            or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > start),
        )
    )
    return {int(pid) for pid in rows}


def team(connection: Connection, team_id: int) -> TeamInfo | None:
    row = connection.execute(
        select(Team.id, Team.key, Team.name, Team.channels).where(Team.id == team_id)
    ).first()
    return TeamInfo(int(row.id), row.key, row.name, bool(row.channels)) if row else None


def team_by_key(connection: Connection, key: str) -> TeamInfo | None:
    """The team whose key (or, failing that, name) is `key`, as `/leaderboard … team` names it."""
    for column in (Team.key, Team.name):
        row = connection.execute(
            select(Team.id, Team.key, Team.name, Team.channels).where(column == key).order_by(Team.id)
        ).first()
        if row:
            return TeamInfo(int(row.id), row.key, row.name, bool(row.channels))
    return None


def team_channel(connection: Connection, team_id: int, platform: str) -> str | None:
    """The channel a team posts to on a platform: its `channels` entry, e.g. {"slack": "C0123"}."""
    channels = connection.scalar(select(Team.channels).where(Team.id == team_id)) or {}
    value = channels.get(platform) if isinstance(channels, dict) else None
    return str(value) if value else None


def set_team_channel(connection: Connection, team_key: str, platform: str, channel: str | None) -> bool:
    """Point a team's posts on a platform at `channel` (None removes it); False if no such team."""
    row = connection.execute(select(Team.id, Team.channels).where(Team.key == team_key)).first()
    if row is None:
        return False
    channels = {key: value for key, value in dict(row.channels or {}).items() if key != platform}
    if channel:
        channels[platform] = channel
    connection.execute(update(Team).where(Team.id == row.id).values(channels=channels))
    return True


def team_keys(connection: Connection) -> list[str]:
    return list(connection.scalars(select(Team.key).order_by(Team.key)))


def set_public_boards(connection: Connection, person_id: int, public: bool) -> bool:
    """Show or hide a person on public boards; returns whether anything changed."""
    result = connection.execute(
        update(Person)
        .where(Person.id == person_id, Person.public_boards != public)
        .values(public_boards=public)
    )
    return bool(result.rowcount)


def lock(connection: Connection, person_id: int) -> None:
    """Serialise writes that check a per-person allowance (PostgreSQL row lock; SQLite has one writer)."""
    connection.execute(select(Person.id).where(Person.id == person_id).with_for_update())


def _member_on(day: date) -> ColumnElement[bool]:
    return and_(
        TeamMembership.valid_from <= day,
        or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > day),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def supervisors_of(connection: Connection, person_id: int, day: date) -> list[int]:
    """Who supervises a team the person belongs to on `day` (redemption approvals go to them)."""
    rows = connection.scalars(
        select(Supervision.supervisor_id)
        .join(TeamMembership, TeamMembership.team_id == Supervision.team_id)
        .where(TeamMembership.person_id == person_id, _member_on(day))
        .distinct()
        .order_by(Supervision.supervisor_id)
    )
    return [int(pid) for pid in rows]
