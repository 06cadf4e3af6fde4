"""Run one Command through the registry: caller and role checks, the delivery claim, refusals as replies."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from bot.handlers.context import HandlerContext
from bot.handlers.contract import Command, HandlerError, Message, PersonRef, Role
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import private
from bot.messages import has, render
from bot.services import deliveries
from bot.services.deliveries import Claim

log = logging.getLogger(__name__)

# A deadlock or serialization failure rolls the whole transaction back; dispatch runs it again, up to
# ATTEMPTS times in all. Writes take their locks in a fixed order, so this is a backstop, not the plan.
ATTEMPTS = 3
_RETRYABLE_STATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


def dispatch(registry: Registry, command: Command, ctx: HandlerContext) -> list[Message]:
    """The replies to `command`; every refusal is a private message that says why.

    Roles apply to linked callers; an unlinked one reaches only commands with `linked=False` (/help).
    The handler runs in one transaction. A command that writes first claims its delivery id (platform +
    delivery_id, unique) in that transaction, so a replayed delivery changes nothing and says so, and a
    refused one (HandlerError) rolls back with its claim. The claim keeps a fingerprint of the command,
    so the same id sent with a different command is refused as such, not answered as a replay. A
    transaction PostgreSQL rolls back to break a deadlock is run again (`ATTEMPTS` in all).
    """
    locale = command.locale
    spec = registry.get(command.name)
    if spec is None:
        if not command.name:
            return [private(render("common.no_slash", locale))]
        subs = registry.subcommands(command.name)
        if subs:
            listed = "|".join(spec.name.split(" ", 1)[1] for spec in subs)
            return [private(render("common.subcommand", locale, name=command.name, subs=listed))]
        return [private(render("common.unknown_command", locale, name=command.name))]
    if spec.linked and command.actor.person_id is None:
        return [private(_unlinked(command))]
    if command.actor.person_id is not None and not _allowed(spec, command):
        return [private(render("common.refused_role", locale, command=spec.name, roles=_roles(spec, locale)))]
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _run(registry, spec, command, ctx)
        except HandlerError as error:
            return [private(error.message)]
        except DBAPIError as error:
            if attempt == ATTEMPTS or not retryable(error):
                raise
            log.warning(
                "/%s (delivery %s) rolled back on %s; retry %d of %d",
                command.name,
                command.delivery_id,
                type(error.orig).__name__,
                attempt,
                ATTEMPTS - 1,
            )
            time.sleep(random.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _run(registry: Registry, spec: CommandSpec, command: Command, ctx: HandlerContext) -> list[Message]:
    """One attempt, in one transaction: the claim (for commands that write), then the handler."""
    locale = command.locale
    with ctx.engine.begin() as connection:
        claim = _claim(connection, command, ctx) if spec.writes else "claimed"
        if claim == "replayed":
            return [private(render("common.replayed", locale, command=spec.name))]
        if claim == "reused":
            return [private(render("common.delivery_reused", locale))]
        return spec.handler(command, ctx.bound(connection, registry))


def retryable(error: DBAPIError) -> bool:
    """PostgreSQL rolled the transaction back to break a deadlock or a serialization conflict: running it
    again from the start is safe (nothing of it was committed) and will most likely succeed."""
    return getattr(error.orig, "sqlstate", None) in _RETRYABLE_STATES


def _allowed(spec: CommandSpec, command: Command) -> bool:
    actor = command.actor
    return Role.ADMIN in actor.roles or bool(spec.roles & actor.roles)


def _roles(spec: CommandSpec, locale: str) -> str:
    names = [render(f"roles.{role.value}", locale) for role in Role if role in spec.roles]
    return render("common.or", locale).join(names)


def _unlinked(command: Command) -> str:
    platform_specific = f"common.unlinked.{command.actor.platform}"
    message_id = platform_specific if has(platform_specific, command.locale) else "common.unlinked.any"
    return render(
        message_id, command.locale, name=command.actor.display_name, platform=command.actor.platform
    )


def _claim(connection: Connection, command: Command, ctx: HandlerContext) -> Claim:
    platform, key = command.actor.platform, command.delivery_id
    result = deliveries.claim(
        connection, platform=platform, key=key, fingerprint=fingerprint(command), now=ctx.clock()
    )
    if result == "reused":
        log.warning("delivery %s:%s reused for another command (/%s)", platform, key, command.name)
    elif result == "replayed":
        log.info("replayed delivery %s:%s for /%s", platform, key, command.name)
    return result


def fingerprint(command: Command) -> str:
    """sha256 of the command name and its arguments, normalized: people by id, dates as ISO, words
    with their whitespace collapsed, keys sorted."""
    args = json.dumps(
        {name: _normal(value) for name, value in command.args.items()},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(f"{command.name}\n{args}".encode()).hexdigest()


def _normal(value: Any) -> Any:
    if isinstance(value, PersonRef):
        return {"person": value.person_id}
    if isinstance(value, Enum):
        return _normal(value.value)
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_normal(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _normal(item) for key, item in value.items()}
    return value
