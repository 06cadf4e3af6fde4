"""Who a Slack user is: the workspace bound on first contact, the linked person, roles from the roster
or from configured Slack user groups, and linking by roster e-mail through users.info."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from bot.clock import Clock
from bot.handlers.access import actor_for, unlinked_actor
from bot.handlers.contract import Actor, Role
from bot.services import links, people, workspaces

log = logging.getLogger(__name__)

PLATFORM = "slack"


class OtherWorkspace(Exception):
    """The request comes from a workspace other than the one this organisation is bound to."""


@dataclass(frozen=True, slots=True)
class Groups:
    """Slack user group ids whose members get a role, whatever the roster says."""

    supervisors: str | None = None
    admins: str | None = None


class Identities:
    """Resolves Slack users to Actors; database work runs on a worker thread, Slack calls on the loop."""

    def __init__(self, engine: Engine, clock: Clock, groups: Groups) -> None:
        self.engine = engine
        self.clock = clock
        self.groups = groups

    async def actor(self, client: AsyncWebClient, team: str, user: str, name: str = "") -> Actor:
        """The Actor of `user` in workspace `team`; raises OtherWorkspace for a foreign workspace."""
        actor = await asyncio.to_thread(self._known, team, user, name)
        if actor.person_id is None:
            profile = await self._profile(client, user)
            email = profile.get("email")
            shown = profile.get("display_name") or profile.get("real_name") or name or user
            if email:
                actor = await asyncio.to_thread(self._link_by_email, team, user, str(email), str(shown))
            else:
                actor = replace(actor, display_name=str(shown))
        extra = await self._group_roles(client, user)
        if extra and actor.person_id is not None:
            actor = replace(actor, roles=actor.roles | extra)
        return actor

    async def link_users(self, client: AsyncWebClient, team: str, users: list[str]) -> None:
        """Link mentioned users not linked yet by their roster e-mail, so a mention of them resolves."""
        unknown = await asyncio.to_thread(self._unlinked, team, users)
        for user in unknown[:20]:
            email = (await self._profile(client, user)).get("email")
            if email:
                await asyncio.to_thread(self._link_email_only, team, user, str(email))

    def _bound(self, team: str) -> None:
        with self.engine.begin() as connection:
            bound = workspaces.bound(connection, PLATFORM) or workspaces.bind(
                connection, PLATFORM, team, self.clock()
            )
        if bound != team:
            log.warning("refused Slack workspace %s: bound to %s", team, bound)
            raise OtherWorkspace(team)

    def _known(self, team: str, user: str, name: str) -> Actor:
        self._bound(team)
        account = links.Account(PLATFORM, team, user)
        with self.engine.begin() as connection:
            person = links.person_of(connection, account)
            if person is not None:
                return actor_for(connection, person, platform=PLATFORM, platform_user_id=f"{team}/{user}")
        return unlinked_actor(name or user, platform=PLATFORM, platform_user_id=f"{team}/{user}")

    def _link_by_email(self, team: str, user: str, email: str, shown: str) -> Actor:
        account = links.Account(PLATFORM, team, user)
        with self.engine.begin() as connection:
            person = links.link_by_email(connection, account, email)
            if person is not None:
                log.info("linked Slack user %s/%s to person %s by e-mail", team, user, person.id)
                return actor_for(connection, person, platform=PLATFORM, platform_user_id=f"{team}/{user}")
        return unlinked_actor(shown, platform=PLATFORM, platform_user_id=f"{team}/{user}")

    def _link_email_only(self, team: str, user: str, email: str) -> None:
        with self.engine.begin() as connection:
            links.link_by_email(connection, links.Account(PLATFORM, team, user), email)

    def _unlinked(self, team: str, users: list[str]) -> list[str]:
        with self.engine.connect() as connection:
            return [
                user
                for user in dict.fromkeys(users)
                if people.by_identity(connection, PLATFORM, team, user) is None
            ]

    async def _profile(self, client: AsyncWebClient, user: str) -> dict[str, object]:
        try:
            response = await client.users_info(user=user)
        except SlackApiError as error:
            log.warning("users.info %s failed: %s", user, error.response.get("error"))
            return {}
        found = response.get("user") or {}
        profile = dict(found.get("profile") or {})
        profile.setdefault("real_name", found.get("real_name") or found.get("name") or "")
        return profile

    async def _group_roles(self, client: AsyncWebClient, user: str) -> frozenset[Role]:
        roles: set[Role] = set()
        for group, granted in ((self.groups.supervisors, Role.SUPERVISOR), (self.groups.admins, Role.ADMIN)):
            if not group:
                continue
            try:
                response = await client.usergroups_users_list(usergroup=group)
            except SlackApiError as error:
                log.warning("usergroups.users.list %s failed: %s", group, error.response.get("error"))
                continue
            if user in (response.get("users") or []):
                roles.add(granted)
        return frozenset(roles)
