"""Who a Slack user is: the workspace bound on first contact, the linked person, roles from the roster
or from configured Slack user groups, and linking by roster e-mail through users.info.

A supervisors' group grants supervision of the team keys it is configured with
(`FLOORBOARD_SLACK_SUPERVISOR_GROUPS=S0EAST=east;north`), or of every team when it lists none; the
admins' group grants everything an admin has. Group members are asked of Slack at most once per group per
cache period (usergroups.users.list is Tier 2, about 20 calls a minute), and users.info answers are kept
as long.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Connection, Engine

from bot.clock import Clock
from bot.handlers.access import actor_for, unlinked_actor
from bot.handlers.contract import Actor, Role
from bot.services import links, people, workspaces
from bot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "slack"
SLACKBOT = "USLACKBOT"  # Slack's own bot: users.info does not mark it is_bot
ERROR_RETRY_SECONDS = 30.0  # after a failure other than ratelimited, before asking Slack again
RATELIMIT_RETRY_SECONDS = 60.0  # when a ratelimited answer has no Retry-After
Monotonic = Callable[[], float]


class OtherWorkspace(Exception):
    """The request comes from a workspace other than the one this organisation is bound to."""


@dataclass(frozen=True, slots=True)
class Groups:
    """Slack user groups that grant roles: each supervisors' group with the team keys it supervises (none:
    every team), and the admins' group."""

    supervisors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    admins: str | None = None

    @classmethod
    def of(cls, settings: Settings) -> Groups:
        """FLOORBOARD_SLACK_SUPERVISOR_GROUPS, plus FLOORBOARD_SLACK_SUPERVISOR_GROUP for every team."""
        supervisors = dict(settings.slack_supervisor_groups)
        if settings.slack_supervisor_group:
            supervisors.setdefault(settings.slack_supervisor_group, ())
        return cls(supervisors, settings.slack_admin_group)


@dataclass(frozen=True, slots=True)
class Grant:
    """What a user's Slack groups give them."""

    admin: bool = False
    supervisor: bool = False
    every_team: bool = False
    team_keys: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SlackUser:
    """What users.info says of a user that Floorboard uses."""

    id: str
    shown: str
    email: str | None = None
    bot: bool = False


@dataclass(frozen=True, slots=True)
class _Known:
    value: Any
    fresh_until: float


