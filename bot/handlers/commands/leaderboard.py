"""`/leaderboard [metric] [period] [team] [date] [full]`: the top publicly, your own rank privately."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.handlers.access import caller
from bot.handlers.context import HandlerContext
from bot.handlers.contract import ORIGIN, Command, HandlerError, Message, Param, ParamKind, Role, Table, Text
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import message, private
from bot.messages import formats, render
from bot.scoring.periods import Period
from bot.scoring.ranking import competition_ranks
from bot.services import people
from bot.services.leaderboard import Board, Entry, QueueMetric, UnknownBoard, board

_ALIGN = ("right", "left", "right", "right")


def register(registry: Registry, locale: str = "en") -> None:
    registry.add(
        CommandSpec(
            name="leaderboard",
            help=render("help.leaderboard", locale),
            handler=leaderboard,
            params=(
                Param("metric", ParamKind.METRIC, render("help.param.metric", locale)),
                Param("period", ParamKind.PERIOD, render("help.param.period", locale)),
                Param("team", ParamKind.TEAM, render("help.param.team", locale)),
                Param("at", ParamKind.DATE, render("help.param.at", locale)),
                Param("full", ParamKind.CHOICE, render("help.param.full", locale), choices=("full",)),
            ),
        )
    )


def leaderboard(command: Command, ctx: HandlerContext) -> list[Message]:
    locale, args, policy = command.locale, command.args, ctx.program.leaderboard
    me = caller(command)
    full = args.get("full") == "full"
    if full and not command.actor.has(Role.SUPERVISOR):
        raise HandlerError(render("leaderboard.full_refused", locale))
    at: date = args.get("at") or ctx.today()
    try:
        shown_board = board(
            ctx.db,
            ctx.program,
            metric=args.get("metric") or policy.default_metric,
            period=Period(args.get("period") or policy.default_period),
            at=at,
            team=args.get("team"),
        )
    except QueueMetric as error:
        label = formats.metric_label(error.metric, locale)
        raise HandlerError(
            render("leaderboard.queue_metric", locale, metric=label, key=error.metric)
        ) from None
    except UnknownBoard as error:
        raise HandlerError(str(error)) from None
    top = public_top(shown_board, policy.public_size)
    replies = []
    if top:
        replies.append(
            message(ORIGIN, *_public(shown_board, top, ctx, locale), title=_title(shown_board, locale))
        )
    replies.append(_own_rank(shown_board, me.person_id, bool(top), ctx, locale))
    if full:
        replies.append(_full(shown_board, command, ctx, locale))
    return replies


def public_top(shown: Board, size: int) -> list[Entry]:
    """What a public post may show, ranked among the agents it may show.

    Agents who opted out are left out and the others are ranked among themselves (competition ranking:
    ties share a rank, 1, 1, 3), so a hidden agent leaves neither a gap nor a trace. Of those, the first
    min(size, ⌊shown agents / 2⌋) places are posted, so the bottom half of the public table never is.
    """
    visible = public_entries(shown)
    return visible[: min(size, len(visible) // 2)]


def public_entries(shown: Board) -> list[Entry]:
    """The ranked agents who allow public boards, ranked among themselves; true ranks order them."""
    visible = [entry for entry in shown.entries if entry.public]
    return [
        replace(entry, rank=rank)
        for rank, entry in competition_ranks(visible, key=lambda entry: entry.rank, descending=False)
    ]


def _title(shown: Board, locale: str) -> str:
    window = formats.window(shown.period, shown.start, shown.end, locale)
    label = formats.metric_label(shown.metric, locale)
    if shown.team:
        return render("leaderboard.title_team", locale, metric=label, window=window, team=shown.team)
    return render("leaderboard.title", locale, metric=label, window=window)


def _headers(shown: Board, locale: str) -> tuple[str, ...]:
    return (
        render("leaderboard.column.rank", locale),
        render("leaderboard.column.agent", locale),
        formats.metric_label(shown.metric, locale),
        formats.samples_header(shown.metric, locale),
    )


def _row(shown: Board, entry: Entry) -> tuple[str, ...]:
    return (
        str(entry.rank),
        entry.name,
        formats.value(formats.unit_of(shown.metric), entry.value),
        str(entry.samples),
    )


def _public(shown: Board, top: list[Entry], ctx: HandlerContext, locale: str) -> tuple[Table | Text, ...]:
    table = Table(_headers(shown, locale), tuple(_row(shown, entry) for entry in top), _ALIGN)
    footer = render(
        "leaderboard.footer",
        locale,
        shown=len(top),
        ranked=len(public_entries(shown)),
        as_of=formats.stamp(shown.as_of, ctx.program.zone, locale),
    )
    return table, Text(footer)


def _own_rank(shown: Board, person_id: int, posted: bool, ctx: HandlerContext, locale: str) -> Message:
    label = formats.metric_label(shown.metric, locale)
    unit = formats.unit_of(shown.metric)
    entry = shown.rank_of(person_id)
    unranked = next((u for u in shown.unranked if u.person_id == person_id), None)
    if entry is not None:
        lines = [
            render(
                "leaderboard.you.ranked",
                locale,
                rank=formats.ordinal(entry.rank, locale),
                ranked=len(shown.entries),
                metric=label,
                value=formats.value(unit, entry.value),
                samples=formats.samples(shown.metric, entry.samples, locale),
            )
        ]
    elif unranked is not None and unranked.value is not None:
        lines = [
            render(
                "leaderboard.you.below_minimum",
                locale,
                metric=label,
                value=formats.value(unit, unranked.value),
                samples=formats.samples(shown.metric, unranked.samples, locale),
                needed=formats.samples(shown.metric, shown.min_samples, locale),
            )
        ]
    else:
        lines = [
            render(
                "leaderboard.you.no_data",
                locale,
                metric=label,
                window=formats.window(shown.period, shown.start, shown.end, locale),
            )
        ]
    person = people.get(ctx.db, person_id)
    if person is not None and not person.public_boards:
        lines.append(render("leaderboard.you.hidden", locale))
    if not posted:
        reason = "small" if len(shown.entries) // 2 == 0 else "hidden"
        lines.append(render(f"leaderboard.not_posted.{reason}", locale, ranked=len(shown.entries)))
    title = render(
        "leaderboard.you.title",
        locale,
        metric=label,
        window=formats.window(shown.period, shown.start, shown.end, locale),
    )
    return private("\n".join(lines), title=title)


def _full(shown: Board, command: Command, ctx: HandlerContext, locale: str) -> Message:
    """The whole board, privately: admins see everyone, supervisors the people of teams they supervise."""
    actor = command.actor
    visible: set[int] | None = None
    if Role.ADMIN not in actor.roles:
        visible = people.members_of(ctx.db, actor.supervised_team_ids, shown.start, shown.end)
    label = formats.metric_label(shown.metric, locale)
    unit = formats.unit_of(shown.metric)
    rows = []
    for entry in shown.entries:
        if visible is None or entry.person_id in visible:
            note = "" if entry.public else render("leaderboard.full.hidden", locale)
            rows.append((*_row(shown, entry), note))
    for item in shown.unranked:
        if visible is None or item.person_id in visible:
            value = "–" if item.value is None else formats.value(unit, item.value)
            note = render(
                "leaderboard.full.below_minimum",
                locale,
                needed=formats.samples(shown.metric, shown.min_samples, locale),
            )
            rows.append(("–", item.name, value, str(item.samples), note))
    headers = (*_headers(shown, locale), render("leaderboard.column.note", locale))
    scope = "everyone" if visible is None else "supervised"
    footer = render(
        f"leaderboard.full.scope.{scope}",
        locale,
        ranked=len(shown.entries),
        as_of=formats.stamp(shown.as_of, ctx.program.zone, locale),
    )
    title = render(
        "leaderboard.full.title",
        locale,
        metric=label,
        window=formats.window(shown.period, shown.start, shown.end, locale),
    )
    return private(Table(headers, tuple(rows), (*_ALIGN, "left")), Text(footer), title=title)
