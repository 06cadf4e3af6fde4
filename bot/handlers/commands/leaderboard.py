"""`/leaderboard [metric] [period] [team] [date] [full]`: the top publicly, your own rank privately."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.handlers.access import caller
from bot.handlers.context import HandlerContext
from bot.handlers.contract import (
    ORIGIN,
    Actor,
    Command,
    HandlerError,
    Message,
    Param,
    ParamKind,
    Role,
    Table,
    Text,
)
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import message, private
from bot.messages import formats, render
from bot.scoring.periods import Period, window
from bot.scoring.ranking import competition_ranks
from bot.services import leagues, people
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
                Param("league", ParamKind.LEAGUE, render("help.param.league", locale)),
                Param("at", ParamKind.DATE, render("help.param.at", locale)),
                Param("full", ParamKind.CHOICE, render("help.param.full", locale), choices=("full",)),
            ),
        )
    )


def leaderboard(command: Command, ctx: HandlerContext) -> list[Message]:
    locale, args, policy = command.locale, command.args, ctx.program.leaderboard
    caller(command)
    full = args.get("full") == "full"
    if full and not command.actor.has(Role.SUPERVISOR):
        raise HandlerError(render("leaderboard.full_refused", locale))
    team: str | None = args.get("team")
    league: str | None = args.get("league")
    scope = _full_scope(ctx, command.actor, team, locale) if full else None
    at: date = args.get("at") or ctx.today()
    metric = args.get("metric") or policy.default_metric
    period = Period(args.get("period") or policy.default_period)
    if league is None and not full:
        league = own_league(ctx, command.actor, period, at)
    try:
        shown_board = board(
            ctx.db, ctx.program, metric=metric, period=period, at=at, team=team, league=league
        )
        full_board = shown_board
        if scope is not None and team is None:
            full_board = board(
                ctx.db, ctx.program, metric=metric, period=period, at=at, team_ids=scope, league=league
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
    own = _own_rank(shown_board, command, bool(top), ctx, locale)
    if own is not None:
        replies.append(own)
    if full:
        replies.append(_full(full_board, scope, ctx, locale))
    return replies


def own_league(ctx: HandlerContext, actor: Actor, period: Period, at: date) -> str | None:
    """With `within_leagues`, an agent's board is their own league's (on the period's last day);
    supervisors, admins and agents in no league see everyone."""
    if not ctx.program.within_leagues or actor.person_id is None or actor.has(Role.SUPERVISOR):
        return None
    _, end = window(period, at, ctx.program.week_starts_on)
    return leagues.of(ctx.db, ctx.program, actor.person_id, end)


def _in_league(ctx: HandlerContext, shown: Board, person_id: int) -> bool:
    return leagues.of(ctx.db, ctx.program, person_id, shown.end) == shown.league


def _full_scope(ctx: HandlerContext, actor: Actor, team: str | None, locale: str) -> frozenset[int] | None:
    """The teams whose members a full board may show: None for admins (everyone), else supervised teams.

    A supervisor asking for the full board of a team she does not supervise is refused before anything
    is computed or posted.
    """
    if Role.ADMIN in actor.roles:
        return None
    supervised = actor.supervised_team_ids
    if not supervised:
        raise HandlerError(render("leaderboard.full.no_teams", locale))
    if team is not None:
        named = people.team_by_key(ctx.db, team)
        if named is not None and named.id not in supervised:
            raise HandlerError(render("leaderboard.full.not_supervised", locale, team=team))
    return supervised


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
    if shown.league:
        return render("leaderboard.title_league", locale, metric=label, window=window, league=shown.league)
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


def _own_rank(
    shown: Board, command: Command, posted: bool, ctx: HandlerContext, locale: str
) -> Message | None:
    """The caller's place privately; callers who are not agents (and so have no data) get none.

    When nothing was posted, they still hear why, so the command never goes silent.
    """
    person_id = command.actor.person_id
    label = formats.metric_label(shown.metric, locale)
    unit = formats.unit_of(shown.metric)
    entry = shown.rank_of(person_id) if person_id is not None else None
    unranked = next((u for u in shown.unranked if u.person_id == person_id), None)
    lines: list[str] = []
    if entry is not None:
        lines.append(
            render(
                "leaderboard.you.ranked",
                locale,
                rank=formats.ordinal(entry.rank, locale),
                ranked=len(shown.entries),
                metric=label,
                value=formats.value(unit, entry.value),
                samples=formats.samples(shown.metric, entry.samples, locale),
            )
        )
    elif unranked is not None and unranked.value is not None:
        lines.append(
            render(
                "leaderboard.you.below_minimum",
                locale,
                metric=label,
                value=formats.value(unit, unranked.value),
                samples=formats.samples(shown.metric, unranked.samples, locale),
                needed=formats.samples(shown.metric, shown.min_samples, locale),
            )
        )
    elif shown.league is not None and person_id is not None and not _in_league(ctx, shown, person_id):
        lines.append(render("leaderboard.you.other_league", locale, league=shown.league))
    elif not command.actor.has(Role.SUPERVISOR):
        lines.append(
            render(
                "leaderboard.you.no_data",
                locale,
                metric=label,
                window=formats.window(shown.period, shown.start, shown.end, locale),
            )
        )
    if lines and person_id is not None:
        person = people.get(ctx.db, person_id)
        if person is not None and not person.public_boards:
            lines.append(render("leaderboard.you.hidden", locale))
    if not posted:
        reason = "small" if len(shown.entries) // 2 == 0 else "hidden"
        lines.append(render(f"leaderboard.not_posted.{reason}", locale, ranked=len(shown.entries)))
    if not lines:
        return None
    if entry is None and unranked is None and command.actor.has(Role.SUPERVISOR):
        return private("\n".join(lines), title=_title(shown, locale))
    title = render(
        "leaderboard.you.title",
        locale,
        metric=label,
        window=formats.window(shown.period, shown.start, shown.end, locale),
    )
    return private("\n".join(lines), title=title)


def _full(shown: Board, scope: frozenset[int] | None, ctx: HandlerContext, locale: str) -> Message:
    """The whole board, privately: admins see everyone; a supervisor gets the board built over the teams
    she supervises (`scope`), so each agent's figures and rank count only their days in those teams."""
    label = formats.metric_label(shown.metric, locale)
    unit = formats.unit_of(shown.metric)
    rows = []
    for entry in shown.entries:
        note = "" if entry.public else render("leaderboard.full.hidden", locale)
        rows.append((*_row(shown, entry), note))
    for item in shown.unranked:
        value = "–" if item.value is None else formats.value(unit, item.value)
        note = render(
            "leaderboard.full.below_minimum",
            locale,
            needed=formats.samples(shown.metric, shown.min_samples, locale),
        )
        rows.append(("–", item.name, value, str(item.samples), note))
    headers = (*_headers(shown, locale), render("leaderboard.column.note", locale))
    as_of = formats.stamp(shown.as_of, ctx.program.zone, locale)
    if scope is None:
        footer = render("leaderboard.full.scope.everyone", locale, ranked=len(shown.entries), as_of=as_of)
    else:
        keys = sorted(team.key for team in (people.team(ctx.db, team_id) for team_id in scope) if team)
        footer = render(
            "leaderboard.full.scope.supervised",
            locale,
            ranked=len(shown.entries),
            teams=shown.team or render("common.comma", locale).join(keys),
            as_of=as_of,
        )
    window = formats.window(shown.period, shown.start, shown.end, locale)
    if shown.team:
        title = render("leaderboard.full.title_team", locale, metric=label, team=shown.team, window=window)
    else:
        title = render("leaderboard.full.title", locale, metric=label, window=window)
    return private(Table(headers, tuple(rows), (*_ALIGN, "left")), Text(footer), title=title)
