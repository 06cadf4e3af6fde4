"""Who the caller is and what they may see: actors from the roster, and checks on viewing someone else."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from bot.handlers.context import HandlerContext
from bot.handlers.contract import Actor, Command, HandlerError, PersonRef, Role
from bot.messages import render
from bot.services import people

_ROLES = {
    "agent": frozenset({Role.AGENT}),
    "supervisor": frozenset({Role.AGENT, Role.SUPERVISOR}),
    "admin": frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN}),
}


def actor_for(
    connection: Connection, person: people.PersonInfo, *, platform: str, platform_user_id: str
) -> Actor:
    """The Actor of a linked person: roles from Person.role, supervised teams from Supervision."""
    return Actor(
        person_id=person.id,
        display_name=person.display_name,
        roles=_ROLES.get(person.role, _ROLES["agent"]),
        supervised_team_ids=people.supervised_teams(connection, person.id),
        platform=platform,
        platform_user_id=platform_user_id,
    )


def unlinked_actor(display_name: str, *, platform: str, platform_user_id: str) -> Actor:
    return Actor(None, display_name, frozenset(), platform=platform, platform_user_id=platform_user_id)


def caller(command: Command) -> PersonRef:
    """The caller as a person; dispatch has already refused callers who are not linked."""
    actor = command.actor
    if actor.person_id is None:
        raise HandlerError(
            render("common.unlinked.any", command.locale, name=actor.display_name, platform=actor.platform)
        )
    return PersonRef(actor.person_id, actor.display_name)


def require_view(ctx: HandlerContext, command: Command, target: PersonRef, day: date) -> None:
    """Agents see only themselves; supervisors the agents of teams they supervise on `day`; admins all."""
    actor = command.actor
    if target.person_id == actor.person_id or Role.ADMIN in actor.roles:
        return
    if Role.SUPERVISOR in actor.roles:
        if people.in_teams(ctx.db, target.person_id, actor.supervised_team_ids, day, day):
            return
        raise HandlerError(
            render("access.not_your_team", command.locale, name=target.display_name, day=day.isoformat())
        )
    raise HandlerError(render("access.only_yourself", command.locale, name=target.display_name))
