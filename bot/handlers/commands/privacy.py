"""`/floorboard optout|optin|help`: hide yourself from public boards (or show again), and help."""

from __future__ import annotations

from bot.handlers.access import caller
from bot.handlers.commands.help import help_command
from bot.handlers.context import HandlerContext
from bot.handlers.contract import Command, Message, Param, ParamKind
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import private
from bot.messages import render
from bot.services import people

ACTIONS = ("optout", "optin", "help")


def register(registry: Registry, locale: str = "en") -> None:
    registry.add(
        CommandSpec(
            name="floorboard",
            help=render("help.floorboard", locale),
            handler=floorboard,
            params=(
                Param(
                    "action",
                    ParamKind.CHOICE,
                    render("help.param.action", locale),
                    required=True,
                    choices=ACTIONS,
                ),
            ),
            writes=True,
        )
    )


def floorboard(command: Command, ctx: HandlerContext) -> list[Message]:
    action = command.args["action"]
    if action == "help":
        return help_command(command, ctx)
    you = caller(command)
    public = action == "optin"
    changed = people.set_public_boards(ctx.db, you.person_id, public)
    state = "shown" if public else "hidden"
    return [private(render(f"privacy.{state}.{'changed' if changed else 'unchanged'}", command.locale))]
