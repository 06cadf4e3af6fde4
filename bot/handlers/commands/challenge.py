"""`/challenge create|list|join|status|end|cancel`: supervisors run challenges, everyone follows them.

Each subcommand is its own registry entry ("challenge create", …), so roles are declared per action:
agents cannot create, end or cancel. Challenge names autocomplete through `autocomplete_challenges`.
An admin, a challenge's creator and the supervisors of the teams taking part see its full standings
(`sees_everything`); everyone else the top and their own place. What a channel may see of standings and
results (`public_lines`, `public_results`) is one rule, shared with the scheduler's posts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Connection

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
    Role,
    Segment,
    Table,
    Text,
    UserText,
)
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import private, segments
from bot.messages import formats, render
from bot.program import Program
from bot.scoring.challenges import Standing
from bot.scoring.ranking import competition_ranks
from bot.services import challenges, people
from bot.services.challenges import ChallengeInfo, ChallengeRefused, ChallengeSpec, Creator, Line

AUTOCOMPLETE = "challenge"
_Entry = TypeVar("_Entry")
_SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def autocomplete_challenges(connection: Connection, typed: str) -> list[str]:
    """Open challenge names for a Param whose `autocomplete` is "challenge" (Discord, Slack options)."""
    return challenges.autocomplete(connection, typed)


def register(registry: Registry, locale: str = "en") -> None:
    def p(name: str, kind: ParamKind, help_id: str, **extra: object) -> Param:
        return Param(name, kind, render(f"help.param.{help_id}", locale), **extra)  # type: ignore[arg-type]

    name_param = p("name", ParamKind.TEXT, "challenge", required=True, autocomplete=AUTOCOMPLETE)
    registry.add(
        CommandSpec(
            name="challenge create",
            help=render("help.challenge_create", locale),
            handler=create,
            params=(
                p("metric", ParamKind.METRIC, "challenge_metric", required=True),
                p("type", ParamKind.CHOICE, "challenge_kind", choices=challenges.KINDS),
                p("goal", ParamKind.CHOICE, "challenge_goal", required=True, choices=challenges.GOALS),
                p("target", ParamKind.NUMBER, "challenge_target", required=True),
                p("start", ParamKind.DATE, "start", required=True),
                p("end", ParamKind.DATE, "end", required=True),
                p("team", ParamKind.TEAM, "challenge_team"),
                p("versus", ParamKind.TEAM, "versus"),
                p("league", ParamKind.LEAGUE, "challenge_league"),
                p("agents", ParamKind.PEOPLE, "agents"),
                p("optin", ParamKind.CHOICE, "optin", choices=("opt-in",)),
                p("gate", ParamKind.METRIC, "gate"),
                p("gate_min", ParamKind.NUMBER, "gate_min"),
                p("gate_max", ParamKind.NUMBER, "gate_max"),
                p("points", ParamKind.NUMBER, "reward_points"),
                p("coins", ParamKind.NUMBER, "reward_coins"),
                p("badge", ParamKind.CHOICE, "badge", choices=("badge",)),
                p("baseline", ParamKind.INTEGER, "baseline"),
                p("name", ParamKind.TEXT, "challenge_name", required=True, quoted=True),
            ),
            roles=_SUPERVISORS,
            writes=True,
        )
    )
    registry.add(CommandSpec("challenge list", render("help.challenge_list", locale), list_challenges))
    registry.add(
        CommandSpec("challenge join", render("help.challenge_join", locale), join, (name_param,), writes=True)
    )
    registry.add(
        CommandSpec("challenge status", render("help.challenge_status", locale), status, (name_param,))
    )
    registry.add(
        CommandSpec(
            "challenge end",
            render("help.challenge_end", locale),
            end,
            (name_param,),
            roles=_SUPERVISORS,
            writes=True,
        )
    )
    registry.add(
        CommandSpec(
            "challenge cancel",
            render("help.challenge_cancel", locale),
            cancel,
            (p("reason", ParamKind.TEXT, "cancel_reason"), name_param),
            roles=_SUPERVISORS,
            writes=True,
        )
    )


def challenge_spec(args: dict[str, Any]) -> ChallengeSpec:
    """The typed arguments of `challenge create` as the service's spec (the Slack modal builds them too)."""
    teams = tuple(key for key in (args.get("team"), args.get("versus")) if key)
    return ChallengeSpec(
        name=_unquote(args["name"]),
        metric=args["metric"],
        start=args["start"],
        end=args["end"],
        target=float(args["target"]),
        kind=args.get("type") or "individual",
        goal=args["goal"],
        teams=teams,
        league=args.get("league"),
        agents=tuple(person.person_id for person in args.get("agents") or ()),
        opt_in=bool(args.get("optin")),
        gate_metric=args.get("gate"),
        gate_min=args.get("gate_min"),
        gate_max=args.get("gate_max"),
        reward_points=float(args.get("points") or 0),
        reward_coins=float(args.get("coins") or 0),
        reward_badge=bool(args.get("badge")),
        baseline_days=args.get("baseline"),
    )