class GroupMembers:
    """Who is in a Slack user group, asked of usergroups.users.list at most once per group per `ttl`.

    When Slack answers `ratelimited`, the last known members stay and Slack is not asked again before its
    Retry-After; other failures keep them too, for ERROR_RETRY_SECONDS. So roles granted by a group do not
    vanish because Slack was busy.
    """

    def __init__(self, ttl: float, clock: Monotonic = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._known: dict[str, _Known] = {}
        self._asking: dict[str, asyncio.Lock] = {}

    async def of(self, client: AsyncWebClient, group: str) -> frozenset[str]:
        known = self._known.get(group)
        if known is not None and self.clock() < known.fresh_until:
            return frozenset(known.value)
        async with self._asking.setdefault(group, asyncio.Lock()):  # one question at a time per group
            known = self._known.get(group)
            if known is not None and self.clock() < known.fresh_until:
                return frozenset(known.value)
            last: frozenset[str] = frozenset(known.value) if known is not None else frozenset()
            try:
                response = await client.usergroups_users_list(usergroup=group)
            except SlackApiError as error:
                wait = _retry_after(error)
                log.warning(
                    "usergroups.users.list %s failed (%s); keeping its %d known members for %g s",
                    group,
                    error.response.get("error"),
                    len(last),
                    wait,
                )
                self._known[group] = _Known(last, self.clock() + wait)
                return last
            members = frozenset(str(user) for user in response.get("users") or ())
            self._known[group] = _Known(members, self.clock() + self.ttl)
            return members


def _retry_after(error: SlackApiError) -> float:
    if error.response.get("error") != "ratelimited":
        return ERROR_RETRY_SECONDS
    headers = getattr(error.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else RATELIMIT_RETRY_SECONDS
    except ValueError:
        return RATELIMIT_RETRY_SECONDS


class Identities:
    """Resolves Slack users to Actors; database work runs on a worker thread, Slack calls on the loop."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        groups: Groups,
        *,
        cache_seconds: float = 300,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.groups = groups
        self.members = GroupMembers(cache_seconds, monotonic)
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._users: dict[str, _Known] = {}
        self._unknown_teams: set[str] = set()

    async def actor(self, client: AsyncWebClient, team: str, user: str, name: str = "") -> Actor:
        """The Actor of `user` in workspace `team`; raises OtherWorkspace for a foreign workspace."""
        actor = await asyncio.to_thread(self._known, team, user, name)
        if actor.person_id is None:
            found = await self.slack_user(client, user)
            shown = (found.shown if found else "") or name or user
            if found is not None and found.email:
                actor = await asyncio.to_thread(self._link_by_email, team, user, found.email, shown)
            else:
                actor = replace(actor, display_name=shown)
        if actor.person_id is None:
            return actor
        grant = await self.grant(client, user)
        if grant == Grant():
            return actor
        roles = set(actor.roles)
        teams = actor.supervised_team_ids
        if grant.admin:
            roles |= {Role.AGENT, Role.SUPERVISOR, Role.ADMIN}
        if grant.supervisor:
            roles |= {Role.AGENT, Role.SUPERVISOR}
            teams = teams | await asyncio.to_thread(self.team_ids, grant)
        return replace(actor, roles=frozenset(roles), supervised_team_ids=teams)

    async def grant(self, client: AsyncWebClient, user: str) -> Grant:
        """The roles and teams `user`'s Slack groups give them."""
        admin = bool(self.groups.admins) and user in await self.members.of(client, self.groups.admins or "")
        every_team = False
        keys: set[str] = set()
        supervisor = False
        for group, team_keys in self.groups.supervisors.items():
            if user in await self.members.of(client, group):
                supervisor = True
                every_team = every_team or not team_keys
                keys.update(team_keys)
        return Grant(admin, supervisor, every_team, frozenset(keys))

    async def supervisor_grants(self, client: AsyncWebClient) -> dict[str, Grant]:
        """Every member of a supervisors' group, with what their groups give them."""
        users: set[str] = set()
        for group in self.groups.supervisors:
            users |= await self.members.of(client, group)
        return {user: await self.grant(client, user) for user in sorted(users)}

    def team_ids(self, grant: Grant) -> frozenset[int]:
        with self.engine.connect() as connection:
            return self.team_ids_in(connection, grant)

    def team_ids_in(self, connection: Connection, grant: Grant) -> frozenset[int]:
        """The ids of the teams a grant supervises (keys not on the roster are left out, logged once)."""
        keys = people.team_keys(connection) if grant.every_team else sorted(grant.team_keys)
        found: set[int] = set()
        for key in keys:
            team = people.team_by_key(connection, key)
            if team is not None:
                found.add(team.id)
            elif key not in self._unknown_teams:
                self._unknown_teams.add(key)
                log.warning(
                    "FLOORBOARD_SLACK_SUPERVISOR_GROUPS names team %r, which is not on the roster; "
                    "its supervisors get no team by it",
                    key,
                )
        return frozenset(found)

    async def slack_user(self, client: AsyncWebClient, user: str) -> SlackUser | None:
        """users.info of `user`, remembered for the cache period; None when Slack does not answer."""
        known = self._users.get(user)
        if known is not None and self._monotonic() < known.fresh_until:
            found: SlackUser = known.value
            return found
        try:
            response = await client.users_info(user=user)
        except SlackApiError as error:
            log.warning("users.info %s failed: %s", user, error.response.get("error"))
            return None
        data = response.get("user") or {}
        profile = dict(data.get("profile") or {})
        shown = profile.get("display_name") or profile.get("real_name") or data.get("real_name")
        email = profile.get("email")
        found = SlackUser(
            user,
            str(shown or data.get("name") or ""),
            str(email) if email else None,
            bool(data.get("is_bot") or profile.get("bot_id") or user == SLACKBOT),
        )
        self._users[user] = _Known(found, self._monotonic() + self._cache_seconds)
        return found

    async def bots(self, client: AsyncWebClient, users: Iterable[str]) -> dict[str, str]:
        """The bot users among `users` (Slackbot, apps' bot users) and their names, in their order."""
        names = {}
        for user in dict.fromkeys(users):
            found = await self.slack_user(client, user)
            if found is not None and found.bot:
                names[user] = found.shown or user
        return names

    async def link_users(self, client: AsyncWebClient, team: str, users: list[str]) -> None:
        """Link mentioned users not linked yet by their roster e-mail, so a mention of them resolves."""
        unknown = await asyncio.to_thread(self._unlinked, team, users)
        for user in unknown[:20]:
            found = await self.slack_user(client, user)
            if found is not None and found.email and not found.bot:
                await asyncio.to_thread(self._link_email_only, team, user, found.email)

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
