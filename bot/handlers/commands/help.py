"""`/help`: every command of the registry with its help text and parameters."""

from __future__ import annotations

from bot.handlers.context import HandlerContext
from bot.handlers.contract import Command, Message, Role
from bot.handlers.parsing import usage
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import private
from bot.messages import render

_EVERYONE = frozenset(Role)


def register(registry: Registry, locale: str = "en") -> None:
    registry.add(
        CommandSpec(name="help", help=render("help.help", locale), handler=help_command, linked=False)
    )


def help_command(command: Command, ctx: HandlerContext) -> list[Message]:
    registry = ctx.registry or Registry()
    return [private(help_text(registry, command.locale), title=render("help.title", command.locale))]


def help_text(registry: Registry, locale: str) -> str:
    """One block per command: usage, who may use it, what it does, and each parameter."""
    blocks = [_block(spec, locale) for spec in registry]
    return "\n\n".join(blocks)


def _block(spec: CommandSpec, locale: str) -> str:
    lines = [usage(spec)]
    if spec.roles != _EVERYONE:
        roles = render("common.or", locale).join(
            render(f"roles.{role.value}", locale) for role in Role if role in spec.roles
        )
        lines.append("  " + render("help.only", locale, roles=roles))
    lines.append(f"  {spec.help}")
    for param in spec.params:
        required = render("help.required" if param.required else "help.optional", locale)
        lines.append(f"    {param.name} ({required}): {param.help}")
    return "\n".join(lines)
