"""Run one Command through the registry: caller and role checks, the delivery claim, refusals as replies."""

from __future__ import annotations

import logging

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from bot.handlers.context import HandlerContext
from bot.handlers.contract import Command, HandlerError, Message, Role
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import private
from bot.messages import has, render
from bot.store.models import Delivery

log = logging.getLogger(__name__)


def dispatch(registry: Registry, command: Command, ctx: HandlerContext) -> list[Message]:
    """The replies to `command`; every refusal is a private message that says why.

    Roles apply to linked callers; an unlinked one reaches only commands with `linked=False` (/help).
    The handler runs in one transaction. A command that writes first claims its delivery id (platform +
    delivery_id, unique) in that transaction, so a replayed delivery changes nothing and says so, and a
    refused one (HandlerError) rolls back with its claim.
    """
    locale = command.locale
    spec = registry.get(command.name)
    if spec is None:
        return [private(render("common.unknown_command", locale, name=command.name))]
    if spec.linked and command.actor.person_id is None:
        return [private(_unlinked(command))]
    if command.actor.person_id is not None and not _allowed(spec, command):
        return [private(render("common.refused_role", locale, command=spec.name, roles=_roles(spec, locale)))]
    try:
        with ctx.engine.begin() as connection:
            if spec.writes and not _claim(connection, command, ctx):
                return [private(render("common.replayed", locale, command=spec.name))]
            return spec.handler(command, ctx.bound(connection, registry))
    except HandlerError as error:
        return [private(error.message)]


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


def _claim(connection: Connection, command: Command, ctx: HandlerContext) -> bool:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    claimed = connection.execute(
        dialect.insert(Delivery)
        .values(platform=command.actor.platform, key=command.delivery_id, created_at=ctx.clock())
        .on_conflict_do_nothing()
        .returning(Delivery.id)
    ).first()
    if claimed is None:
        log.info("replayed delivery %s:%s for /%s", command.actor.platform, command.delivery_id, command.name)
    return claimed is not None