def create(command: Command, ctx: HandlerContext) -> list[Message]:
    me = caller(command)
    spec = challenge_spec(command.args)
    creator = Creator(
        me.person_id,
        me.display_name,
        command.actor.supervised_team_ids,
        Role.ADMIN in command.actor.roles,
    )
    try:
        info = challenges.create(ctx.db, ctx.program, spec, by=creator, now=ctx.clock())
    except ChallengeRefused as refused:
        raise HandlerError(refusal_text(refused, command.locale)) from None
    locale = command.locale
    announce = Message(
        ORIGIN,
        (
            Text(describe(info, ctx, locale)),
            Text("\n" + render("challenge.created.footer", locale, name=info.name)),
        ),
        title=render("challenge.created.title", locale, name=info.name),
    )
    return [announce]


def list_challenges(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    found = challenges.listed(ctx.db)
    title = render("challenge.list.title", locale)
    if not found:
        return [private(render("challenge.list.empty", locale), title=title)]
    return [private("\n".join(f"• {describe(info, ctx, locale)}" for info in found), title=title)]


def join(command: Command, ctx: HandlerContext) -> list[Message]:
    me = caller(command)
    try:
        info = challenges.join(
            ctx.db,
            ctx.program,
            _unquote(command.args["name"]),
            person_id=me.person_id,
            person_name=me.display_name,
            now=ctx.clock(),
        )
    except ChallengeRefused as refused:
        raise HandlerError(refusal_text(refused, command.locale)) from None
    return [private(render("challenge.joined", command.locale, name=info.name))]


def status(command: Command, ctx: HandlerContext) -> list[Message]:
    """Standings so far, through the challenge's own day: its creator, admins and the supervisors of the
    teams taking part see every line, with the void and unranked; everyone else the top a channel would
    see (opted-out agents left out, never the bottom half) and their own place."""
    locale = command.locale
    info = _find(ctx, command)
    today = challenges.current_day(ctx.db, ctx.program, info, ctx.clock())
    progress = challenges.progress(ctx.db, ctx.program, info, today=today)
    if progress.through is None:
        return [
            private(
                render(
                    "challenge.status.not_started", locale, name=info.name, start=info.start_day.isoformat()
                )
            )
        ]
    me = caller(command)
    full = sees_everything(ctx, command, info)
    mine = next(
        (line for line in progress.lines if me.person_id in (line.members or (line.standing.key,))), None
    )
    if full:
        shown = list(progress.lines)
    else:  # the top as a channel would see it (no one who opted out), then the caller's own line
        shown = public_lines(ctx.db, ctx.program, info, progress.lines)
        if mine is not None and all(line.standing.key != mine.standing.key for line in shown):
            shown.append(mine)
    parts: list[Segment] = [standings_table(info, shown, locale)]
    if mine is not None and not full:
        rank = mine.standing.rank
        parts.append(
            Text(
                render("challenge.status.you", locale, rank=formats.ordinal(rank, locale))
                if rank is not None
                else render("challenge.status.you_unranked", locale)
            )
        )
    hidden = len(progress.lines) - len(shown)
    if hidden:
        parts.append(Text("\n" + render("challenge.status.hidden", locale, count=hidden)))
    title = render("challenge.status.title", locale, name=info.name, through=progress.through.isoformat())
    return [private(*parts, title=title)]


def end(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    me = caller(command)
    info = _find(ctx, command)
    _require_owner(ctx, command, info)
    now = ctx.clock()
    through = min(challenges.current_day(ctx.db, ctx.program, info, now), info.end_day)
    try:
        rows = challenges.end(
            ctx.db,
            ctx.program,
            info.key,
            by_id=me.person_id,
            by_name=me.display_name,
            now=now,
            program_version=ctx.program_version,
        )
    except ChallengeRefused as refused:
        raise HandlerError(refusal_text(refused, locale)) from None
    return results_messages(ctx, info, rows, through, locale)


def cancel(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    me = caller(command)
    info = _find(ctx, command)
    _require_owner(ctx, command, info)
    reason = (command.args.get("reason") or "").strip()
    try:
        challenges.cancel(
            ctx.db, info.key, by_id=me.person_id, by_name=me.display_name, reason=reason, now=ctx.clock()
        )
    except ChallengeRefused as refused:
        raise HandlerError(refusal_text(refused, locale)) from None
    shown: Segment = UserText(reason) if reason else Text(render("challenge.no_reason", locale))
    return [Message(ORIGIN, segments("challenge.cancelled", locale, name=info.name, reason=shown))]


def results_messages(
    ctx: HandlerContext,
    info: ChallengeInfo,
    rows: list[challenges.ResultRow],
    through: date,
    locale: str,
    *,
    full_to_caller: bool = True,
) -> list[Message]:
    """The results post, a DM to each winner and (for the supervisor who ended it) the full table.

    The post is what `public_results` lets a channel see, whoever ends the challenge (a supervisor, or
    the scheduler with `full_to_caller=False`): it names the winners who allow public boards (a team
    challenge: the teams) and shows the top of the table only.
    """
    winners = [row for row in rows if row.outcome == "won"]
    shown = public_results(ctx.db, ctx.program, info, rows)
    title = render(
        "challenge.results.title",
        locale,
        name=info.name,
        start=info.start_day.isoformat(),
        through=through.isoformat(),
    )
    summary = _summary(info, winners, [row for row in shown if row.outcome == "won"], locale)
    out = [Message(ORIGIN, (Text(summary), _results_table(info, shown, locale)), title=title)]
    if full_to_caller:
        out.append(private(_results_table(info, rows, locale), title=title))
    for row in winners:
        out.append(
            Message(
                Destination(DestinationKind.DM, person_id=row.person_id),
                (
                    Text(
                        render(
                            "challenge.won_dm",
                            locale,
                            name=info.name,
                            reward=_reward_text(row.points, row.coins, row.badge, locale),
                        )
                    ),
                ),
            )
        )
    return out


def _summary(
    info: ChallengeInfo,
    winners: list[challenges.ResultRow],
    shown: list[challenges.ResultRow],
    locale: str,
) -> str:
    """Who won, as a channel may hear it: a head-to-head tie is declared as one."""
    names = ", ".join(row.name for row in shown)
    entrants = {row.team_id if info.by_team else row.person_id for row in winners}
    if info.kind == "head-to-head" and len(entrants) == 2 and len(shown) == 2:
        return render(
            "challenge.results.tie",
            locale,
            winners=render("common.and", locale).join(row.name for row in shown),
        )
    if shown:
        return render("challenge.results.winners", locale, winners=names)
    if winners:
        return render("challenge.results.winners_private", locale)
    return render("challenge.results.no_winners", locale)


def public_results(
    connection: Connection, program: Program, info: ChallengeInfo, rows: Sequence[challenges.ResultRow]
) -> list[challenges.ResultRow]:
    """The results a channel may see, as on public boards (DESIGN.md §6): a team challenge's teams, one
    row each; otherwise the agents who allow public boards, ranked among themselves, so one who opted out
    leaves no gap. Of the ranked, the winners and the top min(public size, ⌊ranked / 2⌋); never the
    bottom, the void or the unranked."""
    entries = _team_rows(connection, rows) if info.by_team else rows
    shown = [
        replace(row, rank=rank)
        for row, rank in _publicly_ranked(
            connection, info, entries, lambda row: row.person_id, lambda row: row.rank
        )
    ]
    ranked = [row for row in shown if row.rank is not None and row.outcome in ("won", "finished")]
    size = min(program.leaderboard.public_size, len(ranked) // 2)
    return [row for row in ranked if row.outcome == "won" or (row.rank or 0) <= size]


def public_lines(
    connection: Connection, program: Program, info: ChallengeInfo, lines: Sequence[Line]
) -> list[Line]:
    """The top of the standings a channel may see, by the rule of `public_results`: of the ranked,
    min(public size, half) are shown."""
    ranked = [
        replace(line, standing=replace(line.standing, rank=rank))
        for line, rank in _publicly_ranked(
            connection, info, lines, lambda line: line.standing.key, lambda line: line.standing.rank
        )
        if rank is not None
    ]
    return ranked[: min(program.leaderboard.public_size, len(ranked) // 2)]


def _publicly_ranked(
    connection: Connection,
    info: ChallengeInfo,
    entries: Sequence[_Entry],
    person: Callable[[_Entry], int],
    rank: Callable[[_Entry], int | None],
) -> list[tuple[_Entry, int | None]]:
    """Each entry a channel may see with its public rank: agents who opted out are left out and the others
    ranked among themselves on their true ranks (ties share a rank, no gaps); teams are all shown."""
    if not info.by_team:
        visible = people.public(connection, [person(entry) for entry in entries])
        entries = [entry for entry in entries if person(entry) in visible]
    ranks = {
        id(entry): public_rank
        for public_rank, entry in competition_ranks(
            [entry for entry in entries if rank(entry) is not None],
            key=lambda entry: rank(entry) or 0,
            descending=False,
        )
    }
    return [(entry, ranks.get(id(entry))) for entry in entries]


def _team_rows(connection: Connection, rows: Sequence[challenges.ResultRow]) -> list[challenges.ResultRow]:
    """One row per team, named by the team (its members share rank, value and outcome)."""
    by_team: dict[int | None, challenges.ResultRow] = {}
    for row in rows:
        if row.team_id not in by_team:
            team = people.team(connection, row.team_id) if row.team_id is not None else None
            by_team[row.team_id] = replace(row, name=team.name if team else row.name)
    return list(by_team.values())


def _results_table(info: ChallengeInfo, rows: list[challenges.ResultRow], locale: str) -> Table:
    return Table(
        tuple(
            render(f"challenge.results.column.{c}", locale)
            for c in ("rank", "who", "value", "outcome", "reward")
        ),
        tuple(
            (
                str(row.rank) if row.rank is not None else "–",
                row.name,
                _value(info.metric, row.value),
                render(f"challenge.results.outcome.{row.outcome}", locale),
                _reward_text(row.points, row.coins, row.badge, locale) if row.outcome == "won" else "",
            )
            for row in rows
        ),
        ("right", "left", "right", "left", "left"),
    )


def describe(info: ChallengeInfo, ctx: HandlerContext, locale: str) -> str:
    """One sentence: type, metric, goal, window, who, gate and reward."""
    metric = _metric_label(info.metric, locale)
    target = str(int(info.target)) if info.goal == "top" else _value(info.metric, info.target)
    goal = render(f"challenge.goal.{info.goal}", locale, target=target, baseline=info.baseline_days)
    scope = _scope_text(info, locale)
    gate = ""
    if info.gate_metric:
        unit = formats.unit_of(info.gate_metric)
        bounds = []
        if info.gate_min is not None:
            bounds.append(render("challenge.gate_below", locale, bound=formats.bound(unit, info.gate_min)))
        if info.gate_max is not None:
            bounds.append(render("challenge.gate_above", locale, bound=formats.bound(unit, info.gate_max)))
        gate = render(
            "challenge.gate",
            locale,
            metric=_metric_label(info.gate_metric, locale),
            bounds=render("common.or", locale).join(bounds),
        )
    badge = ctx.program.challenges.win_badge if info.reward_badge else None
    return render(
        "challenge.summary",
        locale,
        name=info.name,
        kind=render(f"challenge.kind.{info.kind}", locale),
        metric=metric,
        goal=goal,
        start=info.start_day.isoformat(),
        end=info.end_day.isoformat(),
        scope=scope,
        gate=gate,
        reward=_reward_text(info.reward_points, info.reward_coins, badge, locale),
    )


def _scope_text(info: ChallengeInfo, locale: str) -> str:
    if info.scope == "team":
        return render("challenge.scope.team", locale, teams=", ".join(info.scope_ref))
    limited = "_limited" if info.limited_to else ""
    teams = ", ".join(info.limited_to)
    if info.scope == "league":
        return render(f"challenge.scope.league{limited}", locale, league=info.league, teams=teams)
    return render(f"challenge.scope.{info.scope}{limited}", locale, teams=teams)


def standings_table(info: ChallengeInfo, lines: list[Line], locale: str) -> Table:
    improvement = info.goal == "improvement"
    columns = ["rank", "who", "value"] + (["baseline", "change"] if improvement else []) + ["samples", "note"]
    rows = []
    for line in lines:
        s = line.standing
        cells = [str(s.rank) if s.rank is not None else "–", line.name, _value(info.metric, s.value)]
        if improvement:
            cells += [_value(info.metric, s.baseline), _signed(info.metric, s.improvement)]
        cells += [str(s.samples), _note(s, locale)]
        rows.append(tuple(cells))
    align = tuple(
        "right" if c in ("rank", "value", "baseline", "change", "samples") else "left" for c in columns
    )
    return Table(tuple(render(f"challenge.status.column.{c}", locale) for c in columns), tuple(rows), align)


def _note(standing: Standing, locale: str) -> str:
    if standing.status != "ranked":
        return render(f"challenge.status.note.{standing.status}", locale)
    return render("challenge.status.note.met", locale) if standing.goal_met else ""


def _value(metric: str, number: float | None) -> str:
    if number is None:
        return "–"
    return formats.value(formats.unit_of(metric), number)


def _signed(metric: str, number: float | None) -> str:
    if number is None:
        return "–"
    text = _value(metric, abs(number))
    return f"+{text}" if number >= 0 else f"-{text}"


def _metric_label(metric: str, locale: str) -> str:
    return metric if metric == challenges.POINTS else formats.metric_label(metric, locale)


def _reward_text(points: int, coins: int, badge: str | None, locale: str) -> str:
    parts = []
    if points:
        parts.append(render("challenge.reward.points", locale, points=formats.trim(points / 100)))
    if coins:
        parts.append(render("challenge.reward.coins", locale, coins=formats.trim(coins / 100)))
    if badge:
        parts.append(render("challenge.reward.badge", locale, badge=badge))
    return ", ".join(parts) if parts else render("challenge.reward.none", locale)


def _find(ctx: HandlerContext, command: Command) -> ChallengeInfo:
    name = _unquote(command.args["name"])
    info = challenges.get(ctx.db, name)
    if info is None:
        names = ", ".join(c.name for c in challenges.listed(ctx.db)) or "none"
        raise HandlerError(render("challenge.refused.unknown", command.locale, name=name, names=names))
    return info


def sees_everything(ctx: HandlerContext, command: Command, info: ChallengeInfo) -> bool:
    """Whether the caller may see every line of a challenge, the void and unranked too: an admin, the
    supervisor who created it, or a supervisor of a team taking part."""
    actor = command.actor
    if Role.ADMIN in actor.roles or (info.created_by is not None and info.created_by == actor.person_id):
        return True
    if Role.SUPERVISOR not in actor.roles or not actor.supervised_team_ids:
        return False
    teams, _ = challenges.participant_teams(ctx.db, ctx.program, info)
    return bool(teams & actor.supervised_team_ids)


def _require_owner(ctx: HandlerContext, command: Command, info: ChallengeInfo) -> None:
    """Ending and cancelling: an admin, the creator, or a supervisor of a team the challenge is set to."""
    actor = command.actor
    if Role.ADMIN in actor.roles or info.created_by == actor.person_id:
        return
    if info.scope == "team" and challenges.participant_teams(ctx.db, ctx.program, info)[0] & (
        actor.supervised_team_ids
    ):
        return
    raise HandlerError(render("challenge.refused.not_yours", command.locale, name=info.name))


def _unquote(text: str) -> str:
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"':
        return stripped[1:-1].strip()
    return stripped


def refusal_text(refused: ChallengeRefused, locale: str) -> str:
    return render(f"challenge.refused.{refused.code}", locale, **refused.inputs)
