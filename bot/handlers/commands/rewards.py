"""`/rewards`, `/redeem`, `/redemptions`, `/approve`, `/reject`: the coins store and its approvals."""

from __future__ import annotations

from sqlalchemy import Connection

from bot.handlers.access import caller, require_view
from bot.handlers.context import HandlerContext
from bot.handlers.contract import (
    Action,
    Command,
    Destination,
    DestinationKind,
    HandlerError,
    Message,
    Param,
    ParamKind,
    PersonRef,
    Role,
    Segment,
    Table,
    Text,
    UserText,
)
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import mention, private, segments
from bot.messages import formats, render
from bot.services import people, rewards, wallet
from bot.services.rewards import RedemptionInfo, RewardRefused

AUTOCOMPLETE = "reward"
_SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def autocomplete_rewards(connection: Connection, typed: str) -> list[str]:
    """Reward ids for a Param whose `autocomplete` is "reward"."""
    wanted = typed.strip().lower()
    return [item.key for item in rewards.items(connection) if wanted in item.key.lower()][:25]


def register(registry: Registry, locale: str = "en") -> None:
    def p(name: str, kind: ParamKind, help_id: str, **extra: object) -> Param:
        return Param(name, kind, render(f"help.param.{help_id}", locale), **extra)  # type: ignore[arg-type]

    registry.add(CommandSpec("rewards", render("help.rewards", locale), list_rewards))
    registry.add(
        CommandSpec(
            "redeem",
            render("help.redeem", locale),
            redeem,
            (p("item", ParamKind.TEXT, "item", required=True, autocomplete=AUTOCOMPLETE),),
            writes=True,
        )
    )
    registry.add(
        CommandSpec(
            "redemptions",
            render("help.redemptions", locale),
            list_redemptions,
            (p("who", ParamKind.PERSON, "who"),),
        )
    )
    registry.add(
        CommandSpec(
            "approve",
            render("help.approve", locale),
            approve,
            (p("id", ParamKind.INTEGER, "redemption", required=True),),
            roles=_SUPERVISORS,
            writes=True,
        )
    )
    registry.add(
        CommandSpec(
            "reject",
            render("help.reject", locale),
            reject,
            (
                p("id", ParamKind.INTEGER, "redemption", required=True),
                p("reason", ParamKind.TEXT, "decision_reason", required=True),
            ),
            roles=_SUPERVISORS,
            writes=True,
        )
    )


