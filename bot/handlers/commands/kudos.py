"""`/kudos @a [@b …] reason [#value]`: peer recognition within the daily allowance."""

from __future__ import annotations

from bot.handlers.access import caller

# `/kudos-board` and `/kudos-revoke` live in kudos_board.py.
from bot.handlers.commands.kudos_board import register as register_board
from bot.handlers.context import HandlerContext
from bot.handlers.contract import (
    CALLER,
    ORIGIN,
    Command,
    Destination,
    DestinationKind,
    HandlerError,
    Message,
    Param,
    ParamKind,
    PersonRef,
    Segment,
    Text,
    UserText,
)
from bot.handlers.parsing import tokenize
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import mention, people_list, segments
from bot.messages import formats, render
from bot.services import people
from bot.services.kudos import MAX_REASON, Gift, Given, KudosRefused, give

_TAG_TRAILING = ",.;:!?"


def register(registry: Registry, locale: str = "en") -> None:
    registry.add(
        CommandSpec(
            name="kudos",
            help=render("help.kudos", locale, limit=MAX_REASON),
            handler=kudos,
            params=(
                Param("to", ParamKind.PEOPLE, render("help.param.to", locale), required=True),
                Param(
                    "private", ParamKind.CHOICE, render("help.param.private", locale), choices=("private",)
                ),
                Param("reason", ParamKind.TEXT, render("help.param.reason", locale), required=True),
            ),
            writes=True,
        )
    )
    register_board(registry, locale)


def kudos(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    giver = caller(command)
    receivers = list({person.person_id: person for person in command.args.get("to") or ()}.values())
    reason, tag = split_reason(command.args.get("reason") or "")
    if not has_words(reason):
        raise HandlerError(render("kudos.refused.reason", locale))
    day = ctx.today()
    secret = bool(command.args.get("private"))
    gift = Gift(
        giver.person_id,
        tuple(r.person_id for r in receivers),
        reason,
        tag,
        f"{command.actor.platform}:{command.delivery_id}",
        private=secret,
    )
    try:
        given = give(ctx.db, ctx.program, gift, day=day, now=ctx.clock(), program_version=ctx.program_version)
    except KudosRefused as refused:
        raise HandlerError(_refusal(refused, locale)) from None
    if given.replayed:
        return [Message(CALLER, segments("kudos.replayed", locale))]
    value = given.value_tag
    replies = [_confirmation(receivers, value, given, locale, secret)]
    if not secret:
        replies.extend(_posts(ctx, giver, receivers, reason, value, locale))
    points = formats.trim(given.points / 100)
    for receiver in receivers:
        replies.append(
            Message(
                Destination(DestinationKind.DM, person_id=receiver.person_id),
                _sentence(
                    "kudos.dm",
                    locale,
                    value,
                    giver=mention(giver),
                    reason=UserText(reason),
                    points=points,
                ),
            )
        )
    return replies


def split_reason(text: str) -> tuple[str, str | None]:
    """`great save #empathy` -> (`great save`, `empathy`): a last word starting with # is the value tag."""
    stripped = text.strip()
    head, _, last = stripped.rpartition(" ")
    if last.startswith("#") and len(last.rstrip(_TAG_TRAILING)) > 1:
        return head.strip(), last.rstrip(_TAG_TRAILING)[1:]
    return stripped, None


def has_words(reason: str) -> bool:
    """A reason must say something besides mentions and #tags."""
    return any(token.kind == "word" and not token.value.startswith("#") for token in tokenize(reason))


def _refusal(refused: KudosRefused, locale: str) -> str:
    inputs = dict(refused.inputs)
    code = refused.code
    if code == "value":
        values = inputs.pop("values")
        if not values:
            code = "no_values"
        inputs["values"] = ", ".join(f"#{value}" for value in values)
    return render(f"kudos.refused.{code}", locale, **inputs)


def _sentence(message_id: str, locale: str, value: str | None, **inputs: object) -> tuple[Segment, ...]:
    if value:
        return segments(f"{message_id}_tagged", locale, value=value, **inputs)
    return segments(message_id, locale, **inputs)


def _confirmation(
    receivers: list[PersonRef], value: str | None, given: Given, locale: str, secret: bool = False
) -> Message:
    left = max(given.allowance - given.used_today, 0)
    sentence = _sentence(
        "kudos.confirm",
        locale,
        value,
        to=people_list(receivers, locale),
        left=left,
        allowance=given.allowance,
    )
    if secret:
        sentence = (*sentence, Text(render("kudos.confirm_private", locale)))
    return Message(CALLER, sentence)


def _posts(
    ctx: HandlerContext,
    giver: PersonRef,
    receivers: list[PersonRef],
    reason: str,
    value: str | None,
    locale: str,
) -> list[Message]:
    """One post per team channel of the recipients; recipients whose team has no channel share the origin."""
    groups: dict[Destination, list[PersonRef]] = {}
    for receiver in receivers:
        teams = [
            team for team in people.teams_on(ctx.db, receiver.person_id, ctx.today()) if team.has_channel
        ]
        destination = Destination(DestinationKind.TEAM_CHANNEL, team_id=teams[0].id) if teams else ORIGIN
        groups.setdefault(destination, []).append(receiver)
    return [
        Message(
            destination,
            _sentence(
                "kudos.post",
                locale,
                value,
                giver=mention(giver),
                to=people_list(group, locale),
                reason=UserText(reason),
            ),
        )
        for destination, group in groups.items()
    ]
