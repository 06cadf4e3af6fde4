"""Supervisors from Slack user groups as link approvers.

`/floorboard link <agent key>` asks the roster's supervisors of the person's teams to approve. A
supervisors' group supervises the teams it is configured with (every team when it lists none), so its
linked members whose teams include one of the person's get the same request, with Approve and Deny
buttons, unless the roster already asked them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.adapters.slack.identity import PLATFORM, Grant
from bot.handlers.contract import Action, Destination, DestinationKind, Message, Text, UserText
from bot.messages import render
from bot.services import people
from bot.store.models import LinkRequest

if TYPE_CHECKING:
    from bot.adapters.slack.bridge import Bridge, Origin

COMMAND = "link"


@dataclass(frozen=True, slots=True)
class Asked:
    """A link request this command made (or asked again), and who has been sent it already."""

    id: int
    requester: str
    person_id: int
    person_name: str
    agent_key: str
    team_ids: frozenset[int]
    addressed: frozenset[int]


async def with_group_approvers(
    bridge: Bridge, client: AsyncWebClient, origin: Origin, replies: list[Message]
) -> list[Message]:
    """The replies of a link request, plus the request for each group-granted supervisor of the person."""
    if not bridge.identities.groups.supervisors:
        return replies
    asked = await asyncio.to_thread(_asked, bridge, origin, replies)
    if asked is None:
        return replies
    grants = await bridge.identities.supervisor_grants(client)
    return [*replies, *await asyncio.to_thread(_requests, bridge, origin, asked, grants)]


def _asked(bridge: Bridge, origin: Origin, replies: list[Message]) -> Asked | None:
    """The pending request of the caller's account that the replies confirm (`link.requested`)."""
    day = bridge.ctx.today()
    with bridge.ctx.engine.connect() as connection:
        # services.links has no "pending request of an account" yet; this read is that query
        rows = connection.execute(
            select(LinkRequest)
            .where(
                LinkRequest.platform == PLATFORM,
                LinkRequest.namespace == origin.team,
                LinkRequest.user_key == origin.user,
                LinkRequest.status == "pending",
            )
            .order_by(LinkRequest.requested_at.desc(), LinkRequest.id.desc())
        ).all()
        for row in rows:
            person = people.get(connection, int(row.person_id))
            if person is None:
                continue
            said = render("link.requested", bridge.locale, name=person.display_name, id=row.id)
            if not any(_says(reply, said) for reply in replies):
                continue
            teams = frozenset(team.id for team in people.teams_on(connection, person.id, day))
            addressed = frozenset(
                reply.destination.person_id
                for reply in replies
                if reply.destination.kind is DestinationKind.DM and reply.destination.person_id is not None
            )
            return Asked(
                int(row.id), row.display_name, person.id, person.display_name, row.agent_key, teams, addressed
            )
    return None


def _says(reply: Message, text: str) -> bool:
    return reply.destination.kind is DestinationKind.CALLER and any(
        isinstance(segment, Text) and segment.text == text for segment in reply.segments
    )


def _requests(bridge: Bridge, origin: Origin, asked: Asked, grants: dict[str, Grant]) -> list[Message]:
    locale = bridge.locale
    text = render(
        "link.ask_supervisor",
        locale,
        who=asked.requester,
        name=asked.person_name,
        key=asked.agent_key,
        id=asked.id,
    )
    key = str(asked.id)
    buttons = (
        Action(render("link.button.approve", locale), COMMAND, {"decision": "approve", "key": key}),
        Action(render("link.button.deny", locale), COMMAND, {"decision": "deny", "key": key}),
    )
    sent = set(asked.addressed)
    out = []
    with bridge.ctx.engine.connect() as connection:
        for user, grant in grants.items():
            person = people.by_identity(connection, PLATFORM, origin.team, user)
            if person is None or person.id in sent or person.id == asked.person_id:
                continue
            if not bridge.identities.team_ids_in(connection, grant) & asked.team_ids:
                continue
            sent.add(person.id)
            # the requester's chat name and the key are typed by them: user text, escaped when rendered
            destination = Destination(DestinationKind.DM, person_id=person.id)
            out.append(Message(destination, (UserText(text),), actions=buttons))
    return out
