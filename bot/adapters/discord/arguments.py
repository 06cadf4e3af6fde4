"""App-command option values to the typed arguments a handler expects, and who the caller is.

Users are resolved from the interaction itself (the option's user id, the invoking member and its role
ids), so nothing needs the privileged members intent.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

import discord
from sqlalchemy import Connection

from bot.adapters.console import resolve_mention
from bot.handlers.access import actor_for, unlinked_actor
from bot.handlers.contract import Actor, Param, ParamKind, PersonRef, Role
from bot.handlers.parsing import ParseError, tokenize
from bot.handlers.registry import CommandSpec
from bot.messages import render
from bot.scoring.periods import Period
from bot.services import chat_accounts, people

PLATFORM = "discord"
DM_NAMESPACE = "@me"
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_SNOWFLAKE = re.compile(r"\d{15,21}")


def actor(
    connection: Connection,
    user: discord.abc.User,
    *,
    supervisor_roles: frozenset[int],
    admin_roles: frozenset[int],
    guild_id: int | None = None,
) -> Actor:
    """The caller: the person linked to this Discord user, with roles from the roster and from Discord.

    Its account is `GUILD/USER`, as roster keys write it (`@me/USER` in a direct message), which is what
    /link binds."""
    account = f"{guild_id if guild_id is not None else DM_NAMESPACE}/{user.id}"
    person = chat_accounts.person_of(connection, PLATFORM, str(user.id))
    if person is None:
        return unlinked_actor(user.display_name, platform=PLATFORM, platform_user_id=account)
    found = actor_for(connection, person, platform=PLATFORM, platform_user_id=account)
    roles = set(found.roles)
    # Member._roles holds the role ids sent with the interaction; Member.roles would need the guild cache.
    member_roles = {int(role) for role in getattr(user, "_roles", ())}
    teams = found.supervised_team_ids
    if member_roles & admin_roles:
        roles |= {Role.AGENT, Role.SUPERVISOR, Role.ADMIN}
    elif member_roles & supervisor_roles:
        # a supervisors' role names no teams: it supervises every one, as a Slack group without teams does
        roles |= {Role.AGENT, Role.SUPERVISOR}
        teams = people.all_team_ids(connection)
    return replace(found, roles=frozenset(roles), supervised_team_ids=teams)


def arguments(
    connection: Connection, spec: CommandSpec, values: dict[str, Any], locale: str = "en"
) -> dict[str, Any]:
    """Typed arguments for `spec` from option values; raises ParseError with a catalogue message."""
    return {param.name: _value(connection, param, values.get(param.name), locale) for param in spec.params}


def _value(connection: Connection, param: Param, value: Any, locale: str) -> Any:
    if param.kind is ParamKind.PEOPLE:
        return _people(connection, value or "", locale)
    if value is None or value == "":
        return None
    if param.kind is ParamKind.PERSON:
        return _user(connection, value, locale)
    if param.kind is ParamKind.DATE:
        return _date(str(value), locale)
    if param.kind is ParamKind.PERIOD:
        return Period(str(value))
    if param.kind is ParamKind.INTEGER:
        return int(value)
    if param.kind is ParamKind.NUMBER:
        return float(value)
    return str(value)


def _user(connection: Connection, user: discord.abc.User, locale: str) -> PersonRef:
    person = chat_accounts.person_of(connection, PLATFORM, str(user.id))
    if person is None:
        raise ParseError(render("discord.unlinked_user", locale, name=user.display_name))
    return PersonRef(person.id, person.display_name)


def _people(connection: Connection, text: str, locale: str) -> tuple[PersonRef, ...]:
    """`<@123> <@456>` as Discord writes mentions into a text option, or roster names (`@Martha`)."""
    found: list[PersonRef] = []
    for token in tokenize(text):
        if _SNOWFLAKE.fullmatch(token.value):
            person = chat_accounts.person_of(connection, PLATFORM, token.value)
            if person is None:
                raise ParseError(render("discord.unlinked_mention", locale, user=token.value))
            ref = PersonRef(person.id, person.display_name)
        else:
            named = resolve_mention(connection, "console", token.value, locale)
            if named is None:
                raise ParseError(render("parse.unknown_person", locale, handle=f"@{token.value}"))
            ref = named
        if ref not in found:
            found.append(ref)
    return tuple(found)


def _date(text: str, locale: str) -> date:
    if _DATE.fullmatch(text.strip()):
        year, month, day = (int(part) for part in text.strip().split("-"))
        try:
            return date(year, month, day)
        except ValueError:
            pass
    raise ParseError(render("parse.bad_date", locale, token=text))
