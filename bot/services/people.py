"""People on the roster: find them by chat identity or name, their roles, teams and who supervises whom."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

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


def is_bot(attributes: dict[str, Any] | None) -> bool:
    """Whether a person's attributes mark a bot account (the roster's `bot` column)."""
    return (attributes or {}).get("bot") is True


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


def teams_of(
    connection: Connection, person_ids: Iterable[int], start: date, end: date
) -> dict[int, set[int]]:
    """Each person's teams on some day of [start, end]; people in no team then are left out."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    rows = connection.execute(
        select(TeamMembership.person_id, TeamMembership.team_id).where(
            TeamMembership.person_id.in_(wanted),
            TeamMembership.valid_from <= end,
            or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > start),
        )
    )
    out: dict[int, set[int]] = {}
    for person_id, team_id in rows:
        out.setdefault(int(person_id), set()).add(int(team_id))
    return out


def team_clocks(
    connection: Connection, team_ids: Iterable[int] | None = None
) -> dict[int, tuple[str | None, int]]:
    """Each team's clock (all teams' when `team_ids` is None): its zone (None: the program's) and the
    minute its business day starts, as its members' records are dated."""
    query = select(Team.id, Team.timezone, Team.day_start_minutes)
    if team_ids is not None:
        query = query.where(Team.id.in_(sorted(set(team_ids))))
    return {int(team_id): (zone, int(minutes)) for team_id, zone, minutes in connection.execute(query)}


def public(connection: Connection, person_ids: Iterable[int]) -> set[int]:
    """Who of `person_ids` may appear in public posts and boards (has not opted out)."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return set()
    found = connection.scalars(select(Person.id).where(Person.id.in_(wanted), Person.public_boards.is_(True)))
    return {int(person_id) for person_id in found}


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


def all_team_ids(connection: Connection) -> frozenset[int]:
    return frozenset(connection.scalars(select(Team.id)))


def set_public_boards(connection: Connection, person_id: int, public: bool) -> bool:
    """Show or hide a person on public boards; returns whether anything changed."""
    result = connection.execute(
        update(Person)
        .where(Person.id == person_id, Person.public_boards != public)
        .values(public_boards=public)
    )
    return bool(result.rowcount)


def lock(connection: Connection, *person_ids: int) -> None:
    """Serialise writes that check a per-person allowance or a cap between people (PostgreSQL row locks;
    SQLite has one writer).

    The rows are locked in id order, so two transactions locking the same people (A thanking B while B
    thanks A) queue instead of deadlocking. The lock is FOR NO KEY UPDATE: it still lets other
    transactions insert rows that reference these people (a foreign key takes FOR KEY SHARE), which a
    plain FOR UPDATE would block.
    """
    if not person_ids:
        return
    connection.execute(
        select(Person.id)
        .where(Person.id.in_(sorted(set(person_ids))))
        .order_by(Person.id)
        .with_for_update(key_share=True)
    )


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
