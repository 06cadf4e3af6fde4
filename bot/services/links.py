"""Linking chat accounts to people: by roster e-mail, or by an agent key a supervisor approves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import Connection, func, select, update

from bot.services import people
from bot.store.models import AuditEntry, Identity, LinkRequest, Person, Supervision, table_of
from bot.store.upsert import insert_ignoring_conflicts


@dataclass(frozen=True, slots=True)
class Account:
    """A chat account: platform (`slack`), namespace (workspace or guild id) and user id."""

    platform: str
    namespace: str
    user: str


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    account: Account
    display_name: str
    person_id: int
    agent_key: str
    status: str


Decision = Literal["approved", "denied"]


def person_of(connection: Connection, account: Account) -> people.PersonInfo | None:
    return people.by_identity(connection, account.platform, account.namespace, account.user)


def link(connection: Connection, account: Account, person_id: int) -> bool:
    """Bind the account to the person; False when it was already bound (to them or to someone else)."""
    row = {
        "person_id": person_id,
        "kind": account.platform,
        "namespace": account.namespace,
        "key": account.user,
    }
    before = person_of(connection, account)
    insert_ignoring_conflicts(connection, table_of(Identity), [row])
    return before is None and person_of(connection, account) is not None


def link_by_email(connection: Connection, account: Account, email: str) -> people.PersonInfo | None:
    """The person whose roster e-mail is `email` (any case), linked to the account; None if no one."""
    person_id = connection.scalar(select(Person.id).where(func.lower(Person.email) == email.strip().lower()))
    if person_id is None:
        return None
    link(connection, account, int(person_id))
    return person_of(connection, account)


def user_of(connection: Connection, person_id: int, platform: str, namespace: str) -> str | None:
    """The person's user id on the platform's workspace, if linked."""
    return connection.scalar(
        select(Identity.key)
        .where(Identity.person_id == person_id, Identity.kind == platform, Identity.namespace == namespace)
        .order_by(Identity.id)
    )


def person_by_agent_key(connection: Connection, agent_key: str) -> list[people.PersonInfo]:
    """Everyone an agent key names: `pwc:Martha` exactly, or a bare `Martha` under any source."""
    source, colon, key = agent_key.strip().partition(":")
    query = select(Identity.person_id).where(Identity.kind == "source")
    if colon and key:
        query = query.where(Identity.namespace == source, Identity.key == key)
    else:
        query = query.where(Identity.key == agent_key.strip())
    found = []
    for person_id in sorted({int(pid) for pid in connection.scalars(query)}):
        person = people.get(connection, person_id)
        if person is not None:
            found.append(person)
    return found


def request(
    connection: Connection, account: Account, display_name: str, person_id: int, agent_key: str, now: datetime
) -> Request:
    """A pending request for the account to become the person; asking again re-opens a denied one."""
    row = {
        "platform": account.platform,
        "namespace": account.namespace,
        "user_key": account.user,
        "display_name": display_name,
        "person_id": person_id,
        "agent_key": agent_key,
        "status": "pending",
        "requested_at": now,
    }
    insert_ignoring_conflicts(connection, table_of(LinkRequest), [row])
    same = (
        LinkRequest.platform == account.platform,
        LinkRequest.namespace == account.namespace,
        LinkRequest.user_key == account.user,
        LinkRequest.person_id == person_id,
    )
    connection.execute(
        update(LinkRequest)
        .where(*same, LinkRequest.status == "denied")
        .values(status="pending", requested_at=now)
    )
    found = get(connection, int(connection.scalar(select(LinkRequest.id).where(*same)) or 0))
    assert found is not None
    return found


def get(connection: Connection, request_id: int) -> Request | None:
    row = connection.execute(select(LinkRequest).where(LinkRequest.id == request_id)).first()
    if row is None:
        return None
    account = Account(row.platform, row.namespace, row.user_key)
    return Request(int(row.id), account, row.display_name, int(row.person_id), row.agent_key, row.status)


def decide(
    connection: Connection, request_id: int, decision: Decision, *, by: int, by_name: str, now: datetime
) -> bool:
    """Approve (binding the account to the person) or deny a pending request; False if not pending.

    The status change is conditional on `pending`, so two supervisors deciding at once decide once.
    """
    changed = connection.execute(
        update(LinkRequest)
        .where(LinkRequest.id == request_id, LinkRequest.status == "pending")
        .values(status=decision, decided_at=now, decided_by=by)
    ).rowcount
    if not changed:
        return False
    found = get(connection, request_id)
    assert found is not None
    if decision == "approved":
        link(connection, found.account, found.person_id)
    connection.execute(
        table_of(AuditEntry)
        .insert()
        .values(
            at=now,
            actor_id=by,
            actor=by_name,
            action=f"link.{decision}",
            target=f"person:{found.person_id}",
            details={
                "request": request_id,
                "account": f"{found.account.platform}:{found.account.namespace}/{found.account.user}",
                "agent_key": found.agent_key,
            },
        )
    )
    return True


def supervisors_of(connection: Connection, person_id: int, day: date) -> list[int]:
    """The people who supervise a team the person belongs to on `day`."""
    team_ids = [team.id for team in people.teams_on(connection, person_id, day)]
    if not team_ids:
        return []
    rows = connection.scalars(select(Supervision.supervisor_id).where(Supervision.team_id.in_(team_ids)))
    return sorted({int(pid) for pid in rows})
