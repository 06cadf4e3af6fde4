"""`/adjust @who POINTS reason`: a supervisor adds or removes points, with who, when and why kept."""

from __future__ import annotations

from bot.handlers.access import caller, require_view
from bot.handlers.context import HandlerContext
from bot.handlers.contract import (
    CALLER,
    Command,
    Destination,
    DestinationKind,
    HandlerError,
    Message,
    Param,
    ParamKind,
    PersonRef,
    Role,
    UserText,
)
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import mention, segments
from bot.messages import formats, render
from bot.scoring.zones import hundredths
from bot.services.adjustments import Adjustment
from bot.services.adjustments import adjust as write_adjustment


def register(registry: Registry, locale: str = "en") -> None:
    registry.add(
        CommandSpec(
            name="adjust",
            help=render("help.adjust", locale),
            handler=adjust,
            params=(
                Param("who", ParamKind.PERSON, render("help.param.who", locale), required=True),
                Param("points", ParamKind.NUMBER, render("help.param.adjust_points", locale), required=True),
                Param("reason", ParamKind.TEXT, render("help.param.adjust_reason", locale), required=True),
            ),
            roles=frozenset({Role.SUPERVISOR, Role.ADMIN}),
            writes=True,
        )
    )


MAX_ADJUSTMENT = 100_000  # points in one adjustment


def adjust(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    me = caller(command)
    target: PersonRef = command.args["who"]
    today = ctx.today()
    if target.person_id == me.person_id:
        raise HandlerError(render("adjust.self", locale))
    require_view(ctx, command, target, today)
    asked = float(command.args["points"])
    if not abs(asked) <= MAX_ADJUSTMENT:  # also NaN: a typo, not an adjustment
        raise HandlerError(render("adjust.too_large", locale, most=f"{MAX_ADJUSTMENT:,}"))
    amount = hundredths(asked)
    if not amount:
        if asked:
            shown = f"{asked:.10f}".rstrip("0").rstrip(".")
            raise HandlerError(render("adjust.too_small", locale, asked=shown))
        raise HandlerError(render("adjust.zero", locale))
    reason = (command.args.get("reason") or "").strip()
    if not reason:
        raise HandlerError(render("adjust.reason", locale))
    written = write_adjustment(
        ctx.db,
        Adjustment(target.person_id, amount, reason, me.person_id, me.display_name),
        day=today,
        now=ctx.clock(),
        program_version=ctx.program_version,
        key=f"{command.actor.platform}:{command.delivery_id}",
    )
    if not written:
        return [Message(CALLER, segments("adjust.replayed", locale))]
    points = formats.signed_hundredths(amount)
    return [
        Message(
            CALLER,
            segments(
                "adjust.done",
                locale,
                points=points,
                who=mention(target),
                by=mention(me),
                reason=UserText(reason),
            ),
        ),
        Message(
            Destination(DestinationKind.DM, person_id=target.person_id),
            segments("adjust.dm", locale, by=mention(me), points=points, reason=UserText(reason)),
        ),
    ]