def list_rewards(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    me = caller(command)
    coins = wallet.wallet(ctx.db, ctx.program, me.person_id, now=ctx.clock())
    found = rewards.items(ctx.db)
    parts: list[Segment] = [Text(render("rewards.wallet", locale, coins=formats.hundredths(coins.balance)))]
    if found:
        parts.append(
            Table(
                tuple(render(f"rewards.column.{c}", locale) for c in ("item", "name", "price", "stock")),
                tuple(
                    (
                        item.key,
                        item.name,
                        formats.hundredths(item.price),
                        str(item.stock) if item.stock is not None else render("rewards.unlimited", locale),
                    )
                    for item in found
                ),
                ("left", "left", "right", "right"),
            )
        )
    else:
        parts.append(Text("\n" + render("rewards.empty", locale)))
    return [private(*parts, title=render("rewards.title", locale))]


def redeem(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    me = caller(command)
    try:
        done = rewards.redeem(
            ctx.db,
            ctx.program,
            person_id=me.person_id,
            item_key=command.args["item"],
            delivery_key=f"{command.actor.platform}:{command.delivery_id}",
            now=ctx.clock(),
        )
    except RewardRefused as refused:
        raise HandlerError(_refusal(refused, locale)) from None
    r = done.redemption
    if done.replayed:
        return [private(render("rewards.replayed", locale, id=r.id))]
    replies = [
        private(
            render(
                "rewards.reserved",
                locale,
                item=r.item_name,
                price=formats.hundredths(r.price),
                id=r.id,
                coins=formats.hundredths(done.wallet.balance),
            )
        )
    ]
    for supervisor in people.supervisors_of(ctx.db, me.person_id, ctx.today()):
        replies.append(
            Message(
                Destination(DestinationKind.DM, person_id=supervisor),
                segments(
                    "rewards.to_supervisor",
                    locale,
                    who=mention(me),
                    item=r.item_name,
                    price=formats.hundredths(r.price),
                    id=r.id,
                ),
                actions=(
                    Action(render("rewards.approve", locale), "approve", {"id": r.id}, "primary"),
                    Action(render("rewards.reject", locale), "reject", {"id": r.id}, "danger"),
                ),
            )
        )
    return replies


def list_redemptions(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    me = caller(command)
    who: PersonRef | None = command.args.get("who")
    if who is None and command.actor.has(Role.SUPERVISOR):
        scope = None if Role.ADMIN in command.actor.roles else _supervised_people(ctx, command)
        rows = rewards.pending(ctx.db, scope)
        return [private(_table(ctx, rows, locale), title=render("rewards.history.pending_title", locale))]
    target = who or me
    require_view(ctx, command, target, ctx.today())
    rows = rewards.history(ctx.db, target.person_id)
    return [
        private(
            _table(ctx, rows, locale), title=render("rewards.history.title", locale, name=target.display_name)
        )
    ]


def approve(command: Command, ctx: HandlerContext) -> list[Message]:
    return _decide(command, ctx, approve=True)


def reject(command: Command, ctx: HandlerContext) -> list[Message]:
    return _decide(command, ctx, approve=False)


def _decide(command: Command, ctx: HandlerContext, *, approve: bool) -> list[Message]:
    locale = command.locale
    me = caller(command)
    redemption_id = int(command.args["id"])
    found = rewards.get(ctx.db, redemption_id)
    if found is None:
        raise HandlerError(render("rewards.refused.no_redemption", locale, id=redemption_id))
    names = people.names(ctx.db, {found.person_id})
    who = PersonRef(found.person_id, names.get(found.person_id, "?"))
    if Role.ADMIN not in command.actor.roles and not people.in_teams(
        ctx.db, found.person_id, command.actor.supervised_team_ids, ctx.today(), ctx.today()
    ):
        raise HandlerError(
            render("rewards.refused.not_your_team", locale, name=who.display_name, id=redemption_id)
        )
    reason = (command.args.get("reason") or "").strip() or None
    try:
        decided = rewards.decide(
            ctx.db,
            redemption_id=redemption_id,
            approve=approve,
            by_id=me.person_id,
            by_name=me.display_name,
            note=reason,
            now=ctx.clock(),
        )
    except RewardRefused as refused:
        raise HandlerError(_refusal(refused, locale)) from None
    price = formats.hundredths(decided.price)
    shown_reason = UserText(reason or "")
    if approve:
        to_caller = segments(
            "rewards.fulfilled", locale, id=decided.id, item=decided.item_name, who=mention(who)
        )
        to_agent = segments("rewards.decided_dm.fulfilled", locale, id=decided.id, item=decided.item_name)
    else:
        to_caller = segments(
            "rewards.rejected",
            locale,
            id=decided.id,
            item=decided.item_name,
            who=mention(who),
            price=price,
            reason=shown_reason,
        )
        to_agent = segments(
            "rewards.decided_dm.rejected",
            locale,
            id=decided.id,
            item=decided.item_name,
            price=price,
            reason=shown_reason,
        )
    return [
        Message(Destination(DestinationKind.CALLER), to_caller),
        Message(Destination(DestinationKind.DM, person_id=found.person_id), to_agent),
    ]


def _supervised_people(ctx: HandlerContext, command: Command) -> set[int]:
    today = ctx.today()
    return people.members_of(ctx.db, command.actor.supervised_team_ids, today, today)


def _table(ctx: HandlerContext, rows: list[RedemptionInfo], locale: str) -> Segment:
    if not rows:
        return Text(render("rewards.history.empty", locale))
    names = people.names(ctx.db, {row.person_id for row in rows})
    return Table(
        tuple(
            render(f"rewards.history.column.{c}", locale)
            for c in ("id", "who", "item", "price", "status", "day")
        ),
        tuple(
            (
                str(row.id),
                names.get(row.person_id, "?"),
                row.item_name,
                formats.hundredths(row.price),
                render(f"rewards.status.{row.status}", locale),
                row.created_at.date().isoformat(),
            )
            for row in rows
        ),
        ("right", "left", "left", "right", "left", "left"),
    )


def _refusal(refused: RewardRefused, locale: str) -> str:
    inputs = dict(refused.inputs)
    for key in ("price", "available"):
        if isinstance(inputs.get(key), int):
            inputs[key] = formats.hundredths(inputs[key])
    return render(f"rewards.refused.{refused.code}", locale, **inputs)
