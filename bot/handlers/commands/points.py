"""`/points [@who] [why] [date]`: balance, rank and breakdown by rule, or the reason for each change."""

from __future__ import annotations

from datetime import date

from bot.handlers.access import caller, require_view
from bot.handlers.context import HandlerContext
from bot.handlers.contract import (
    Command,
    Fields,
    Message,
    Param,
    ParamKind,
    PersonRef,
    Segment,
    Table,
    Text,
    UserText,
)
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import private
from bot.messages import USER_TEXT_TEMPLATES, explain, formats, render
from bot.scoring.periods import Period, day_span
from bot.services import badges, people, profiles, wallet


def register(registry: Registry, locale: str = "en") -> None:
    registry.add(
        CommandSpec(
            name="points",
            help=render("help.points", locale),
            handler=points,
            params=(
                Param("who", ParamKind.PERSON, render("help.param.who", locale)),
                Param("why", ParamKind.CHOICE, render("help.param.why", locale), choices=("why",)),
                Param("at", ParamKind.DATE, render("help.param.points_at", locale)),
            ),
        )
    )


def points(command: Command, ctx: HandlerContext) -> list[Message]:
    me = caller(command)
    target: PersonRef = command.args.get("who") or me
    given: date | None = command.args.get("at")
    today = ctx.today()
    require_view(ctx, command, target, given or today)
    if command.args.get("why"):
        return [why(ctx, target, given, command.locale)]
    period = Period(ctx.program.leaderboard.default_period)
    standing = profiles.standing(ctx.db, ctx.program, target.person_id, period=period, at=given or today)
    person = people.get(ctx.db, target.person_id)
    ranked = person is None or person.role == "agent"
    return [summary(standing, target, today, command.locale, ranked=ranked)]


def summary(
    standing: profiles.PointsStanding, target: PersonRef, today: date, locale: str, *, ranked: bool = True
) -> Message:
    """Balance, rank (agents only: `ranked` False leaves it out), the day's and the period's points."""
    window = formats.window(standing.period, standing.start, standing.end, locale)
    day = render("points.today", locale) if standing.day == today else standing.day.isoformat()
    current = standing.start <= today <= standing.end
    period = render(f"points.this.{standing.period.value}", locale) if current else window
    items = [(render("points.field.balance", locale), amount_text(standing.balance, locale))]
    if ranked:
        items.append((render("points.field.rank", locale), rank_text(standing, window, locale)))
    items += [
        (day, amount_text(standing.day_total, locale)),
        (period, amount_text(standing.period_total, locale)),
    ]
    fields = Fields(tuple(items))
    parts: list[Segment] = [fields]
    if standing.period_rules:
        rows = tuple(
            (rule, formats.hundredths(standing.day_rules.get(rule, 0)), formats.hundredths(amount))
            for rule, amount in standing.period_rules.items()
        )
        parts.append(
            Table((render("points.column.rule", locale), day, period), rows, ("left", "right", "right"))
        )
    else:
        parts.append(Text(render("points.none_in_period", locale, window=window)))
    return private(*parts, title=render("points.title", locale, name=target.display_name))


def why(ctx: HandlerContext, target: PersonRef, day: date | None, locale: str) -> Message:
    """Each ledger change of one business day (the latest with changes unless given), as a sentence."""
    shown = day or profiles.last_change_day(ctx.db, target.person_id, ctx.today())
    title = render(
        "points.why.title", locale, name=target.display_name, day=(shown or ctx.today()).isoformat()
    )
    rows = profiles.changes(ctx.db, target.person_id, shown) if shown else []
    earned = badges.earned(ctx.db, target.person_id, day=shown) if shown else []
    taken = badges.revoked(ctx.db, target.person_id, day=shown) if shown else []
    span = day_span(shown, ctx.program.zone, ctx.program.day_start_minutes) if shown else None
    coins = wallet.changes_between(ctx.db, target.person_id, *span) if span else []
    if not rows and not earned and not taken and not coins:
        return private(
            render(
                "points.why.none_on_day" if day else "points.why.none",
                locale,
                day=(day or ctx.today()).isoformat(),
            ),
            title=title,
        )
    inputs = [row.inputs for row in rows] + [coin.inputs for coin in coins]
    givers = {int(i[k]) for i in inputs for k in ("giver", "by") if isinstance(i.get(k), int)}
    names = people.names(ctx.db, givers)
    parts: list[Segment] = []
    for row in rows:
        sentence = explain(row.template, row.inputs, locale, names)
        parts.append(Text(render("points.why.line", locale, amount=formats.signed_hundredths(row.amount))))
        parts.append(UserText(sentence) if row.template in USER_TEXT_TEMPLATES else Text(sentence))
        parts.append(Text("\n"))
    for item in earned:
        parts.append(
            Text(render("badges.explain.line", locale) + explain(item.template, item.inputs, locale))
        )
        parts.append(Text("\n"))
    for gone in taken:
        parts.append(
            Text(render("badges.revoked.line", locale) + explain(gone.template, gone.inputs, locale))
        )
        parts.append(Text("\n"))
    for coin in coins:
        sentence = explain(coin.template, coin.inputs, locale, names)
        parts.append(
            Text(render("explain.coins.line", locale, amount=formats.signed_hundredths(coin.amount)))
        )
        parts.append(UserText(sentence) if coin.template in USER_TEXT_TEMPLATES else Text(sentence))
        parts.append(Text("\n"))
    net = sum(row.amount for row in rows)
    parts.append(Text(render("points.why.net", locale, amount=formats.signed_hundredths(net))))
    return private(*parts, title=title)


def amount_text(amount: int, locale: str) -> str:
    """`42.50 pts`: ledger hundredths with two decimals."""
    return render("points.amount", locale, amount=formats.hundredths(amount))


def rank_text(standing: profiles.PointsStanding, window: str, locale: str) -> str:
    if standing.rank is None:
        return render("points.unranked", locale, window=window)
    return render(
        "points.rank",
        locale,
        rank=formats.ordinal(standing.rank, locale),
        ranked=standing.ranked,
        window=window,
    )
