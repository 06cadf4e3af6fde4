"""`/kudos-board [period]` (most kudos received) and `/kudos-revoke ID reason` (supervisors)."""

from __future__ import annotations

from datetime import date

from bot.handlers.access import caller
from bot.handlers.context import HandlerContext
from bot.handlers.contract import (
    ORIGIN,
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
from bot.scoring.periods import Period, window
from bot.services import kudos, people

_SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def register(registry: Registry, locale: str = "en") -> None:
    registry.add(
        CommandSpec(
            "kudos-board",
            render("help.kudos_board", locale),
            board,
            (Param("period", ParamKind.PERIOD, render("help.param.period", locale)),),
        )
    )
    registry.add(
        CommandSpec(
            "kudos-revoke",
            render("help.kudos_revoke", locale),
            revoke,
            (
                Param("id", ParamKind.INTEGER, render("help.param.kudos_id", locale), required=True),
                Param("reason", ParamKind.TEXT, render("help.param.revoke_reason", locale), required=True),
            ),
            roles=_SUPERVISORS,
            writes=True,
        )
    )


def board(command: Command, ctx: HandlerContext) -> list[Message]:
    """The public board counts kudos (private ones too, never their words) as public boards do: people
    who opted out are left out, and it shows at most min(public size, half of those it ranks), so the
    bottom is never posted. Supervisors also get the period's kudos of their teams, with numbers to
    revoke; a private kudos is listed there without its words."""
    locale = command.locale
    period = command.args.get("period") or Period.WEEK
    start, end = window(period, ctx.today(), ctx.program.week_starts_on)
    shown_window = formats.window(period, start, end, locale)
    headcount = kudos.receivers(ctx.db, start, end, public_only=True)
    size = min(ctx.program.leaderboard.public_size, headcount // 2)
    title = render("kudos.board.title", locale, window=shown_window)
    replies: list[Message] = []
    if not headcount:
        replies.append(private(render("kudos.board.empty", locale, window=shown_window), title=title))
    elif not size:
        replies.append(
            private(render("kudos.board.no_top", locale, window=shown_window, count=headcount), title=title)
        )
    else:
        rows = kudos.board(ctx.db, start, end, limit=size, public_only=True)
        replies.append(Message(ORIGIN, (_board_table(ctx, rows, locale),), title=title))
    if command.actor.has(Role.SUPERVISOR):
        replies.append(_recent(ctx, command, start, end, shown_window))
    return replies


def _board_table(ctx: HandlerContext, rows: list[kudos.BoardRow], locale: str) -> Table:
    names = people.names(ctx.db, {row.person_id for row in rows})
    ranked = _ranks([row.received for row in rows])
    return Table(
        tuple(render(f"kudos.board.column.{c}", locale) for c in ("rank", "person", "received", "value")),
        tuple(
            (
                str(rank),
                names.get(row.person_id, "?"),
                str(row.received),
                f"#{row.top_value}" if row.top_value else "",
            )
            for rank, row in zip(ranked, rows, strict=True)
        ),
        ("right", "left", "right", "left"),
    )


def revoke(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    me = caller(command)
    kudos_id = int(command.args["id"])
    found = kudos.get(ctx.db, kudos_id)
    if found is None:
        raise HandlerError(render("kudos.refused.no_kudos", locale, id=kudos_id))
    if Role.ADMIN not in command.actor.roles and not people.in_teams(
        ctx.db, found.receiver_id, command.actor.supervised_team_ids, found.business_day, found.business_day
    ):
        raise HandlerError(
            render("access.not_your_team", locale, name=_name(ctx, found.receiver_id), day=found.business_day)
        )
    reason = (command.args.get("reason") or "").strip()
    try:
        kudos.revoke(
            ctx.db,
            kudos_id,
            by_id=me.person_id,
            by_name=me.display_name,
            reason=reason,
            now=ctx.clock(),
            program_version=ctx.program_version,
        )
    except kudos.KudosRefused as refused:
        raise HandlerError(render(f"kudos.refused.{refused.code}", locale, **refused.inputs)) from None
    points = formats.trim(ctx.program.kudos.points)
    giver = PersonRef(found.giver_id, _name(ctx, found.giver_id))
    receiver = PersonRef(found.receiver_id, _name(ctx, found.receiver_id))
    return [
        Message(
            Destination(DestinationKind.CALLER),
            segments(
                "kudos.revoked_done",
                locale,
                id=kudos_id,
                giver=mention(giver),
                receiver=mention(receiver),
                points=points,
                reason=UserText(reason),
            ),
        ),
        Message(
            Destination(DestinationKind.DM, person_id=found.receiver_id),
            segments(
                "kudos.revoked_dm",
                locale,
                id=kudos_id,
                by=mention(me),
                points=points,
                reason=UserText(reason),
            ),
        ),
    ]


def _recent(ctx: HandlerContext, command: Command, start: date, end: date, shown_window: str) -> Message:
    locale = command.locale
    scope = None
    if Role.ADMIN not in command.actor.roles:
        scope = people.members_of(ctx.db, command.actor.supervised_team_ids, start, end)
    found = kudos.recent(ctx.db, scope, start, end)
    shared = [k for k in found if not k.private]
    kept = [k for k in found if k.private]
    names = people.names(ctx.db, {k.giver_id for k in found} | {k.receiver_id for k in found})

    def line(k: kudos.KudosInfo, kind: str) -> str:
        key = f"kudos.board.{kind}_revoked" if k.revoked else f"kudos.board.{kind}"
        giver, receiver = names.get(k.giver_id, "?"), names.get(k.receiver_id, "?")
        return render(key, locale, id=k.id, day=k.business_day.isoformat(), giver=giver, receiver=receiver)

    parts: list[Segment] = []
    for k in shared:  # a reason stays user text, even here
        parts += [Text(line(k, "recent_line")), UserText(k.reason), Text("\n")]
    if kept:  # who and when, so a supervisor can stop farming and revoke; never the words
        parts.append(Text(render("kudos.board.private_lines", locale) + "\n"))
    parts += [Text(line(k, "recent_line_private") + "\n") for k in kept]
    if not parts:
        parts.append(Text(render("kudos.board.empty", locale, window=shown_window)))
    return private(*parts, title=render("kudos.board.recent_title", locale, window=shown_window))


def _ranks(counts: list[int]) -> list[int]:
    ranks, previous, rank = [], None, 0
    for position, count in enumerate(counts, start=1):
        if count != previous:
            rank, previous = position, count
        ranks.append(rank)
    return ranks


def _name(ctx: HandlerContext, person_id: int) -> str:
    return people.names(ctx.db, {person_id}).get(person_id, "?")
