"""`/me [period] [date]`: points, rank, level, coins, badges and streaks, each KPI against its target."""

from __future__ import annotations

from datetime import date

from bot.handlers.access import caller
from bot.handlers.commands.points import amount_text, rank_text
from bot.handlers.context import HandlerContext
from bot.handlers.contract import Command, Fields, Message, Param, ParamKind, Segment, Table, Text
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import private
from bot.messages import formats, render
from bot.messages.explain import badge_label
from bot.program import CountBadge
from bot.scoring.badges import Progress
from bot.scoring.periods import Period
from bot.scoring.progression import coins_earned, level_of
from bot.services import badges, challenges, people, profiles

WINS = "challenges_won"


def register(registry: Registry, locale: str = "en") -> None:
    registry.add(
        CommandSpec(
            name="me",
            help=render("help.me", locale),
            handler=me,
            params=(
                Param("period", ParamKind.PERIOD, render("help.param.period", locale)),
                Param("at", ParamKind.DATE, render("help.param.at", locale)),
            ),
        )
    )


def me(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    you = caller(command)
    period = Period(command.args.get("period") or ctx.program.leaderboard.default_period)
    at: date = command.args.get("at") or ctx.today()
    standing = profiles.standing(ctx.db, ctx.program, you.person_id, period=period, at=at)
    window = formats.window(period, standing.start, standing.end, locale)
    person = people.get(ctx.db, you.person_id)
    public = person.public_boards if person else True
    items = [
        (
            render("me.field.period_points", locale, window=window),
            amount_text(standing.period_total, locale),
        )
    ]
    if period is not Period.ALL:  # for `all` the period's points are the all-time points
        items.append((render("me.field.total_points", locale), amount_text(standing.balance, locale)))
    if person is None or person.role == "agent":  # boards rank agents only
        items.append((render("me.field.rank", locale), rank_text(standing, window, locale)))
    curve = ctx.program.levels.xp_curve
    level = level_of(standing.balance, curve.base, curve.exponent)
    items.append(
        (
            render("me.field.level", locale),
            render(
                "me.level_top" if level.top else "me.level",
                locale,
                level=level.level,
                xp=formats.hundredths(level.xp),
                to_next=formats.hundredths(level.to_next),
                next=level.level + 1,
            ),
        )
    )
    coins = coins_earned(standing.balance, ctx.program.coins.per_point)
    items.append(
        (render("me.field.coins", locale), render("me.coins", locale, coins=formats.hundredths(coins)))
    )
    items += _badge_fields(ctx, you.person_id, at, locale)
    items.append(
        (
            render("me.field.boards", locale),
            render("me.boards.shown" if public else "me.boards.hidden", locale),
        )
    )
    fields = Fields(tuple(items))
    parts: list[Segment] = [fields]
    standings = profiles.kpis(ctx.db, ctx.program, you.person_id, standing.start, standing.end)
    if standings:
        parts.append(
            Table(
                tuple(
                    render(f"me.column.{c}", locale) for c in ("kpi", "value", "samples", "target", "status")
                ),
                tuple(_kpi_row(kpi, locale) for kpi in standings),
                ("left", "right", "right", "right", "left"),
            )
        )
    else:
        parts.append(Text(render("me.no_kpis", locale)))
    return [private(*parts, title=render("me.title", locale, name=you.display_name, window=window))]


def _kpi_row(kpi: profiles.KpiStanding, locale: str) -> tuple[str, ...]:
    unit = formats.unit_of(kpi.metric)
    arrow = render(f"me.better.{kpi.better}", locale)
    label = f"{formats.metric_label(kpi.metric, locale)} {arrow}"
    value = "–" if kpi.value is None else formats.value(unit, kpi.value)
    target = "–" if kpi.target is None else formats.value(unit, kpi.target)
    if kpi.value is None:
        status = render("me.status.no_data", locale)
    elif not kpi.eligible:
        status = render(
            "me.status.too_few", locale, needed=formats.samples(kpi.metric, kpi.min_samples, locale)
        )
    elif kpi.on_target is None:
        status = ""
    else:
        status = render("me.status.on_target" if kpi.on_target else "me.status.off_target", locale)
    return label, value, formats.samples(kpi.metric, kpi.samples, locale), target, status


def _badge_fields(ctx: HandlerContext, person_id: int, at: date, locale: str) -> list[tuple[str, str]]:
    """Badges earned (with the latest), every streak under way and challenges won, when there are any; all
    as they stood on business day `at`."""
    earned = badges.earned(ctx.db, person_id, until=at)
    wins = challenges.wins(ctx.db, person_id)
    if not ctx.program.badges and not earned and not wins:
        return []
    if earned:
        latest = earned[-1]
        label = badge_label(str(latest.inputs.get("name") or latest.badge), latest.tier, locale)
        summary = render("badges.me.earned", locale, count=len(earned), latest=label)
    else:
        summary = render("badges.me.none", locale)
    items = [(render("badges.me.field", locale), summary)]
    standings = badges.standings(ctx.db, ctx.program, person_id, at)
    items += _wins_field(ctx, standings, wins, locale)
    streaks = [item for item in standings if item.kind == "streak"]
    if streaks:
        running = [_streak_text(item, locale) for item in streaks if item.current]
        text = render("common.comma", locale).join(running) or render("badges.me.no_streaks", locale)
        items.append((render("badges.me.streaks", locale), text))
    return items


def _streak_text(item: Progress, locale: str) -> str:
    """`CSAT streak 2 of 3 days`: the run and the next tier's goal; without one, why there is none."""
    if item.goal is not None:
        return render(
            "badges.me.streak",
            locale,
            name=badge_label(item.name, item.tier or "", locale),
            current=int(item.current or 0),
            goal=int(item.goal),
        )
    every_tier = bool(item.tiers) and set(item.tiers) <= set(item.earned)
    return render(
        "badges.me.streak_done" if every_tier else "badges.me.streak_running",
        locale,
        name=badge_label(item.name, "", locale),
        current=int(item.current or 0),
    )


def _wins_field(
    ctx: HandlerContext, standings: list[Progress], wins: int, locale: str
) -> list[tuple[str, str]]:
    """Challenges won: all time, or as the program's challenges-won badges count them, with the next tier."""
    counted = {spec.id for spec in ctx.program.badges if isinstance(spec, CountBadge) and spec.of == WINS}
    toward = [item for item in standings if item.badge in counted]
    if not toward and not wins:
        return []
    texts = [
        render(
            "badges.me.wins_next",
            locale,
            count=int(item.current or 0),
            name=badge_label(item.name, item.tier or "", locale),
            goal=int(item.goal),
        )
        for item in toward
        if item.goal is not None
    ]
    shown = render("common.comma", locale).join(texts) or str(wins)
    return [(render("badges.me.wins", locale), shown)]
